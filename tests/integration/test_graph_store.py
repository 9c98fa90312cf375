"""The graph store against the real embedded ArcadeDB (started from the arcadedb-embedded wheel)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kgrag.errors import ServiceUnavailableError
from kgrag.procs import free_port
from kgrag.settings import Settings
from kgrag.store import cypher
from kgrag.store.arcadedb import EmbeddedArcadeDB
from kgrag.store.neo4j_store import Neo4jGraphStore, open_graph_store
from kgrag.types import Chunk, Document, Entity, Page, Relation, ResolvedGraph

pytestmark = pytest.mark.integration

D1 = Document(
    id="doc1",
    title="Ann at Acme",
    source="ann.txt",
    sha256="a" * 64,
    pages=[
        Page(number=1, text="Ann works at Acme. Ann joined Acme in 2020."),
        Page(number=2, text="Acme is located in Berlin."),
    ],
)
C1 = [
    Chunk(id="doc1:p1:0", document_id="doc1", page=1, start=0, end=18, text="Ann works at Acme."),
    Chunk(
        id="doc1:p1:19",
        document_id="doc1",
        page=1,
        start=19,
        end=43,
        text="Ann joined Acme in 2020.",
    ),
    Chunk(
        id="doc1:p2:0",
        document_id="doc1",
        page=2,
        start=0,
        end=26,
        text="Acme is located in Berlin.",
    ),
]
G1 = ResolvedGraph(
    entities=[
        Entity(
            id="ann",
            name="Ann",
            type="Person",
            aliases=["Ann A."],
            chunk_ids=["doc1:p1:0", "doc1:p1:19"],
        ),
        Entity(
            id="acme",
            name="Acme",
            type="Organization",
            aliases=["ACME"],
            chunk_ids=["doc1:p1:0", "doc1:p1:19", "doc1:p2:0"],
        ),
        Entity(id="berlin", name="Berlin", type="City", chunk_ids=["doc1:p2:0"]),
    ],
    relations=[
        Relation(
            source_id="ann", type="WORKS_AT", target_id="acme", chunk_id="doc1:p1:0", confidence=0.9
        ),
        Relation(
            source_id="ann",
            type="WORKS_AT",
            target_id="acme",
            chunk_id="doc1:p1:19",
            confidence=0.8,
        ),
        Relation(source_id="acme", type="LOCATED_IN", target_id="berlin", chunk_id="doc1:p2:0"),
    ],
)
D2 = Document(
    id="doc2",
    title="Bob",
    source="bob.txt",
    sha256="b" * 64,
    pages=[Page(number=1, text="Bob and Ann work at Acme Corp.")],
)
C2 = [
    Chunk(
        id="doc2:p1:0",
        document_id="doc2",
        page=1,
        start=0,
        end=30,
        text="Bob and Ann work at Acme Corp.",
    )
]
G2 = ResolvedGraph(
    entities=[
        Entity(id="bob", name="Bob", type="Person", chunk_ids=["doc2:p1:0"]),
        Entity(id="ann", name="Ann", type="Person", chunk_ids=["doc2:p1:0"]),
        Entity(
            id="acme",
            name="Acme",
            type="Organization",
            aliases=["Acme Corp", "ACME"],
            chunk_ids=["doc2:p1:0"],
        ),
    ],
    relations=[
        Relation(source_id="bob", type="WORKS_AT", target_id="acme", chunk_id="doc2:p1:0"),
        Relation(
            source_id="ann", type="WORKS_AT", target_id="acme", chunk_id="doc2:p1:0", confidence=0.5
        ),
    ],
)
EMPTY = dict.fromkeys(["documents", "pages", "chunks", "entities", "relationships", "mentions"], 0)
D1_COUNTS = {
    "documents": 1,
    "pages": 2,
    "chunks": 3,
    "entities": 3,
    "relationships": 2,
    "mentions": 6,
}
D2_COUNTS = {
    "documents": 1,
    "pages": 1,
    "chunks": 1,
    "entities": 3,
    "relationships": 2,
    "mentions": 3,
}

REL = """MATCH (a:Entity {id: $a})-[r]->(b:Entity {id: $b})
         RETURN type(r) AS type, r.source_chunks AS chunks, r.confidence AS confidence"""


@pytest.fixture
def store(graph_store: Neo4jGraphStore) -> Neo4jGraphStore:
    graph_store.clear()
    assert graph_store.counts() == EMPTY
    return graph_store


def test_write_is_idempotent_and_keeps_provenance(store: Neo4jGraphStore) -> None:
    store.write_document(D1, C1, G1)
    assert store.counts() == D1_COUNTS
    store.write_document(D1, C1, G1)
    assert store.counts() == D1_COUNTS
    rels = store.run_read(REL, {"a": "ann", "b": "acme"})
    assert rels == [{"type": "WORKS_AT", "chunks": ["doc1:p1:0", "doc1:p1:19"], "confidence": 0.9}]
    assert store.has_document("a" * 64) and not store.has_document("c" * 64)
    docs = store.list_documents()
    assert [(d["id"], d["title"], d["pages"], d["chunks"]) for d in docs] == [
        ("doc1", "Ann at Acme", 2, 3)
    ]
    assert store.documents_from("ann.txt") == ["doc1"] and store.documents_from("bob.txt") == []
    ents = {e.id: e for e in store.entities()}
    assert ents["acme"].chunk_ids == sorted(c.id for c in C1)
    assert ents["ann"].aliases == ["Ann A."] and ents["ann"].type == "Person"
    # label = Entity plus the schema type; `type` is also kept as a property
    rows = store.run_read("MATCH (e:Entity:Person) RETURN e.id AS id, labels(e) AS labels")
    assert rows == [{"id": "ann", "labels": ["Entity", "Person"]}]
    assert store.run_read("MATCH (e:City) RETURN e.type AS t") == [{"t": "City"}]


def test_shared_entity_is_one_node_and_delete_is_exact(store: Neo4jGraphStore) -> None:
    store.write_document(D2, C2, G2)
    only_d2 = store.counts()
    assert only_d2 == D2_COUNTS
    store.clear()
    store.write_document(D1, C1, G1)
    store.write_document(D2, C2, G2)
    assert store.counts() == {
        "documents": 2,
        "pages": 3,
        "chunks": 4,
        "entities": 4,
        "relationships": 3,
        "mentions": 9,
    }
    acme = store.run_read("MATCH (e:Entity {id: 'acme'}) RETURN e.aliases AS aliases")
    assert acme == [{"aliases": ["ACME", "Acme Corp"]}]
    rel = store.run_read(REL, {"a": "ann", "b": "acme"})
    assert rel[0]["chunks"] == ["doc1:p1:0", "doc1:p1:19", "doc2:p1:0"]

    store.delete_document("doc1")
    assert store.counts() == only_d2
    assert store.run_read(REL, {"a": "ann", "b": "acme"})[0]["chunks"] == ["doc2:p1:0"]
    assert store.run_read("MATCH (e:Entity {id: 'berlin'}) RETURN e") == []
    assert {e.id: e.chunk_ids for e in store.entities()} == {
        "acme": ["doc2:p1:0"],
        "ann": ["doc2:p1:0"],
        "bob": ["doc2:p1:0"],
    }
    store.delete_document("doc2")
    assert store.counts() == EMPTY


DUPLICATE_ENTITIES = """MATCH (e:Entity) WITH e.id AS id, count(e) AS n WHERE n > 1
                        RETURN id, n"""
DUPLICATE_RELATIONSHIPS = """MATCH (a:Entity)-[r]->(b:Entity)
                             WITH a.id AS a, type(r) AS t, b.id AS b, count(r) AS n WHERE n > 1
                             RETURN a, t, b, n"""
DUPLICATE_MENTIONS = """MATCH (c:Chunk)-[m:MENTIONS]->(e:Entity)
                        WITH c.id AS c, e.id AS e, count(m) AS n WHERE n > 1 RETURN c, e, n"""


def test_rewrites_with_shared_entities_add_nothing(store: Neo4jGraphStore) -> None:
    both = {
        "documents": 2,
        "pages": 3,
        "chunks": 4,
        "entities": 4,
        "relationships": 3,
        "mentions": 9,
    }
    for doc, chunks, graph in [(D1, C1, G1), (D2, C2, G2), (D1, C1, G1), (D2, C2, G2)]:
        store.write_document(doc, chunks, graph)
        assert store.run_read(DUPLICATE_ENTITIES) == []
        assert store.run_read(DUPLICATE_RELATIONSHIPS) == []
        assert store.run_read(DUPLICATE_MENTIONS) == []
    assert store.counts() == both
    rel = store.run_read(REL, {"a": "ann", "b": "acme"})
    assert rel == [
        {
            "type": "WORKS_AT",
            "chunks": ["doc1:p1:0", "doc1:p1:19", "doc2:p1:0"],
            "confidence": 0.9,
        }
    ]
    ents = {e.id: e for e in store.entities()}
    assert ents["acme"].chunk_ids == ["doc1:p1:0", "doc1:p1:19", "doc1:p2:0", "doc2:p1:0"]
    assert ents["acme"].aliases == ["ACME", "Acme Corp"]
    assert ents["ann"].chunk_ids == ["doc1:p1:0", "doc1:p1:19", "doc2:p1:0"]
    labels = store.run_read("MATCH (e:Entity) RETURN e.id AS id, labels(e) AS labels")
    assert {r["id"]: sorted(r["labels"]) for r in labels} == {
        "acme": ["Entity", "Organization"],
        "ann": ["Entity", "Person"],
        "berlin": ["City", "Entity"],
        "bob": ["Entity", "Person"],
    }
    store.delete_document("doc2")
    assert store.counts() == D1_COUNTS
    assert store.run_read(REL, {"a": "ann", "b": "acme"})[0]["chunks"] == [
        "doc1:p1:0",
        "doc1:p1:19",
    ]


def test_chunks_without_mentions_are_written(store: Neo4jGraphStore) -> None:
    store.write_document(D1, C1, ResolvedGraph())
    assert store.counts() == {**D1_COUNTS, "entities": 0, "relationships": 0, "mentions": 0}
    assert [p["chunks"] for p in store.document("doc1")["page_list"]] == [2, 1]


def test_failed_write_removes_what_it_wrote(
    store: Neo4jGraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write_document(D2, C2, G2)
    before = store.counts()
    monkeypatch.setattr(cypher, "merge_relations", lambda *args: "THIS IS NOT CYPHER")
    with pytest.raises(Exception) as err:
        store.write_document(D1, C1, G1)
    assert not isinstance(err.value, ServiceUnavailableError)
    assert store.counts() == before  # shared entities (ann, acme) survive, doc1 is gone
    assert not store.has_document(D1.sha256)
    with pytest.raises(ValueError, match="valid graph label"):
        bad = G1.model_copy(
            update={"relations": [G1.relations[0].model_copy(update={"type": "works at"})]}
        )
        store.write_document(D1, C1, bad)
    assert store.counts() == before


def test_neighbourhood_and_evidence(store: Neo4jGraphStore) -> None:
    store.write_document(D1, C1, G1)
    store.write_document(D2, C2, G2)
    one = store.neighbourhood(["berlin"], hops=1, limit=10)
    assert [(t.subject, t.predicate, t.object, t.source_chunks) for t in one] == [
        ("Acme", "LOCATED_IN", "Berlin", ["doc1:p2:0"])
    ]
    two = store.neighbourhood(["berlin"], hops=2, limit=10)
    assert sorted((t.subject, t.predicate, t.object) for t in two) == [
        ("Acme", "LOCATED_IN", "Berlin"),
        ("Ann", "WORKS_AT", "Acme"),
        ("Bob", "WORKS_AT", "Acme"),
    ]
    limited = store.neighbourhood(["berlin"], hops=2, limit=2)
    assert len(limited) == 2 and limited[0].predicate == "LOCATED_IN"  # nearer ring first
    assert store.neighbourhood(["nobody"], hops=2, limit=5) == []
    with pytest.raises(ValueError):
        store.neighbourhood(["berlin"], hops=3, limit=5)

    ev = store.evidence(["doc1:p2:0", "missing", "doc2:p1:0"])
    assert [(e.chunk_id, e.document_title, e.page, e.via) for e in ev] == [
        ("doc1:p2:0", "Ann at Acme", 2, "graph"),
        ("doc2:p1:0", "Bob", 1, "graph"),
    ]
    assert ev[0].text == "Acme is located in Berlin." and ev[0].document_id == "doc1"


def test_entity_type_change_adds_label(store: Neo4jGraphStore) -> None:
    store.write_document(D1, C1, G1)
    berlin = Entity(id="berlin", name="Berlin", type="Place", chunk_ids=["doc2:p1:0"])
    store.write_document(D2, C2, ResolvedGraph(entities=[berlin]))
    rows = store.run_read("MATCH (e:Entity {id: 'berlin'}) RETURN labels(e) AS l, e.type AS t")
    assert [(sorted(r["l"]), r["t"]) for r in rows] == [(["City", "Entity", "Place"], "Place")]


def test_second_server_object_attaches(
    graph_store: Neo4jGraphStore, graph_settings: Settings
) -> None:
    graph_dir = Path(graph_settings.data_dir) / "graph"
    state = json.loads((graph_dir / "server.json").read_text())
    pw_file = Path(state["password_file"])
    assert stat.S_IMODE(pw_file.stat().st_mode) == 0o600
    other = EmbeddedArcadeDB.from_settings(graph_settings)
    with other as ep:
        assert not other.owned
        assert ep.uri == f"bolt://127.0.0.1:{state['bolt_port']}" == graph_store.uri
        assert other.status()["pid"] == state["pid"]
    # leaving an attached context leaves the server running
    graph_store.ping()
    assert json.loads((graph_dir / "server.json").read_text())["pid"] == state["pid"]


def test_two_processes_start_one_server(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from kgrag.store.arcadedb import EmbeddedArcadeDB
        s = EmbeddedArcadeDB(Path({str(tmp_path / "graph")!r}), heap="256m")
        ep = s.start()
        print(json.dumps({{"uri": ep.uri, "owned": s.owned}}))
    """)
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    server = EmbeddedArcadeDB(tmp_path / "graph")
    try:
        assert sorted(o["owned"] for o in outs) == [False, True]
        assert outs[0]["uri"] == outs[1]["uri"]
        assert server.status()["healthy"] is True
    finally:
        assert server.stop() is True
    assert not (tmp_path / "graph" / "server.json").exists()
    assert server.status()["running"] is False


def test_stale_state_file_is_ignored(tmp_path: Path) -> None:
    server = EmbeddedArcadeDB(tmp_path / "graph")
    server.dir.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    server.state_file.write_text(json.dumps({"pid": dead.pid, "bolt_port": 1, "http_port": 2}))
    assert server.read_state() is None and not server.state_file.exists()
    server.state_file.write_text(json.dumps({"pid": os.getpid(), "bolt_port": 1, "http_port": 2}))
    assert server.read_state() is None  # a live pid that is not an ArcadeDB server
    assert server.password() == server.password()  # generated once, reused


def test_start_failure_reports_log_tail(tmp_path: Path) -> None:
    server = EmbeddedArcadeDB(tmp_path / "graph", heap="1k", start_timeout_s=30)
    with pytest.raises(ServiceUnavailableError) as err:
        server.start()
    assert err.value.service == "graph store"
    assert "exited" in err.value.detail and "heap" in err.value.detail.lower()
    assert not server.state_file.exists()


def test_unreachable_store_names_the_uri() -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    store = Neo4jGraphStore(uri, "neo4j", "secret", connection_timeout_s=3, retry_s=1)
    try:
        with pytest.raises(ServiceUnavailableError, match=uri):
            store.ping()
        with pytest.raises(ServiceUnavailableError, match=uri):
            store.counts()
    finally:
        store.close()
    settings = Settings(graph_uri=uri, graph_password="x")
    with pytest.raises(ServiceUnavailableError, match=uri):
        with open_graph_store(settings):
            pass
