"""Per-document LLM accounting: calls, cache hits and the server's token usage, summed from
concurrent extraction through a callback in the invoke config; the ingest table's totals."""

from __future__ import annotations

import json

import httpx
from langchain_core.caches import InMemoryCache
from prometheus_client import REGISTRY
from rich.console import Console

from kgrag.cli.render import ingest_table
from kgrag.ingest.extract import GraphExtractor
from kgrag.llm.response_format import RESPONSE_FORMATS
from kgrag.llm.usage import LLMUsage, count_llm_usage
from kgrag.metrics import LLM_METRICS
from kgrag.prompts import Prompts
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT
from kgrag.types import Chunk, IngestResult, IngestStatus
from tests.unit.fake_openai import Reply, ScriptedOpenAI

SCHEMA = GraphSchema.from_file(REPO_ROOT / "schemas" / "default.yaml")
PROMPTS = Prompts.load(REPO_ROOT / "prompts")
GRAPH = json.dumps({"nodes": [{"id": "Halden", "type": "Organization"}], "relationships": []})


def _chunks(document: str, n: int) -> list[Chunk]:
    return [
        Chunk(id=f"{document}:p1:{i}", document_id=document, page=1, start=0, end=9, text=f"{i}")
        for i in range(n)
    ]


def test_each_document_gets_its_own_calls_and_tokens_from_concurrent_extraction():
    replies = [Reply(content=GRAPH, usage=(100 + i, 10 + i)) for i in range(5)]
    llm = ScriptedOpenAI(replies)
    extractor = GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS)
    first, second = LLMUsage(), LLMUsage()
    extractor.extract_all(_chunks("a", 3), concurrency=3, config={"callbacks": [first]})
    extractor.extract_all(_chunks("b", 2), concurrency=2, config={"callbacks": [second]})
    assert len(llm.requests) == 5
    assert first.counts() == {
        "llm_calls": 3,
        "cached_calls": 0,
        "prompt_tokens": 100 + 101 + 102,  # the first three replies
        "completion_tokens": 10 + 11 + 12,
    }
    assert second.counts() == {
        "llm_calls": 2,
        "cached_calls": 0,
        "prompt_tokens": 103 + 104,
        "completion_tokens": 13 + 14,
    }


def test_cache_hits_are_counted_apart_with_no_tokens():
    llm = ScriptedOpenAI([Reply(content=GRAPH, usage=(50, 5))])
    extractor = GraphExtractor(llm.chat_model(cache=InMemoryCache()), SCHEMA, PROMPTS)
    chunk = _chunks("a", 1)
    fresh, repeat = LLMUsage(), LLMUsage()
    extractor.extract_all(chunk, config={"callbacks": [fresh]})
    extractor.extract_all(chunk, config={"callbacks": [repeat]})
    assert len(llm.requests) == 1
    assert fresh.counts() == {
        "llm_calls": 1,
        "cached_calls": 0,
        "prompt_tokens": 50,
        "completion_tokens": 5,
    }
    assert repeat.counts() == {
        "llm_calls": 0,
        "cached_calls": 1,
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }


def test_a_refused_request_counts_as_a_call_without_tokens():
    llm = ScriptedOpenAI(
        [Reply(status=400, error="response_format json_schema unsupported"), Reply(GRAPH)]
    )
    RESPONSE_FORMATS.configure(llm.base_url, "json_schema", PROMPTS)
    usage = LLMUsage()
    GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS).extract_all(
        _chunks("a", 1), config={"callbacks": [usage]}
    )
    assert usage.counts()["llm_calls"] == 2
    assert usage.counts()["prompt_tokens"] == 1  # the scripted default usage of the answer


def test_ingest_table_shows_calls_tokens_and_a_total_row():
    results = [
        IngestResult(
            source="a.md",
            status=IngestStatus.INGESTED,
            chunks=3,
            llm_calls=3,
            prompt_tokens=1200,
            completion_tokens=300,
        ),
        IngestResult(
            source="b.md",
            status=IngestStatus.INGESTED,
            chunks=2,
            llm_calls=1,
            cached_calls=1,
            prompt_tokens=400,
            completion_tokens=100,
        ),
    ]
    console = Console(record=True, width=200)
    console.print(ingest_table(results))
    lines = console.export_text().splitlines()
    row_a = next(line for line in lines if "a.md" in line)
    assert "1,200 / 300" in row_a
    total = next(line for line in lines if "total" in line)
    assert "(2 files)" in total and "4 (+1 cached)" in total and "1,600 / 400" in total


def test_prometheus_counts_server_tokens_and_cache_hits_the_same_way():
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        sample("kgrag_llm_tokens_total", kind="prompt"),
        sample("kgrag_llm_calls_total", outcome="ok"),
        sample("kgrag_llm_calls_total", outcome="cached"),
    )
    llm = ScriptedOpenAI([Reply(content="hi", usage=(7, 2))])
    model = llm.chat_model(cache=InMemoryCache())
    for _ in range(2):
        model.invoke("hello", config={"callbacks": [LLM_METRICS]})
    after = (
        sample("kgrag_llm_tokens_total", kind="prompt"),
        sample("kgrag_llm_calls_total", outcome="ok"),
        sample("kgrag_llm_calls_total", outcome="cached"),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [7, 1, 1]


def test_a_block_counts_every_call_made_inside_it_and_nothing_outside():
    llm = ScriptedOpenAI(["x", Reply("a", usage=(5, 1)), Reply("b", usage=(7, 2)), "c", "d"])
    model = llm.chat_model()
    model.invoke("before")
    with count_llm_usage() as first:
        model.invoke("one")  # no callbacks passed: the block attaches its own
        model.invoke("two")
    with count_llm_usage() as second:
        model.invoke("three")
    model.invoke("after")
    assert (first.llm_calls, first.prompt_tokens, first.completion_tokens) == (2, 12, 3)
    assert first.unreported_calls == 0 and second.llm_calls == 1


class _NoUsage(ScriptedOpenAI):
    """A server that does not report token usage."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(super().handler(request).content)
        del body["usage"]
        return httpx.Response(200, json=body)


def test_calls_without_usage_are_marked_unreported_not_zero_tokens():
    with count_llm_usage() as usage:
        _NoUsage(["a"]).chat_model().invoke("one")
    assert usage.llm_calls == 1 and usage.unreported_calls == 1
