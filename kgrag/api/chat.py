"""POST /chat: a question in, an Answer (text, citations, triples, evidence, trace) out."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from kgrag.api.deps import RuntimeDep
from kgrag.qa import answer_question
from kgrag.settings import Strategy
from kgrag.types import Answer

router = APIRouter(tags=["chat"])


class ChatRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    strategies: list[Strategy] | None = Field(
        None, min_length=1, description="cypher, graph, vector (default: configured)."
    )


@router.post("/chat", response_model=Answer)
async def chat(body: ChatRequest, rt: RuntimeDep) -> Answer:
    """The answer's `trace` shows what each strategy found (generated Cypher included)."""
    return await run_in_threadpool(answer_question, rt, body.question, body.strategies)
