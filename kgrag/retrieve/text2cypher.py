"""Text-to-Cypher: the LLM writes one read query; the guard bounds or refuses it; arrows
that contradict the schema's patterns are reversed (retrieve/direction.py) and the result is
guarded again; the store EXPLAINs and runs it read-only. An empty result is retried once with
undirected relationships (small models often get directions wrong); a refusal, an error or an
empty result is fed back for a repair (at most `repairs` times, stopping when the LLM repeats
a query). Every attempt, with its direction fixes, goes into the trace.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from kgrag.errors import GraphStoreError, LLMOutputError
from kgrag.llm.structured import invoke_structured
from kgrag.ports import Embedder, GraphStore
from kgrag.prompts import Prompts
from kgrag.retrieve.direction import fix_directions
from kgrag.retrieve.guard import CypherRejected, guard_cypher
from kgrag.schema import GraphSchema
from kgrag.store import cypher as q
from kgrag.types import LinkedEntity

EXAMPLES_IN_PROMPT = 3
_DIRECTED = re.compile(r"<-\[|\]->")


def _undirected(query: str) -> str:
    """The same pattern with every relationship undirected (a direction-agnostic retry)."""
    return query.replace("<-[", "-[").replace("]->", "]-")


class CypherQuery(BaseModel):
    """What the LLM must return (JSON schema-constrained)."""

    cypher: str = Field(description="One read-only Cypher query.")


class CypherAttempt(BaseModel):
    query: str
    error: str | None = None  # refusal or server error; None when it ran
    rows: int = 0
    fixes: list[str] = []  # relationship directions reversed to match the schema


class CypherResult(BaseModel):
    query: str | None = None  # the query whose rows are used
    rows: list[dict[str, Any]] = []
    attempts: list[CypherAttempt] = []
    seconds: float = 0.0


class CypherExamples:
    """Curated question -> Cypher pairs (prompts/cypher_examples.yaml), picked by similarity."""

    def __init__(self, path: Path, embedder: Embedder) -> None:
        self.items: list[dict[str, str]] = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        self.embedder = embedder
        self._vectors: np.ndarray | None = None

    def closest(self, question: str, k: int = EXAMPLES_IN_PROMPT) -> list[dict[str, str]]:
        if not self.items:
            return []
        if self._vectors is None:
            self._vectors = self.embedder.embed([i["question"] for i in self.items])
        scores = self._vectors @ self.embedder.embed([question])[0]
        return [self.items[i] for i in np.argsort(-scores)[:k]]


@dataclass
class TextToCypher:
    llm: BaseChatModel
    store: GraphStore
    schema: GraphSchema
    prompts: Prompts
    examples: CypherExamples
    max_rows: int
    timeout_s: float
    repairs: int

    def run(self, question: str, linked: list[LinkedEntity]) -> CypherResult:
        start = time.perf_counter()
        result = CypherResult()
        system = SystemMessage(
            self.prompts.render(
                "cypher_system", schema=self._schema_text(), examples=self._examples(question)
            )
        )
        entities = "\n".join(f"- {e.entity_id}: {e.name}" for e in linked) or "(none found)"
        feedback = ""
        for _ in range(self.repairs + 1):
            user = self.prompts.render(
                "cypher_user", question=question, entities=entities, feedback=feedback
            )
            try:
                reply = invoke_structured(self.llm, [system, HumanMessage(user)], CypherQuery)
            except LLMOutputError as exc:
                result.attempts.append(CypherAttempt(query="", error=str(exc)))
                break
            generated: CypherQuery = reply.value  # type: ignore[assignment]
            if any(a.query.strip() == generated.cypher.strip() for a in result.attempts):
                break  # the LLM repeats itself: asking again will not help
            attempt, rows = self._attempt(generated.cypher)
            result.attempts.append(attempt)
            if attempt.error is None and not rows and _DIRECTED.search(attempt.query):
                attempt, rows = self._attempt(_undirected(attempt.query))  # direction unsure
                result.attempts.append(attempt)
            if rows:
                result.query, result.rows = attempt.query, rows
                break
            problem = attempt.error or "the query returned no rows"
            feedback = (
                f"\nYour previous query:\n{generated.cypher}\nfailed: {problem}\n"
                "Write a corrected query (check labels, relationship types and directions).\n"
            )
        result.seconds = round(time.perf_counter() - start, 3)
        return result

    def _attempt(self, generated: str) -> tuple[CypherAttempt, list[dict[str, Any]]]:
        fixes: list[str] = []
        try:
            query = guard_cypher(generated, max_rows=self.max_rows)
            fixed, fixes = fix_directions(query, self.schema)
            if fixes:
                query = guard_cypher(fixed, max_rows=self.max_rows)
        except CypherRejected as exc:
            return CypherAttempt(query=exc.query, error=exc.reason, fixes=fixes), []
        try:
            rows = self.store.run_guarded_read(query, self.timeout_s)
        except GraphStoreError as exc:
            return CypherAttempt(query=query, error=str(exc), fixes=fixes), []
        return CypherAttempt(query=query, rows=len(rows), fixes=fixes), rows

    def _schema_text(self) -> str:
        """The schema file plus live counts from plain Cypher (no APOC)."""
        nodes = {r["type"]: r["n"] for r in self.store.run_read(q.ENTITY_TYPE_COUNTS)}
        rels = {r["type"]: r["n"] for r in self.store.run_read(q.RELATIONSHIP_TYPE_COUNTS)}
        counts = ", ".join(f"{k} {v}" for k, v in {**nodes, **rels}.items()) or "empty graph"
        return f"{self.schema.to_prompt()}\nIn the graph now: {counts}"

    def _examples(self, question: str) -> str:
        return "\n\n".join(
            f"Question: {e['question']}\nCypher: {e['cypher']}"
            for e in self.examples.closest(question)
        )
