"""Manual entity merge and split on the real embedded graph: exact, reversible, checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kgrag.refine.entity_edits import EntityEditError, EntityEdits
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from kgrag.types import Entity, Relation, ResolvedGraph
from tests.integration.test_graph_store import C1, C2, D1, D2, EMPTY, G1

pytestmark = pytest.mark.integration

# doc2 names the company differently, so resolution left two entities for one company
G2_SPLIT = ResolvedGraph(
    entities=[
        Entity(id="bob", name="Bob", type="Person", chunk_ids=["doc2:p1:0"]),
        Entity(id="ann", name="Ann", type="Person", chunk_ids=["doc2:p1:0"]),
        Entity(id="acme corp", name="Acme Corp", type="Organization", chunk_ids=["doc2:p1:0"]),
    ],
    relations=[
        Relation(source_id="bob", type="WORKS_AT", target_id="acme corp", chunk_id="doc2:p1:0"),
        Relation(source_id="ann", type="WORKS_AT", target_id="acme corp", chunk_id="doc2:p1:0"),
    ],
)
RELATIONS = """MATCH (a:Entity)-[r]->(b:Entity)
RETURN a.id AS source, type(r) AS type, b.id AS target, r.source_chunks AS chunks"""


def _dump(store: Neo4jGraphStore) -> dict:
    return {
        "entities": sorted(
            (e.id, e.name, e.type, tuple(sorted(e.aliases)), tuple(e.chunk_ids))
            for e in store.entities()
        ),
        "relations": sorted(
            (r["source"], r["type"], r["target"], tuple(sorted(r["chunks"])))
            for r in store.run_read(RELATIONS)
        ),
    }


@pytest.fixture
def edits(graph_store: Neo4jGraphStore, tmp_path: Path) -> EntityEdits:
    graph_store.clear()
    assert graph_store.counts() == EMPTY
    graph_store.write_document(D1, C1, G1)
    graph_store.write_document(D2, C2, G2_SPLIT)
    return EntityEdits(graph_store, tmp_path)


def test_merge_moves_relationships_mentions_and_names(edits: EntityEdits):
    store = edits.store
    record = edits.merge("Acme", "acme corp")
    assert [e.id for e in store.entities() if e.type == "Organization"] == ["acme"]
    dump = _dump(store)
    assert ("ann", "WORKS_AT", "acme", ("doc1:p1:0", "doc1:p1:19", "doc2:p1:0")) in dump[
        "relations"
    ]
    assert ("bob", "WORKS_AT", "acme", ("doc2:p1:0",)) in dump["relations"]
    acme = next(e for e in store.entities() if e.id == "acme")
    assert "Acme Corp" in acme.aliases and "doc2:p1:0" in acme.chunk_ids
    assert [r.id for r in edits.history()] == [record.id]


def test_split_restores_the_graph_exactly(edits: EntityEdits):
    before = _dump(edits.store)
    edits.merge("acme", "Acme Corp")
    assert _dump(edits.store) != before
    record = edits.split("Acme Corp")
    assert _dump(edits.store) == before
    assert edits.history()[0].undone and record.drop.entity.id == "acme corp"
    with pytest.raises(EntityEditError, match="no merge to undo"):
        edits.split(record.id)


def test_split_keeps_provenance_added_after_the_merge(edits: EntityEdits):
    edits.merge("acme", "acme corp")
    edits.store.write_document(D2.model_copy(update={"id": "doc3", "sha256": "c" * 64}), [
        c.model_copy(update={"id": "doc3:p1:0", "document_id": "doc3"}) for c in C2
    ], ResolvedGraph(
        entities=[Entity(id="ann", name="Ann", type="Person", chunk_ids=["doc3:p1:0"]),
                  Entity(id="acme", name="Acme", type="Organization", chunk_ids=["doc3:p1:0"])],
        relations=[Relation(source_id="ann", type="WORKS_AT", target_id="acme",
                            chunk_id="doc3:p1:0")],
    ))  # fmt: skip
    edits.split("acme corp")
    dump = _dump(edits.store)
    assert ("ann", "WORKS_AT", "acme", ("doc1:p1:0", "doc1:p1:19", "doc3:p1:0")) in dump[
        "relations"
    ]
    assert ("ann", "WORKS_AT", "acme corp", ("doc2:p1:0",)) in dump["relations"]


def test_refused_merges_change_nothing(edits: EntityEdits):
    before = _dump(edits.store)
    with pytest.raises(EntityEditError, match="is a Organization, Ann a Person"):
        edits.merge("Acme", "Ann")
    with pytest.raises(EntityEditError, match="no entity named 'Globex'"):
        edits.merge("Acme", "Globex")
    with pytest.raises(EntityEditError, match="same entity"):
        edits.merge("Acme", "ACME")
    assert _dump(edits.store) == before and edits.history() == []


def test_cli_merge_split_and_errors(edits: EntityEdits, graph_settings: Settings):
    env = {**os.environ, "KGRAG_DATA_DIR": str(graph_settings.data_dir), "COLUMNS": "200"}

    def kgrag(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kgrag.cli.main", "entities", *args],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    merged = kgrag("merge", "Acme", "Acme Corp")
    assert merged.returncode == 0, merged.stderr
    assert "merged Acme Corp into Acme" in merged.stdout
    assert "Acme Corp" in kgrag("list", "--match", "acme").stdout  # now an alias of Acme
    split = kgrag("split", "Acme Corp")
    assert split.returncode == 0 and "merge" in split.stdout and "undone" in split.stdout
    unknown = kgrag("merge", "Acme", "Globex")
    assert unknown.returncode == 2 and "no entity named 'Globex'" in unknown.stderr
