"""Document lifecycle and key scopes over HTTP on the real embedded ArcadeDB (no LLM needed):
show a document, delete it leaving no orphans in the graph or the indexes; read-only keys
may read but not change data."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from kgrag.api.app import create_app
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.procs import free_port
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from tests.integration.test_graph_store import C1, C2, D1, D2, G1, G2
from tests.integration.test_index_rebuild import _runtime

pytestmark = pytest.mark.integration

WRITE = {"Authorization": "Bearer writer-key"}
READ = {"Authorization": "Bearer reader-key"}


@pytest.fixture
def settings(graph_store: Neo4jGraphStore, graph_settings: Settings) -> Settings:
    graph_store.clear()
    graph_store.write_document(D1, C1, G1)
    graph_store.write_document(D2, C2, G2)
    IngestPipeline(_runtime(graph_settings, graph_store)).rebuild_indexes()
    return graph_settings.model_copy(
        update={
            "llm_base_url": f"http://127.0.0.1:{free_port()}/v1",  # not needed by these routes
            "api_key": SecretStr("writer-key"),
            "api_read_keys": [SecretStr("reader-key")],
        }
    )


def test_read_only_key_reads_but_cannot_change_data(settings: Settings):
    with TestClient(create_app(settings)) as client:
        assert client.get("/documents").status_code == 401
        assert client.get("/documents", headers=READ).status_code == 200
        assert client.get("/metrics", headers=READ).status_code == 200
        upload = client.post("/documents", files={"file": ("a.txt", b"hello")}, headers=READ)
        assert upload.status_code == 403 and "may not change data" in upload.json()["detail"]
        assert client.delete("/documents/doc1", headers=READ).status_code == 403
        assert client.delete("/documents/doc1").status_code == 401
        bad = {"Authorization": "Bearer nope"}
        assert client.delete("/documents/doc1", headers=bad).status_code == 401
        assert client.get("/documents/doc1", headers=READ).status_code == 200  # still there


def test_show_and_delete_a_document_leaves_no_orphans(
    settings: Settings, graph_store: Neo4jGraphStore
):
    with TestClient(create_app(settings)) as client:
        shown = client.get("/documents/doc1", headers=READ).json()
        assert shown["title"] == D1.title and shown["chunks"] == 3
        assert shown["page_list"] == [{"number": 1, "chunks": 2}, {"number": 2, "chunks": 1}]
        assert (shown["entities"], shown["entities_only_here"]) == (3, 1)  # Berlin only here

        deleted = client.delete("/documents/doc1", headers=WRITE)
        assert deleted.status_code == 200 and deleted.json()["chunks"] == 3
        assert client.get("/documents/doc1", headers=READ).status_code == 404
        assert client.delete("/documents/doc1", headers=WRITE).status_code == 404
        assert [d["id"] for d in client.get("/documents", headers=READ).json()] == ["doc2"]
        runtime = client.app.state.runtime
        assert not any(i.startswith("doc1:") for i in runtime.index("chunks").ids)
        assert not any(i.startswith("berlin") for i in runtime.index("entities").ids)

    assert {e.id for e in graph_store.entities()} == {"ann", "acme", "bob"}
    relations = graph_store.run_read(
        "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.id AS a, type(r) AS t, b.id AS b, "
        "r.source_chunks AS chunks ORDER BY a"
    )
    assert relations == [
        {"a": "ann", "t": "WORKS_AT", "b": "acme", "chunks": ["doc2:p1:0"]},
        {"a": "bob", "t": "WORKS_AT", "b": "acme", "chunks": ["doc2:p1:0"]},
    ]
    assert graph_store.counts()["chunks"] == 1


def test_oversized_request_bodies_are_refused_before_reading(settings: Settings):
    with TestClient(create_app(settings)) as client:
        huge = {"question": "x" * (settings.max_request_kb * 1024 + 1)}
        reply = client.post("/chat", json=huge, headers=READ)
        assert reply.status_code == 413 and "limit" in reply.json()["detail"]
        big = b"x" * int(settings.max_upload_mb * 1024 * 1024 + 128 * 1024)
        upload = client.post("/documents", files={"file": ("big.txt", big)}, headers=WRITE)
        assert upload.status_code == 413
