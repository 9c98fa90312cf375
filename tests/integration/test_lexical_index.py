"""The lexical (BM25) indexes stay in step with FAISS through rebuild and document delete on
the real embedded store, and Korean questions link and retrieve through them."""

from __future__ import annotations

import pytest

from kgrag.ingest.pipeline import IngestPipeline
from kgrag.store.neo4j_store import Neo4jGraphStore
from kgrag.types import Chunk, Document, Entity, Page, ResolvedGraph
from tests.integration.test_graph_store import C1, C2, D1, D2, G1, G2
from tests.integration.test_index_rebuild import _runtime

pytestmark = pytest.mark.integration

KO_TEXT = "한빛제약은 2019년 청주에 백신 공장을 열었다."
D3 = Document(
    id="doc3", title="한빛제약", source="hanbit.txt", sha256="c" * 64,
    pages=[Page(number=1, text=KO_TEXT)],
)  # fmt: skip
C3 = [Chunk(id="doc3:p1:0", document_id="doc3", page=1, start=0, end=len(KO_TEXT), text=KO_TEXT)]
G3 = ResolvedGraph(
    entities=[
        Entity(
            id="hanbit",
            name="한빛제약",
            type="Organization",
            aliases=["Hanbit Pharma"],
            chunk_ids=["doc3:p1:0"],
        )  # fmt: skip
    ],
    relations=[],
)


def _in_step(rt) -> None:
    for name in ("chunks", "entities"):
        assert sorted(rt.lexical(name).ids) == sorted(rt.index(name).ids)


def test_lexical_indexes_follow_rebuild_and_delete(graph_store: Neo4jGraphStore, graph_settings):
    graph_store.clear()
    for doc, chunks, graph in ((D1, C1, G1), (D2, C2, G2), (D3, C3, G3)):
        graph_store.write_document(doc, chunks, graph)
    rt = _runtime(graph_settings, graph_store)
    pipeline = IngestPipeline(rt)
    pipeline.indexes.rebuild()
    _in_step(rt)
    assert sorted(rt.lexical("chunks").ids) == sorted(c.id for c in C1 + C2 + C3)

    pipeline.indexes.remove_documents([D2.id])
    _in_step(rt)
    assert not any(i.startswith("doc2:") for i in rt.lexical("chunks").ids)
    reopened = _runtime(graph_settings, graph_store)  # from the files just written
    _in_step(reopened)
    assert len(reopened.lexical("chunks")) == len(C1 + C3)

    pipeline.indexes.rebuild()  # a second rebuild leaves no stale rows behind
    _in_step(rt)
    assert len(rt.lexical("chunks")) == len(C1 + C3)


def test_korean_question_links_and_retrieves_lexically(
    graph_store: Neo4jGraphStore, graph_settings
):
    graph_store.clear()
    graph_store.write_document(D1, C1, G1)
    graph_store.write_document(D3, C3, G3)
    rt = _runtime(graph_settings, graph_store)
    IngestPipeline(rt).indexes.rebuild()

    context = rt.retriever(["graph", "vector"]).retrieve("한빛제약의 공장은 어디에 있나요?")
    assert [(e.entity_id, e.method) for e in context.linked] == [("hanbit", "lexical")]
    assert context.evidence[0].chunk_id == "doc3:p1:0"
    assert context.trace["vector_mode"] == "hybrid"
