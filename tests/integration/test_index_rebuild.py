"""Lost or damaged vector indexes: refused with the way out, then rebuilt from the graph."""

from __future__ import annotations

import pytest

from kgrag.errors import IndexCorruptError
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.prompts import Prompts
from kgrag.retrieve.link import entity_index_key
from kgrag.runtime import Runtime
from kgrag.schema import GraphSchema
from kgrag.sentence_vectors import sentence_texts
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from tests.integration.test_graph_store import C1, D1, G1

pytestmark = pytest.mark.integration


def _runtime(settings: Settings, store: Neo4jGraphStore) -> Runtime:
    return Runtime(
        settings,
        GraphSchema.from_file(settings.schema_path),
        Prompts.load(settings.prompts_dir),
        store,
        llm_base_url=None,
    )


def test_damaged_indexes_are_rebuilt_from_the_graph(
    graph_store: Neo4jGraphStore, graph_settings: Settings
):
    graph_store.clear()
    graph_store.write_document(D1, C1, G1)
    rt = _runtime(graph_settings, graph_store)
    IngestPipeline(rt).indexes.rebuild()
    query = rt.embedder.embed(["Where is Acme located?"])
    expected = rt.index("chunks").search(query, 1)[0][0][0]
    assert sorted(rt.index("chunks").ids) == sorted(c.id for c in C1)
    names = {entity_index_key(e.id, n) for e in G1.entities for n in (e.name, *e.aliases)}
    assert set(rt.index("entities").ids) == names
    sentences = {c.id: len(sentence_texts(c.text)) for c in C1}
    assert _sentence_rows(rt) == sentences

    vectors = graph_settings.data_dir / "vectors"
    (vectors / "chunks.faiss").write_bytes(b"\x00garbage")
    with pytest.raises(IndexCorruptError, match="kgrag index rebuild"):
        _runtime(graph_settings, graph_store).index("chunks")

    fresh = _runtime(graph_settings, graph_store)
    progress: list[tuple[int, int]] = []
    IngestPipeline(fresh).indexes.rebuild(lambda done, total: progress.append((done, total)))
    assert progress[-1] == (len(C1), len(C1))
    reopened = _runtime(graph_settings, graph_store)  # from the files just written
    assert sorted(reopened.index("chunks").ids) == sorted(c.id for c in C1)
    assert reopened.index("chunks").search(query, 1)[0][0][0] == expected
    assert set(reopened.index("entities").ids) == names
    assert _sentence_rows(reopened) == sentences
    assert graph_store.counts()["chunks"] == len(C1)  # the graph was only read

    IngestPipeline(reopened).indexes.remove_documents([D1.id])
    assert _sentence_rows(reopened) == {}


def _sentence_rows(rt: Runtime) -> dict[str, int]:
    """Stored sentence vectors per chunk of C1."""
    return {k: len(v) for k, v in rt.sentence_vectors.get([c.id for c in C1]).items()}


def test_indexing_a_document_replaces_its_sentence_vectors(
    graph_store: Neo4jGraphStore, graph_settings: Settings
):
    graph_store.clear()
    graph_store.write_document(D1, C1, G1)
    rt = _runtime(graph_settings, graph_store)
    indexes = IngestPipeline(rt).indexes
    indexes.index_chunks(D1.id, C1)
    assert _sentence_rows(rt) == {c.id: len(sentence_texts(c.text)) for c in C1}
    indexes.index_chunks(D1.id, C1[:1])  # re-chunked: the other chunks' rows go
    assert _sentence_rows(rt) == {C1[0].id: len(sentence_texts(C1[0].text))}


def test_a_documents_entities_sync_alone_and_all_sync_on_request(
    graph_store: Neo4jGraphStore, graph_settings: Settings
):
    graph_store.clear()
    graph_store.write_document(D1, C1, G1)
    rt = _runtime(graph_settings, graph_store)
    indexes = IngestPipeline(rt).indexes
    names = {entity_index_key(e.id, n) for e in G1.entities for n in (e.name, *e.aliases)}
    assert {(e.id, e.name, tuple(e.aliases)) for e in graph_store.entity_names()} == {
        (e.id, e.name, tuple(e.aliases)) for e in G1.entities
    }
    stale = [entity_index_key("ann", "Ann Old"), entity_index_key("ghost", "Ghost")]
    rt.reset_index("entities").add(stale, rt.embedder.embed(["Ann Old", "Ghost"]))

    indexes.index_chunks(D1.id, C1, ["ann", "acme"])  # what the document's write touched
    keys = set(rt.index("entities").ids)
    assert keys - names == {entity_index_key("ghost", "Ghost")}  # out of scope: kept
    assert names - keys == {entity_index_key("berlin", "Berlin")}  # not asked for
    indexes.sync_entities()
    assert set(rt.index("entities").ids) == names
