"""Prometheus metrics (served at GET /metrics): HTTP requests, LLM calls, generated Cypher,
ingest. One place defines them; the code paths report through the functions below."""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from prometheus_client import Counter, Histogram

from kgrag.llm.usage import server_usage

HTTP_REQUESTS = Counter(
    "kgrag_http_requests_total", "HTTP requests by route and status.", ["method", "route", "status"]
)
HTTP_SECONDS = Histogram("kgrag_http_request_seconds", "HTTP request latency.", ["route"])
LLM_CALLS = Counter(
    "kgrag_llm_calls_total",
    "LLM calls by outcome: ok, error, cached (response cache).",
    ["outcome"],
)
LLM_SECONDS = Histogram(
    "kgrag_llm_seconds", "LLM request latency.", buckets=(0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320)
)
LLM_TOKENS = Counter("kgrag_llm_tokens_total", "LLM tokens reported by the server.", ["kind"])
CYPHER_QUERIES = Counter(
    "kgrag_cypher_queries_total",
    "Generated Cypher queries: ran, empty, rejected (guard), failed (server).",
    ["outcome"],
)
CYPHER_REPAIRS = Counter("kgrag_cypher_repairs_total", "Re-asks after a failed generated query.")
INGESTED = Counter("kgrag_ingest_documents_total", "Ingested files by status.", ["status"])
INGEST_ITEMS = Counter(
    "kgrag_ingest_items_total", "Pages, chunks, entities, relationships stored.", ["kind"]
)


class LLMMetrics(BaseCallbackHandler):
    """LangChain callback counting LLM calls, their latency, errors and token usage."""

    def __init__(self) -> None:
        self._started: dict[UUID, float] = {}
        self._lock = threading.Lock()

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID, **kw: Any):
        with self._lock:
            self._started[run_id] = time.perf_counter()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        usage = server_usage(response)  # None: a response-cache hit
        self._finish(run_id, "cached" if usage is None else "ok")
        if usage is not None:
            LLM_TOKENS.labels("prompt").inc(usage[0])
            LLM_TOKENS.labels("completion").inc(usage[1])

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._finish(run_id, "error")

    def _finish(self, run_id: UUID, outcome: str) -> None:
        with self._lock:
            started = self._started.pop(run_id, None)
        LLM_CALLS.labels(outcome).inc()
        if started is not None:
            LLM_SECONDS.observe(time.perf_counter() - started)


LLM_METRICS = LLMMetrics()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(route).observe(seconds)


def observe_cypher(attempts: list[Any], max_rows: int) -> None:
    """Count each attempt of one text-to-Cypher run (`CypherAttempt`s); an attempt that
    failed is "rejected" when the guard refuses its query, else it failed on the server."""
    from kgrag.retrieve.guard import CypherRejected, guard_cypher

    for attempt in attempts:
        if attempt.error is None:
            outcome = "ran" if attempt.rows else "empty"
        else:
            try:
                guard_cypher(attempt.query, max_rows=max_rows)
                outcome = "failed"
            except CypherRejected:
                outcome = "rejected"
        CYPHER_QUERIES.labels(outcome).inc()
    CYPHER_REPAIRS.inc(max(len(attempts) - 1, 0))


def observe_ingest(result: Any) -> None:
    """Count one `IngestResult`."""
    INGESTED.labels(str(result.status)).inc()
    for kind in ("pages", "chunks", "entities", "relationships"):
        INGEST_ITEMS.labels(kind).inc(getattr(result, kind))
