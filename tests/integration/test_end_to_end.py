"""End to end on the embedded default: real ArcadeDB, real local LLM, the bundled sample corpus."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import SecretStr

from kgrag.answer import NO_ANSWER
from kgrag.api.app import create_app
from kgrag.errors import ServiceUnavailableError
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.qa import answer_question
from kgrag.runtime import Runtime, open_runtime
from kgrag.settings import REPO_ROOT, Settings
from kgrag.types import Answer, IngestResult, IngestStatus

pytestmark = pytest.mark.integration

SAMPLES = REPO_ROOT / "samples"
QUESTIONS = yaml.safe_load((SAMPLES / "questions.yaml").read_text(encoding="utf-8"))
ANSWERABLE = [q for q in QUESTIONS if q["answer"]]


@pytest.fixture(scope="module")
def e2e_settings(
    tmp_path_factory: pytest.TempPathFactory, llm_server: str, llm_settings: Settings
) -> Settings:
    """A fresh project dir; the LLM is the session's real local llama-server."""
    return Settings(
        data_dir=tmp_path_factory.mktemp("kgrag-e2e"),
        llm_base_url=llm_server,
        llm_model=llm_settings.llm_model,
        llm_max_retries=0,
    )


@pytest.fixture(scope="module")
def runtime(e2e_settings: Settings) -> Iterator[Runtime]:
    with open_runtime(e2e_settings) as rt:
        yield rt


@pytest.fixture(scope="module")
def first_ingest(runtime: Runtime) -> list[IngestResult]:
    return IngestPipeline(runtime).ingest_paths([SAMPLES / "docs"])


@pytest.fixture(scope="module")
def answers(runtime: Runtime, first_ingest: list[IngestResult]) -> dict[str, Answer]:
    return {q["question"]: answer_question(runtime, q["question"]) for q in QUESTIONS}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sample_corpus_ingests_into_lexical_and_domain_graph(runtime: Runtime, first_ingest):
    assert [r.status for r in first_ingest] == [IngestStatus.INGESTED] * 3, first_ingest
    for r in first_ingest:  # every chunk asked the LLM (or its cache); tokens from `usage`
        assert r.llm_calls + r.cached_calls >= r.chunks, r
        assert r.prompt_tokens >= r.llm_calls and r.completion_tokens >= r.llm_calls, r
    counts = runtime.store.counts()
    assert (counts["documents"], counts["pages"], counts["chunks"]) == (3, 4, 4)
    assert counts["entities"] >= 5 and counts["relationships"] >= 3 and counts["mentions"] >= 5
    pages = runtime.store.run_read(
        "MATCH (d:Document)-[:HAS_PAGE]->(p:Page)-[:HAS_CHUNK]->(c:Chunk) "
        "RETURN d.title AS title, p.number AS page, c.page AS chunk_page"
    )
    assert {(r["title"], r["page"]) for r in pages} >= {("Halden Instruments Handbook", 2)}
    assert all(r["page"] == r["chunk_page"] for r in pages)


def test_relationships_carry_provenance_to_existing_chunks(runtime: Runtime, first_ingest):
    rows = runtime.store.run_read(
        "MATCH (a:Entity)-[r]->(b:Entity) RETURN type(r) AS type, r.source_chunks AS chunks"
    )
    chunk_ids = {r["id"] for r in runtime.store.run_read("MATCH (c:Chunk) RETURN c.id AS id")}
    assert rows
    for row in rows:
        assert row["chunks"] and set(row["chunks"]) <= chunk_ids, row


def test_entity_mentioned_in_two_documents_is_one_node(runtime: Runtime, first_ingest):
    rows = runtime.store.run_read(
        "MATCH (c:Chunk)-[:MENTIONS]->(e:Entity {id: 'tomas reyes'}) "
        "RETURN DISTINCT c.document_id AS doc"
    )
    assert len(rows) == 2  # the handbook and the people page, one canonical node


def test_reingest_changes_nothing(runtime: Runtime, first_ingest):
    before = runtime.store.counts()
    vectors_before = len(runtime.index("chunks")), len(runtime.index("entities"))
    again = IngestPipeline(runtime).ingest_paths([SAMPLES / "docs"])
    assert [r.status for r in again] == [IngestStatus.UNCHANGED] * 3
    assert runtime.store.counts() == before
    assert (len(runtime.index("chunks")), len(runtime.index("entities"))) == vectors_before


@pytest.mark.parametrize("item", ANSWERABLE, ids=[q["answer"] for q in ANSWERABLE])
def test_answers_cite_the_pages_they_rest_on(runtime: Runtime, answers, item):
    answer = answers[item["question"]]
    expected = {tuple(p) for p in item["pages"]}
    retrieved = {(e.document_title, e.page) for e in answer.evidence}
    assert expected <= retrieved, "retrieval missed a page the answer needs"
    assert answer.supported, answer.text
    cited = {(c.document, c.page) for c in answer.citations}
    assert cited & expected, f"cited {cited}, expected one of {expected}"
    for citation in answer.citations:  # the quote is the chunk's text at its offsets
        chunk_text = runtime.store.evidence([citation.chunk_id])[0].text
        assert chunk_text[citation.start : citation.end] == citation.quote


def test_most_sample_answers_are_right(answers):
    right = [
        q
        for q in ANSWERABLE
        if any(a.lower() in answers[q["question"]].text.lower() for a in q["accept"])
    ]
    assert len(right) >= len(ANSWERABLE) - 1, {
        q["question"]: answers[q["question"]].text for q in ANSWERABLE
    }


def test_question_without_support_gets_i_dont_know(answers):
    unanswerable = [q for q in QUESTIONS if not q["answer"]]
    for item in unanswerable:
        assert answers[item["question"]].text == NO_ANSWER


def test_changed_file_replaces_its_previous_version(runtime: Runtime, first_ingest, tmp_path: Path):
    before = runtime.store.counts()
    chunks_before = len(runtime.index("chunks"))
    note = tmp_path / "note.txt"
    note.write_text("Harbour notes\n\nMarta Lind repairs buoys in Bodø.")
    first = IngestPipeline(runtime).ingest_paths([note])[0]
    note.write_text("Harbour notes\n\nMarta Lind repairs buoys in Narvik.")
    second = IngestPipeline(runtime).ingest_paths([note])[0]
    assert (first.status, second.status) == (IngestStatus.INGESTED, IngestStatus.INGESTED)
    sources = [d for d in runtime.store.list_documents() if d["source"] == str(note)]
    assert [d["id"] for d in sources] == [second.document_id]
    assert runtime.store.counts()["documents"] == before["documents"] + 1
    assert len(runtime.index("chunks")) == chunks_before + 1
    texts = [
        r["text"]
        for r in runtime.store.run_read(
            "MATCH (c:Chunk {document_id: $id}) RETURN c.text AS text", {"id": second.document_id}
        )
    ]
    assert texts and "Narvik" in texts[0]
    # leave the sample graph as it was
    IngestPipeline(runtime).indexes.remove_documents([second.document_id])
    assert runtime.store.counts()["documents"] == before["documents"]
    assert len(runtime.index("chunks")) == chunks_before


def test_bad_files_fail_alone_and_leave_nothing(runtime: Runtime, first_ingest, tmp_path: Path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<")
    (tmp_path / "table.xlsx").write_bytes(b"PK\x03\x04")
    before = runtime.store.counts()
    results = IngestPipeline(runtime).ingest_paths(
        [
            tmp_path / "empty.txt",
            tmp_path / "broken.pdf",
            tmp_path / "table.xlsx",
            SAMPLES / "docs" / "partners.txt",
        ]
    )
    assert [r.status for r in results] == [IngestStatus.FAILED] * 3 + [IngestStatus.UNCHANGED]
    assert "empty file" in results[0].error and "corrupt" in results[1].error
    assert "unsupported file type" in results[2].error
    assert runtime.store.counts() == before


def test_http_api_health_chat_and_uploads(e2e_settings: Settings, first_ingest):
    with TestClient(create_app(e2e_settings)) as client:
        health = client.get("/health")
        assert health.status_code == 200, health.json()
        assert health.json()["graph"]["counts"]["documents"] == 3
        assert health.json()["indexes"]["chunks"] == 4

        every = ["cypher", "graph", "vector"]
        reply = client.post(
            "/chat", json={"question": ANSWERABLE[0]["question"], "strategies": every}
        )
        assert reply.status_code == 200
        body = reply.json()
        assert body["citations"] and {"document", "page", "chunk_id", "quote"} <= set(
            body["citations"][0]
        )
        assert body["trace"]["strategies"] == every and body["trace"]["cypher"]["attempts"]

        assert client.post("/chat", json={"question": ""}).status_code == 422
        assert (
            client.post("/chat", json={"question": "x", "strategies": ["drop"]}).status_code == 422
        )
        assert (
            client.post("/documents", files={"file": ("a.docx", b"PK\x03\x04")}).status_code == 415
        )
        assert client.post("/documents", files={"file": ("e.txt", b"")}).status_code == 422
        big = b"x" * int(e2e_settings.max_upload_mb * 1024 * 1024 + 1)
        assert client.post("/documents", files={"file": ("big.txt", big)}).status_code == 413
        titles = {d["title"] for d in client.get("/documents").json()}
        assert "Halden Instruments Handbook" in titles


def test_api_key_is_required_when_configured(e2e_settings: Settings, first_ingest):
    locked = e2e_settings.model_copy(update={"api_key": SecretStr("s3cret-key")})
    with TestClient(create_app(locked)) as client:
        assert client.get("/health").status_code == 200  # probes stay open
        assert client.get("/documents").status_code == 401
        wrong = {"Authorization": "Bearer guess"}
        assert client.post("/chat", json={"question": "x"}, headers=wrong).status_code == 401
        ok = client.get("/documents", headers={"Authorization": "Bearer s3cret-key"})
        assert ok.status_code == 200 and ok.json()


def test_unreachable_llm_is_reported_by_health_and_chat(e2e_settings: Settings, first_ingest):
    down = e2e_settings.model_copy(update={"llm_base_url": f"http://127.0.0.1:{_closed_port()}/v1"})
    with TestClient(create_app(down)) as client:
        health = client.get("/health")
        assert health.status_code == 503 and not health.json()["llm"]["ok"]
        assert health.json()["graph"]["ok"]
        reply = client.post("/chat", json={"question": ANSWERABLE[0]["question"]})
        assert reply.status_code == 503 and "LLM" in reply.json()["detail"]


def test_unreachable_services_name_themselves(tmp_path: Path):
    port = _closed_port()
    with pytest.raises(ServiceUnavailableError, match=f"127.0.0.1:{port}"):
        with open_runtime(
            Settings(data_dir=tmp_path, llm_base_url=f"http://127.0.0.1:{port}/v1"), with_llm=True
        ):
            pass
    with pytest.raises(ServiceUnavailableError, match=f"graph store.*127.0.0.1:{port}"):
        with open_runtime(
            Settings(data_dir=tmp_path, graph_uri=f"bolt://127.0.0.1:{port}"), with_llm=False
        ):
            pass


def _sse(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) of each server-sent event."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event"), fields["data"]))
    return events


def test_openai_sdk_uses_kgrag_as_a_model(e2e_settings: Settings, answers):
    from openai import OpenAI

    item = ANSWERABLE[0]
    expected = answers[item["question"]]
    with TestClient(create_app(e2e_settings)) as http:
        client = OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=http)
        messages = [{"role": "user", "content": item["question"]}]
        completion = client.chat.completions.create(model="kgrag", messages=messages)
        assert completion.choices[0].message.content == expected.text
        assert completion.choices[0].finish_reason == "stop"
        extension = completion.model_extra["kgrag"]
        assert extension["supported"] == expected.supported
        assert [c["chunk_id"] for c in extension["citations"]] == [
            c.chunk_id for c in expected.citations
        ]

        chunks = list(client.chat.completions.create(model="kgrag", messages=messages, stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
        assert streamed == expected.text and len(chunks) > 2
        assert chunks[-1].choices[0].finish_reason == "stop"
        assert chunks[-1].model_extra["kgrag"]["citations"] == extension["citations"]

        assistant_last = [*messages, {"role": "assistant", "content": "hi"}]
        reply = http.post("/v1/chat/completions", json={"messages": assistant_last})
        assert reply.status_code == 422 and "last message" in reply.json()["detail"]


def test_chat_streams_retrieval_then_tokens_then_citations(e2e_settings: Settings, answers):
    item = ANSWERABLE[0]
    expected = answers[item["question"]]
    with TestClient(create_app(e2e_settings)) as client:
        reply = client.post("/chat", json={"question": item["question"], "stream": True})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith(
        "text/event-stream"
    )
    events = _sse(reply.text)
    names = [name for name, _ in events]
    assert names[0] == "retrieval" and names[-2:] == ["citations", "answer"]
    assert set(names[1:-2]) == {"token"}
    tokens = "".join(json.loads(data)["text"] for name, data in events if name == "token")
    assert tokens == expected.text
    assert json.loads(events[0][1])["evidence"]
    assert Answer.model_validate_json(events[-1][1]).citations == expected.citations


def test_follow_up_question_is_resolved_against_the_conversation(e2e_settings: Settings, answers):
    """ "Where did that person study?" after a question about the founder: the rewrite names
    the founder (or the company), and the answer is the founder's university."""
    first = "Who founded Halden Instruments?"
    with TestClient(create_app(e2e_settings)) as client:
        opener = client.post("/chat", json={"question": first}).json()
        reply = client.post(
            "/chat",
            json={
                "question": "Where did that person study?",
                "history": [
                    {"role": "user", "content": first},
                    {"role": "assistant", "content": opener["text"]},
                ],
            },
        )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["trace"]["asked"] == "Where did that person study?"
    assert body["trace"]["standalone_question"] != body["trace"]["asked"]
    assert "Bergen" in body["text"], body["trace"]["standalone_question"]


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_metrics_count_requests_llm_calls_and_ingest(e2e_settings: Settings, answers):
    with TestClient(create_app(e2e_settings)) as client:
        before = client.get("/metrics").text
        client.post("/chat", json={"question": ANSWERABLE[1]["question"]})
        client.post("/chat", json={"question": ""})
        after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    chat_ok = {"method": "POST", "route": "/chat", "status": "200"}
    assert _metric(text, "kgrag_http_requests_total", **chat_ok) == (
        _metric(before, "kgrag_http_requests_total", **chat_ok) + 1
    )
    assert _metric(text, "kgrag_http_requests_total", route="/chat", status="422") >= 1
    llm_calls = sum(
        _metric(text, "kgrag_llm_calls_total", outcome=o) for o in ("ok", "cached", "error")
    )
    assert llm_calls >= 2  # the answer and its grounding check at least
    assert _metric(text, "kgrag_llm_tokens_total", kind="prompt") > 0  # the ingest's real calls
    assert _metric(text, "kgrag_ingest_documents_total", status="ingested") >= 3
    assert _metric(text, "kgrag_ingest_items_total", kind="chunks") >= 4
