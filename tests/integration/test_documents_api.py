"""Document lifecycle and key scopes over HTTP on the real embedded ArcadeDB (no LLM needed):
show a document (OCR confidence per page, page images), delete it leaving no orphans in the
graph, the indexes or the page images; read-only keys may read but not change data."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import SecretStr

from kgrag.api.app import create_app
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.page_images import PageImages
from kgrag.procs import free_port
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from tests.integration.test_graph_store import C1, C2, D1, D2, G1, G2
from tests.integration.test_index_rebuild import _runtime

pytestmark = pytest.mark.integration

WRITE = {"Authorization": "Bearer writer-key"}
READ = {"Authorization": "Bearer reader-key"}
# doc1 with its second page read by OCR, at a confidence below the default 0.8
D1_SCANNED = D1.model_copy(
    update={
        "pages": [
            D1.pages[0],
            D1.pages[1].model_copy(update={"ocr_engine": "tesseract", "ocr_confidence": 0.42}),
        ]
    }
)


@pytest.fixture
def settings(graph_store: Neo4jGraphStore, graph_settings: Settings) -> Settings:
    graph_store.clear()
    graph_store.write_document(D1_SCANNED, C1, G1)
    graph_store.write_document(D2, C2, G2)
    images = PageImages(graph_settings.data_dir / "pages", graph_settings.page_image_max_px)
    with images.staging("doc1") as staged:
        for number in (1, 2):
            staged.add(number, Image.new("L", (3000, 2000), 200))
        staged.commit()
    IngestPipeline(_runtime(graph_settings, graph_store)).indexes.rebuild()
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
        page_2 = {
            "number": 2,
            "chunks": 1,
            "ocr_engine": "tesseract",
            "ocr_confidence": 0.42,
            "image_url": "/documents/doc1/pages/2.png",
        }
        assert shown["page_list"] == [
            {
                "number": 1,
                "chunks": 2,
                "ocr_engine": None,
                "ocr_confidence": None,
                "image_url": "/documents/doc1/pages/1.png",
            },
            page_2,
        ]
        assert shown["low_confidence_pages"] == [page_2]
        image = client.get("/documents/doc1/pages/2.png", headers=READ)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG")
        assert client.get("/documents/doc1/pages/2.png").status_code == 401
        missing = client.get("/documents/doc1/pages/7.png", headers=READ)
        assert missing.status_code == 404 and "no image of page 7" in missing.json()["detail"]
        assert client.get("/documents/doc2/pages/1.png", headers=READ).status_code == 404
        assert (shown["entities"], shown["entities_only_here"]) == (3, 1)  # Berlin only here

        deleted = client.delete("/documents/doc1", headers=WRITE)
        assert deleted.status_code == 200 and deleted.json()["chunks"] == 3
        assert client.get("/documents/doc1", headers=READ).status_code == 404
        assert client.get("/documents/doc1/pages/2.png", headers=READ).status_code == 404
        assert not (settings.data_dir / "pages" / "doc1").exists()
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


def test_upload_queues_a_scan_for_ocr_and_refuses_a_broken_image(settings: Settings):
    blank = io.BytesIO()
    Image.new("L", (40, 30), 255).save(blank, format="PNG")
    with TestClient(create_app(settings)) as client:
        accepted = client.post("/documents", files={"file": ("scan.png", blank.getvalue())},
                               headers=WRITE)  # fmt: skip
        assert accepted.status_code == 202, accepted.json()  # checked, OCR left to the job
        broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
        refused = client.post("/documents", files={"file": ("bad.png", broken)}, headers=WRITE)
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("bad.png: corrupt or unreadable image")
