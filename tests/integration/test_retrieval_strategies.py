"""Retrieval on the real embedded ArcadeDB: relationship types the question asks about steer
the graph strategy, and a failing strategy (the LLM behind `cypher` is down) leaves the
others answering, with the failure in the trace."""

from __future__ import annotations

import pytest

from kgrag.ingest.pipeline import IngestPipeline
from kgrag.procs import free_port
from kgrag.prompts import Prompts
from kgrag.runtime import Runtime
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from tests.integration.test_graph_store import C1, D1, G1
from tests.integration.test_index_rebuild import _runtime

pytestmark = pytest.mark.integration


@pytest.fixture
def runtime(graph_store: Neo4jGraphStore, graph_settings: Settings) -> Runtime:
    graph_store.clear()
    graph_store.write_document(D1, C1, G1)
    rt = _runtime(graph_settings, graph_store)
    IngestPipeline(rt).indexes.rebuild()
    return rt


def test_asked_relationship_type_comes_first(runtime: Runtime):
    context = runtime.retriever(["graph"]).retrieve("Where is Acme headquartered?")
    assert [r.type for r in context.relations][:1] == ["LOCATED_IN"]
    assert context.triples[0].predicate == "LOCATED_IN"
    assert context.evidence[0].chunk_id == "doc1:p2:0"  # the chunk stating it ranks first
    assert context.trace["relations"][0]["type"] == "LOCATED_IN"


def test_relationship_question_without_a_known_entity_uses_triples_of_that_type(
    runtime: Runtime,
):
    context = runtime.retriever(["graph"]).retrieve("Where are the offices located?")
    assert context.linked == []
    assert [(t.subject, t.predicate, t.object) for t in context.triples] == [
        ("Acme", "LOCATED_IN", "Berlin")
    ]
    assert [e.chunk_id for e in context.evidence] == ["doc1:p2:0"]


def test_unreachable_llm_fails_only_the_cypher_strategy(
    graph_store: Neo4jGraphStore, graph_settings: Settings, runtime: Runtime
):
    settings = graph_settings.model_copy(update={"llm_max_retries": 0, "llm_timeout_s": 5.0})
    down = Runtime(
        settings,
        GraphSchema.from_file(settings.schema_path),
        Prompts.load(settings.prompts_dir),
        graph_store,
        llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
    )
    context = down.retriever(["cypher", "graph", "vector"]).retrieve("Where does Ann work?")
    assert "LLM unavailable" in context.trace["failed"]["cypher"]
    assert "cypher" not in context.trace
    assert any(t.predicate == "WORKS_AT" for t in context.triples)
    assert context.evidence
