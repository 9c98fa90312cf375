"""POST /chat: a question in, an Answer (text, citations, triples, evidence, trace) out;
`stream: true` sends server-sent events instead: `retrieval` (what was found), `token`
(the answer in word-sized pieces), `citations`, then `answer` (the whole Answer) — or
`error` when the answer cannot be written."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from kgrag.api.deps import RuntimeDep
from kgrag.api.sse import event, sse_response, word_pieces
from kgrag.conversation import Turn
from kgrag.errors import KgragError
from kgrag.qa import answer_question, retrieve_context, write_answer
from kgrag.runtime import Runtime
from kgrag.settings import Strategy
from kgrag.types import Answer

router = APIRouter(tags=["chat"])


class ChatRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    strategies: list[Strategy] | None = Field(
        None, min_length=1, description="cypher, graph, kge, vector (default: configured)."
    )
    history: list[Turn] = Field(
        [], max_length=50, description="Earlier turns; a follow-up question is resolved by them."
    )
    stream: bool = Field(False, description="Server-sent events instead of one JSON answer.")


@router.post("/chat", response_model=Answer)
async def chat(body: ChatRequest, rt: RuntimeDep) -> Any:
    """The answer's `trace` shows what each strategy found (generated Cypher included)."""
    if body.stream:
        return sse_response(_events(rt, body))
    return await run_in_threadpool(
        answer_question, rt, body.question, body.strategies, body.history
    )


def _events(rt: Runtime, body: ChatRequest) -> Iterator[str]:
    start = time.perf_counter()
    try:
        context = retrieve_context(rt, body.question, body.strategies, body.history)
        yield event(
            {
                "question": context.question,
                "linked": [e.model_dump() for e in context.linked],
                "triples": [t.model_dump() for t in context.triples],
                "evidence": [
                    {k: e.model_dump()[k] for k in ("chunk_id", "document_title", "page", "via")}
                    for e in context.evidence
                ],
            },
            "retrieval",
        )
        answer = write_answer(rt, context, start)
    except KgragError as exc:
        yield event({"detail": str(exc), "error": type(exc).__name__}, "error")
        return
    for piece in word_pieces(answer.text):
        yield event({"text": piece}, "token")
    yield event([c.model_dump() for c in answer.citations], "citations")
    yield event(answer.model_dump(), "answer")
