"""Per-document LLM accounting: model calls, response-cache hits, tokens the server reported."""

from __future__ import annotations

import threading
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult


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

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        with self._lock:
            self.llm_calls += 1

    def counts(self) -> dict[str, int]:
        """The totals, named as in `IngestResult`."""
        with self._lock:
            return {
                "llm_calls": self.llm_calls,
                "cached_calls": self.cached_calls,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            }
