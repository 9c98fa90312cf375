"""KGE end to end on the real embedded ArcadeDB: train on the stored triples, rank them for a
question, predict links kept apart from facts, and report a model the graph has outgrown."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kgrag.ingest.pipeline import IngestPipeline
from kgrag.kge.model import KgeModel
from kgrag.kge.train import KgeConfig
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from kgrag.types import Chunk, Document, Edge, Entity, Page, Relation, ResolvedGraph
from tests.integration.test_index_rebuild import _runtime
from tests.kge_world import world

pytestmark = pytest.mark.integration


def _as_document(doc_id: str, edges: list[Edge]) -> tuple[Document, list[Chunk], ResolvedGraph]:
    """One page and chunk per edge ("A born in B."), its entities and relationships."""
    texts = [f"{e.head_name} {e.relation.lower().replace('_', ' ')} {e.tail_name}." for e in edges]
    doc = Document(
        id=doc_id,
        title=doc_id,
        source=f"{doc_id}.txt",
        sha256=doc_id.ljust(64, "0"),
        pages=[Page(number=i + 1, text=t) for i, t in enumerate(texts)],
    )
    chunks = [
        Chunk(
            id=f"{doc_id}:p{i + 1}:0", document_id=doc_id, page=i + 1, start=0, end=len(t), text=t
        )
        for i, t in enumerate(texts)
    ]
    entities: dict[str, Entity] = {}
    for e, chunk in zip(edges, chunks, strict=True):
        for eid, name, etype in (
            (e.head, e.head_name, e.head_type),
            (e.tail, e.tail_name, e.tail_type),
        ):
            entity = entities.setdefault(eid, Entity(id=eid, name=name, type=etype))
            entity.chunk_ids.append(chunk.id)
    relations = [
        Relation(source_id=e.head, type=e.relation, target_id=e.tail, chunk_id=c.id)
        for e, c in zip(edges, chunks, strict=True)
    ]
    return doc, chunks, ResolvedGraph(entities=list(entities.values()), relations=relations)


def _kgrag(args: list[str], settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KGRAG_DATA_DIR": str(settings.data_dir), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "kgrag.cli.main", "kge", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_kge_trains_on_the_graph_ranks_and_predicts(
    graph_store: Neo4jGraphStore, graph_settings: Settings
):
    edges, held_out = world()
    graph_store.clear()
    graph_store.write_document(*_as_document("world", edges))
    stored = graph_store.edges()
    assert sorted(e.model_dump_json() for e in stored) == sorted(e.model_dump_json() for e in edges)

    rt = _runtime(graph_settings, graph_store)
    IngestPipeline(rt).indexes.rebuild()
    rt.set_kge_model(KgeModel.train(stored, KgeConfig(dim=64, epochs=100)))

    person = held_out[2]
    context = rt.retriever(["kge"]).retrieve(f"Which country is {person.head_name} a citizen of?")
    assert person.head in [e.entity_id for e in context.linked]
    kge = context.trace["kge"]
    assert (kge["model"], kge["stale"], kge["unseen"]) == ("RotatE", False, 0)
    assert 0 < len(context.triples) <= graph_settings.kge_top_k
    assert all(t.plausibility is not None and not t.inferred for t in context.triples)
    assert context.evidence, "the kept triples' chunks are the evidence"
    known = {(e.head, e.relation, e.tail) for e in edges}
    assert context.inferred and all(t.inferred for t in context.inferred)
    assert not {(t.subject_id, t.predicate, t.object_id) for t in context.inferred} & known

    status = _kgrag(["status"], graph_settings)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "RotatE" in status.stdout and "up to date" in status.stdout

    predict = _kgrag(["predict", person.head_name, "-k", "3"], graph_settings)
    assert predict.returncode == 0, predict.stdout + predict.stderr
    assert "inferred links" in predict.stdout and person.head_name in predict.stdout

    graph_store.write_document(*_as_document("more", held_out[:2]))
    status = _kgrag(["status"], graph_settings)
    assert status.returncode == 1
    assert "2 triple(s) added and 0 removed" in status.stdout

    retrained = _kgrag(["train", "--epochs", "5", "--dim", "16"], graph_settings)
    assert retrained.returncode == 0, retrained.stdout + retrained.stderr
    assert f"on {len(edges) + 2} triples" in retrained.stdout
    assert _kgrag(["status"], graph_settings).returncode == 0
