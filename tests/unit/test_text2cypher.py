"""Text-to-Cypher retry logic with a scripted LLM and a recording store (no servers)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kgrag.errors import GraphStoreError
from kgrag.prompts import Prompts
from kgrag.retrieve.text2cypher import CypherExamples, TextToCypher
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT
from kgrag.types import LinkedEntity
from tests.unit.fake_openai import ScriptedOpenAI

SCHEMA = GraphSchema.from_file(REPO_ROOT / "schemas" / "default.yaml")
PROMPTS = Prompts.load(REPO_ROOT / "prompts")
LINKED = [LinkedEntity(mention="Acme", entity_id="acme", name="Acme", score=1.0, method="exact")]


class RecordingStore:
    """Answers guarded reads from a table; anything else is a server error."""

    def __init__(self, answers: dict[str, list[dict]]) -> None:
        self.answers = answers
        self.ran: list[str] = []

    def run_guarded_read(self, query: str, timeout_s: float) -> list[dict]:
        self.ran.append(query)
        if query not in self.answers:
            raise GraphStoreError("Neo.ClientError.Statement.SyntaxError: bad query")
        return self.answers[query]

    def run_read(self, query: str, params=None) -> list[dict]:
        return [{"type": "Person", "n": 2}]


class OneHotEmbedder:
    def embed(self, texts: list[str]) -> np.ndarray:
        return np.array([[1.0, float(len(t) % 3)] for t in texts], dtype="float32")


def _t2c(replies: list[str], store: RecordingStore, repairs: int = 2):
    llm = ScriptedOpenAI([json.dumps({"cypher": r}) for r in replies])
    examples = CypherExamples(REPO_ROOT / "prompts" / "cypher_examples.yaml", OneHotEmbedder())
    t2c = TextToCypher(
        llm.chat_model(), store, SCHEMA, PROMPTS, examples,
        max_rows=20, timeout_s=5.0, repairs=repairs,
    )  # fmt: skip
    return t2c, llm


GOOD = "MATCH (p:Person)-[:FOUNDED]->(:Entity {id: 'acme'}) RETURN p.name AS founder"
GOOD_RUN = GOOD + "\nLIMIT 20"


def test_a_refused_query_is_fed_back_and_the_repair_is_used():
    store = RecordingStore({GOOD_RUN: [{"founder": "Ann"}]})
    t2c, llm = _t2c(["MATCH (n) DETACH DELETE n", GOOD], store)
    result = t2c.run("Who founded Acme?", LINKED)
    assert result.rows == [{"founder": "Ann"}] and result.query == GOOD_RUN
    assert [a.error for a in result.attempts][0].startswith("DETACH is not allowed")
    assert store.ran == [GOOD_RUN]  # the refused query never reached the store
    feedback = llm.requests[1]["messages"][-1]["content"]
    assert "DETACH is not allowed" in feedback and "acme: Acme" in feedback


def test_an_empty_directed_result_is_retried_undirected_without_asking_again():
    directed = "MATCH (o:Entity {id: 'acme'})-[:FOUNDED]->(p:Person) RETURN p.name LIMIT 5"
    undirected = directed.replace("]->", "]-")
    store = RecordingStore({directed: [], undirected: [{"p.name": "Ann"}]})
    t2c, llm = _t2c([directed], store)
    result = t2c.run("Who founded Acme?", LINKED)
    assert result.query == undirected and result.rows == [{"p.name": "Ann"}]
    assert len(llm.requests) == 1


def test_server_errors_are_repaired_and_a_repeated_query_stops_the_loop():
    broken = "MATCH (p:Person RETURN p.name LIMIT 3"
    store = RecordingStore({})
    t2c, llm = _t2c(["MATCH (p:Person RETURN p.name LIMIT 3", broken, GOOD], store)
    result = t2c.run("Who founded Acme?", LINKED)
    assert result.rows == [] and result.query is None
    assert len(result.attempts) == 1 and "SyntaxError" in result.attempts[0].error
    assert len(llm.requests) == 2  # the repeat was not run again, and no third request


def test_unparseable_llm_output_ends_the_strategy_with_a_reason():
    llm = ScriptedOpenAI(["this is not json at all"])
    examples = CypherExamples(
        Path(REPO_ROOT / "prompts" / "cypher_examples.yaml"), OneHotEmbedder()
    )
    t2c = TextToCypher(
        llm.chat_model(), RecordingStore({}), SCHEMA, PROMPTS, examples,
        max_rows=20, timeout_s=5.0, repairs=2,
    )  # fmt: skip
    result = t2c.run("Who founded Acme?", LINKED)
    assert result.rows == [] and "not a valid CypherQuery" in result.attempts[0].error


def test_a_direction_the_schema_forbids_is_reversed_before_the_query_runs():
    written = "MATCH (o:Organization {id: 'acme'})-[:FOUNDED]->(p:Person) RETURN p.name LIMIT 5"
    reversed_ = written.replace(")-[:FOUNDED]->(", ")<-[:FOUNDED]-(")
    store = RecordingStore({reversed_: [{"p.name": "Ann"}]})
    t2c, llm = _t2c([written], store)
    result = t2c.run("Who founded Acme?", LINKED)
    assert store.ran == [reversed_] and result.rows == [{"p.name": "Ann"}]
    assert result.attempts[0].fixes == [
        "FOUNDED: (Organization)->(Person) reversed to match schema pattern "
        "(Person, FOUNDED, Organization)"
    ]
    assert len(llm.requests) == 1
