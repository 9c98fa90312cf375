"""Retrieval on the real embedded ArcadeDB: sentence windows with exact offsets, and the context
budget that whole chunks overflow (no LLM needed)."""

from __future__ import annotations

import pytest

from kgrag.ingest.pipeline import IngestPipeline
from kgrag.retrieve.budget import answer_budget
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from kgrag.types import Chunk, Document, Entity, Page, Relation, ResolvedGraph
from tests.integration.test_index_rebuild import _runtime

pytestmark = pytest.mark.integration

FILLER = (
    "The canteen serves lunch at noon. Parking is free on weekends. The library opens at nine. "
    "Visitors must register at the gate. The fire drill is held every March. Printers are on "
    "each floor. The lifts are serviced twice a year. Bicycles go in the north shed. "
)
LAB = (
    "The annual report covers the northern region. Rainfall was above average in spring. "
    "Several roads were repaired in May. Ann Lee works at the research lab of Acme. "
    "She leads the sensor team there. " + FILLER * 2
).strip()
HQ = (
    "Founded decades ago, the company grew slowly. Its first product was a rain gauge. "
    "Today ACME has its headquarters in Berlin. The building has twelve floors. " + FILLER * 2
).strip()
DOC = Document(
    id="win",
    title="Acme notes",
    source="acme.txt",
    sha256="c" * 64,
    pages=[Page(number=1, text=LAB), Page(number=2, text=HQ)],
)
CHUNKS = [
    Chunk(id=f"win:p{n}:0", document_id="win", page=n, start=0, end=len(t), text=t)
    for n, t in ((1, LAB), (2, HQ))
]
GRAPH = ResolvedGraph(
    entities=[
        Entity(id="ann", name="Ann Lee", type="Person", chunk_ids=["win:p1:0"]),
        Entity(
            id="acme",
            name="Acme",
            type="Organization",
            aliases=["ACME"],
            chunk_ids=["win:p1:0", "win:p2:0"],
        ),
        Entity(id="berlin", name="Berlin", type="City", chunk_ids=["win:p2:0"]),
    ],
    relations=[
        Relation(source_id="ann", type="WORKS_AT", target_id="acme", chunk_id="win:p1:0"),
        Relation(source_id="acme", type="LOCATED_IN", target_id="berlin", chunk_id="win:p2:0"),
    ],
)
QUESTION = "In which city does Ann Lee work?"


@pytest.fixture
def settings(graph_settings: Settings) -> Settings:
    """A small answer context (1024 tokens, 256 for the answer): two whole chunks overflow it."""
    return graph_settings.model_copy(update={"llm_context": 1024, "llm_max_tokens": 256})


def _retrieve(store: Neo4jGraphStore, settings: Settings, window: int | None):
    rt = _runtime(settings.model_copy(update={"sentence_window": window}), store)
    IngestPipeline(rt).indexes.rebuild()
    return rt.retriever(["graph"]).retrieve(QUESTION)


def test_windows_around_the_named_sentences_with_exact_offsets(
    graph_store: Neo4jGraphStore, settings: Settings
):
    graph_store.clear()
    graph_store.write_document(DOC, CHUNKS, GRAPH)
    context = _retrieve(graph_store, settings, 1)

    texts = {c.id: c.text for c in CHUNKS}
    assert {(e.chunk_id, e.page, e.document_title) for e in context.evidence} == {
        ("win:p1:0", 1, "Acme notes"),
        ("win:p2:0", 2, "Acme notes"),
    }
    for e in context.evidence:
        assert texts[e.chunk_id][e.start : e.end] == e.text
    by_chunk = {e.chunk_id: e.text for e in context.evidence}
    assert by_chunk["win:p1:0"] == (
        "Several roads were repaired in May. Ann Lee works at the research lab of Acme. "
        "She leads the sensor team there."
    )
    assert by_chunk["win:p2:0"] == (
        "Its first product was a rain gauge. Today ACME has its headquarters in Berlin. "
        "The building has twelve floors."
    )  # found by the alias ACME and the triple's object Berlin
    named = {w["chunk_id"]: w["named"] for w in context.trace["windows"]}
    assert named == {"win:p1:0": [3], "win:p2:0": [2]}
    budget = context.trace["budget"]
    assert budget["dropped"] == [] and budget["estimated_tokens"] <= budget["limit_tokens"]


def test_whole_chunks_overflow_the_budget_and_the_drop_is_traced(
    graph_store: Neo4jGraphStore, settings: Settings
):
    graph_store.clear()
    graph_store.write_document(DOC, CHUNKS, GRAPH)
    context = _retrieve(graph_store, settings, None)

    budget = context.trace["budget"]
    rt = _runtime(settings, graph_store)
    limit = answer_budget(rt.prompts, context_tokens=1024, answer_tokens=256)
    assert budget["limit_tokens"] == limit and budget["estimated_tokens"] <= limit
    assert len(context.evidence) == 1 and context.evidence[0].text in (LAB, HQ)
    (dropped,) = [d for d in budget["dropped"] if d["kind"] == "evidence"]
    kept = context.evidence[0]
    assert dropped["chunk_id"] != kept.chunk_id and dropped["score"] <= kept.score
    whole = {c.id: len(c.text) for c in CHUNKS}[dropped["chunk_id"]]
    assert (dropped["start"], dropped["end"]) == (0, whole)
    assert {t.predicate for t in context.triples} == {"WORKS_AT", "LOCATED_IN"}
