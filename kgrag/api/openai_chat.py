"""POST /v1/chat/completions: kgrag as an OpenAI-compatible "model" for existing chat clients.

The last user message is the question; earlier user/assistant messages are the conversation
that a follow-up is resolved against. The assistant message is the answer; citations,
triples and inferred links travel in the `kgrag` extension field of the completion (and of
the last chunk when streaming). Extra request fields (temperature, max_tokens, …) are
accepted and ignored; `strategies` may be passed as an extra body field.

Streaming sends the answer once it has passed the grounding check (which needs the whole
answer), as word-sized deltas.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kgrag.api.deps import RuntimeDep
from kgrag.api.sse import DONE, event, sse_response, word_pieces
from kgrag.conversation import Turn
from kgrag.qa import answer_question
from kgrag.settings import Strategy
from kgrag.types import Answer

router = APIRouter(tags=["openai"])
MODEL_NAME = "kgrag"


class Message(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text (a list of content parts: their `text` parts joined)."""
        if isinstance(self.content, list):
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = MODEL_NAME
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    strategies: list[Strategy] | None = Field(None, min_length=1)


def _extension(answer: Answer) -> dict[str, Any]:
    """kgrag's part of a completion: what the answer rests on."""
    return {
        "supported": answer.supported,
        "citations": [c.model_dump() for c in answer.citations],
        "triples": [t.model_dump() for t in answer.triples],
        "inferred": [t.model_dump() for t in answer.inferred],
        "standalone_question": answer.trace.get("standalone_question"),
    }


def _conversation(body: CompletionRequest) -> tuple[str, list[Turn]]:
    *earlier, last = body.messages
    question = last.text().strip()
    if last.role != "user" or not question:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "the last message must be a non-empty user message",
        )
    history = [
        Turn(role=m.role, content=m.text()) for m in earlier if m.role in ("user", "assistant")
    ]
    return question, history


@router.post("/v1/chat/completions")
async def chat_completions(body: CompletionRequest, rt: RuntimeDep) -> Any:
    question, history = _conversation(body)
    answer = await run_in_threadpool(answer_question, rt, question, body.strategies, history)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        return sse_response(_chunks(completion_id, created, answer))
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_NAME,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": "stop",
            }
        ],
        "kgrag": _extension(answer),
    }


def _chunks(completion_id: str, created: int, answer: Answer) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return event(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL_NAME,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
        )

    yield chunk({"role": "assistant", "content": ""})
    for piece in word_pieces(answer.text):
        yield chunk({"content": piece})
    yield chunk({}, "stop", kgrag=_extension(answer))
    yield DONE
