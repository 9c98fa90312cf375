"""A batch of documents keeps the LLM's slots busy across documents, while each document still
fails alone, is finished in input order and resolves against the documents before it.

The graph store is the real embedded ArcadeDB; the LLM is an OpenAI-compatible endpoint on
httpx.MockTransport answering with tests/fake_llm_server.py's extraction rules.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest
from langchain_openai import ChatOpenAI

from kgrag.errors import ServiceUnavailableError
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.prompts import Prompts
from kgrag.runtime import Runtime
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from kgrag.types import IngestStage, IngestStatus
from tests.fake_llm_server import extraction

pytestmark = pytest.mark.integration

SLOTS = 4
HOLD_S = 1.0  # how long a request waits for the others to arrive (see RuleLLM)
REFUSE = "Refused Text"  # a chunk with this gets an answer that is no graph at all
DOWN = "Unreachable Text"  # a chunk with this cannot reach the LLM


class RuleLLM:
    """Extraction answers by rule; records the most requests in flight at once.

    Each request is held until `expect` requests were in flight together (or HOLD_S passed),
    so the maximum observed does not depend on the machine's speed.
    """

    def __init__(self, expect: int) -> None:
        self.expect = expect
        self.in_flight = self.most = 0
        self.prompts: list[str] = []
        self._cond = threading.Condition()

    def handler(self, request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["messages"][-1]["content"]
        if DOWN in text:
            raise httpx.ConnectError("connection refused", request=request)
        with self._cond:
            self.prompts.append(text)
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.most >= self.expect, timeout=HOLD_S)
            self.in_flight -= 1
        content = "I cannot help with that." if REFUSE in text else json.dumps(extraction(text))
        message = {"role": "assistant", "content": content}
        return httpx.Response(
            200,
            json={
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            },
        )

    def chat_model(self) -> ChatOpenAI:
        return ChatOpenAI(
            model="m",
            base_url="http://rule-llm.test/v1",
            api_key="k",
            max_retries=0,
            http_client=httpx.Client(transport=httpx.MockTransport(self.handler)),
        )


def _runtime(settings: Settings, store: Neo4jGraphStore, tmp_path: Path, llm: RuleLLM) -> Runtime:
    store.clear()
    s = settings.model_copy(update={"data_dir": tmp_path / "data", "llm_parallel": SLOTS})
    rt = Runtime(s, GraphSchema.from_file(s.schema_path), Prompts.load(s.prompts_dir), store, None)
    rt.__dict__["chat_model"] = llm.chat_model()
    return rt


def _write(folder: Path, texts: dict[str, str | bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in texts.items():
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _stored_sources(store: Neo4jGraphStore) -> set[str]:
    return {Path(d["source"]).name for d in store.list_documents()}


def test_one_chunk_documents_keep_every_llm_slot_busy(
    graph_settings: Settings, graph_store: Neo4jGraphStore, tmp_path: Path
):
    llm = RuleLLM(expect=SLOTS)
    rt = _runtime(graph_settings, graph_store, tmp_path, llm)
    texts = {f"d{i:02d}.md": f"Writer W{i:02d} founded Firm F{i:02d}." for i in range(3 * SLOTS)}
    paths = _write(tmp_path / "docs", dict(texts))
    chunk_progress: list[tuple[str, int, int]] = []
    finished: list[str] = []

    pipeline = IngestPipeline(rt, progress=lambda *p: chunk_progress.append(p))
    results = pipeline.ingest_paths(paths, on_result=lambda r: finished.append(r.source))

    assert llm.most == SLOTS  # C requests at once across documents, never more
    assert [r.source for r in results] == finished == [str(p) for p in paths]
    assert all(r.status is IngestStatus.INGESTED and r.relationships == 1 for r in results)
    assert _stored_sources(graph_store) == set(texts)
    assert sorted(p for p in chunk_progress if p[1] == 1) == sorted(
        (r.title, 1, 1) for r in results
    )


def test_a_failing_document_fails_alone_in_a_batch(
    graph_settings: Settings, graph_store: Neo4jGraphStore, tmp_path: Path
):
    llm = RuleLLM(expect=SLOTS)
    rt = _runtime(graph_settings, graph_store, tmp_path, llm)
    texts: dict[str, str | bytes] = {
        "a.md": "Ada Lovelace founded Analytical Engines.",
        "b.md": "Grace Hopper founded Compiler Works.",
        "refused.md": f"{REFUSE}: Alan Turing founded Bletchley Works.",
        "junk.pdf": b"%PDF-1.7 this is no pdf",
        "c.md": "Mary Somerville works for Royal Society.",
        "d.md": "Emmy Noether works for Erlangen University.",
    }
    paths = _write(tmp_path / "docs", texts)

    results = IngestPipeline(rt).ingest_paths(paths)

    assert [Path(r.source).name for r in results] == list(texts)
    status = {Path(r.source).name: r.status for r in results}
    assert [n for n, s in status.items() if s is IngestStatus.FAILED] == ["refused.md", "junk.pdf"]
    refused = results[2]
    assert "chunk" in (refused.error or "") and refused.stage is IngestStage.CHUNKED
    assert refused.llm_calls >= 1
    assert _stored_sources(graph_store) == {"a.md", "b.md", "c.md", "d.md"}
    indexed = {i.split(":")[0] for i in rt.index("chunks").ids}
    assert indexed == {d["id"] for d in graph_store.list_documents()}


def test_an_unreachable_llm_stops_the_batch_keeping_what_is_complete(
    graph_settings: Settings, graph_store: Neo4jGraphStore, tmp_path: Path
):
    llm = RuleLLM(expect=1)
    rt = _runtime(graph_settings, graph_store, tmp_path, llm)
    texts = {
        "a.md": "Ada Lovelace founded Analytical Engines.",
        "b.md": "Grace Hopper founded Compiler Works.",
        "down.md": f"{DOWN}: Alan Turing founded Bletchley Works.",
        "c.md": "Mary Somerville works for Royal Society.",
    }
    paths = _write(tmp_path / "docs", dict(texts))
    finished: list[str] = []

    with pytest.raises(ServiceUnavailableError):
        IngestPipeline(rt).ingest_paths(paths, on_result=lambda r: finished.append(r.source))

    assert finished == [str(paths[0]), str(paths[1])]
    assert _stored_sources(graph_store) == {"a.md", "b.md"}
    stages = {Path(s.source).name: s.stage for s in rt.ingest_states.all()}
    assert stages["a.md"] is stages["b.md"] is IngestStage.INDEXED
    assert stages["down.md"] is IngestStage.CHUNKED  # resumes from its chunks
    assert stages["c.md"] in (IngestStage.PENDING, IngestStage.CHUNKED)  # read ahead or not


def test_a_later_document_resolves_against_an_earlier_one_of_the_same_batch(
    graph_settings: Settings, graph_store: Neo4jGraphStore, tmp_path: Path
):
    llm = RuleLLM(expect=SLOTS)
    rt = _runtime(graph_settings, graph_store, tmp_path, llm)
    texts = {
        "a.md": "Ada Lovelace founded Analytical Engines.",
        "b.md": "Grace Hopper works for Analytical Engine.",  # a spelling variant of a.md's
        "c.md": "Mary Somerville works for Royal Society.",
        "d.md": "Emmy Noether works for Erlangen University.",
    }
    paths = _write(tmp_path / "docs", dict(texts))

    results = IngestPipeline(rt).ingest_paths(paths)

    assert llm.most == SLOTS  # b.md was sent to the LLM before a.md was written
    assert all(r.status is IngestStatus.INGESTED for r in results)
    engines = [e for e in graph_store.entities() if e.name.startswith("Analytical")]
    assert [(e.id, e.name) for e in engines] == [("analytical engines", "Analytical Engines")]
    assert "Analytical Engine" in engines[0].aliases
    works_for = graph_store.run_read(
        "MATCH (p:Entity)-[:WORKS_FOR]->(o:Entity) WHERE p.id = 'grace hopper' RETURN o.id AS o"
    )
    assert works_for == [{"o": "analytical engines"}]


def test_a_batch_without_extraction_stores_chunks_and_asks_no_llm(
    graph_settings: Settings, graph_store: Neo4jGraphStore, tmp_path: Path
):
    llm = RuleLLM(expect=1)
    rt = _runtime(graph_settings, graph_store, tmp_path, llm)
    texts = {f"d{i}.md": f"Writer W{i} founded Firm F{i}." for i in range(3)}
    paths = _write(tmp_path / "docs", dict(texts))

    results = IngestPipeline(rt, extract=False).ingest_paths(paths)

    assert [r.status for r in results] == [IngestStatus.INGESTED] * 3
    assert llm.prompts == [] and graph_store.entities() == []
    assert _stored_sources(graph_store) == set(texts) and len(rt.index("chunks").ids) == 3


def test_a_later_run_resolves_against_the_graph_its_index_was_saved_with(
    graph_settings: Settings, graph_store: Neo4jGraphStore, tmp_path: Path
):
    """A new runtime finds the stored names in the saved entity index, not in a pass over the
    graph, and merging keeps what the graph got meanwhile (an alias a user added)."""
    llm = RuleLLM(expect=1)
    first = _runtime(graph_settings, graph_store, tmp_path, llm)
    [a, b] = _write(
        tmp_path / "docs",
        {
            "a.md": "Ada Lovelace founded Analytical Engines.",
            "b.md": "Grace Hopper works for Analytical Engine.",
        },
    )
    IngestPipeline(first).ingest_paths([a])
    graph_store.write_all(
        [("MATCH (e:Entity {id: 'analytical engines'}) SET e.aliases = ['AE Ltd']", {})]
    )
    later = Runtime(first.settings, first.schema, first.prompts, graph_store, None)
    later.__dict__["chat_model"] = llm.chat_model()

    [result] = IngestPipeline(later).ingest_paths([b])

    assert result.status is IngestStatus.INGESTED
    [engines] = [e for e in graph_store.entities() if e.name.startswith("Analytical")]
    assert engines.id == "analytical engines"
    assert sorted(engines.aliases) == ["AE Ltd", "Analytical Engine"]  # the stored alias kept
