"""LLM accounting: model calls, response-cache hits, tokens the server reported; per document
(a callback in the invoke config) or per `with count_llm_usage()` block (every call inside)."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from langchain_core.tracers.context import register_configure_hook


def server_usage(response: LLMResult) -> tuple[int, int] | None:
    """(prompt, completion) tokens from the server's `usage`; None for a response-cache hit,
    which reaches callbacks without the server's output."""
    if not response.llm_output:
        return None
    usage = response.llm_output.get("token_usage") or {}
    return _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


class LLMUsage(BaseCallbackHandler):
    """Counts the LLM calls of one document; pass it in the invoke `config` callbacks.

    `llm_calls`: model calls sent to the server, failed ones included (a call the openai client
    retried counts once); `cached_calls`: answered by the response cache, no request and no
    tokens; `prompt_tokens`/`completion_tokens`: the server's `usage`, summed. Thread-safe:
    a document's chunks are extracted concurrently.
    """

    def __init__(self) -> None:
        self.llm_calls = 0
        self.cached_calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.unreported_calls = 0  # answered without `usage`: the token sums are incomplete
        self._lock = threading.Lock()

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        usage = server_usage(response)
        with self._lock:
            if usage is None:
                self.cached_calls += 1
                return
            self.llm_calls += 1
            self.prompt_tokens += usage[0]
            self.completion_tokens += usage[1]
            if not (response.llm_output or {}).get("token_usage"):
                self.unreported_calls += 1

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        """A failed call; one the openai client refused as cut at max_tokens still has usage."""
        completion = getattr(error, "completion", None)  # openai.LengthFinishReasonError
        usage = getattr(completion, "usage", None)
        with self._lock:
            self.llm_calls += 1
            if usage is not None:
                self.prompt_tokens += _count(usage.prompt_tokens)
                self.completion_tokens += _count(usage.completion_tokens)

    def counts(self) -> dict[str, int]:
        """The totals, named as in `IngestResult`."""
        with self._lock:
            return {
                "llm_calls": self.llm_calls,
                "cached_calls": self.cached_calls,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            }


_active: ContextVar[LLMUsage | None] = ContextVar("kgrag_llm_usage", default=None)


@functools.cache
def _register_hook() -> None:
    """LangChain attaches the handler in `_active` to every run (registered once, on first use)."""
    register_configure_hook(_active, inheritable=True)


@contextlib.contextmanager
def count_llm_usage() -> Iterator[LLMUsage]:
    """Counts every chat-model call made in this block (in this thread's context), wherever
    it is made: retrieval, answer, grounding check."""
    _register_hook()
    usage = LLMUsage()
    token = _active.set(usage)
    try:
        yield usage
    finally:
        _active.reset(token)
