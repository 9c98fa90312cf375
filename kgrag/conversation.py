"""Follow-up questions ("and where is it located?") rewritten as standalone questions from
the earlier turns of a conversation, so retrieval sees the names the pronouns stand for."""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from kgrag.llm.structured import invoke_structured
from kgrag.prompts import Prompts

MAX_TURNS = 6  # earlier messages given to the rewrite (the most recent ones)
MAX_TURN_CHARS = 1000


class Turn(BaseModel):
    """One message of a conversation."""

    role: Literal["user", "assistant", "system"]
    content: str = Field(max_length=20000)


class StandaloneQuestion(BaseModel):
    question: str


def standalone_question(
    llm: BaseChatModel, prompts: Prompts, history: list[Turn], question: str
) -> str:
    """`question` unchanged without earlier user/assistant turns, else the LLM's rewrite."""
    turns = [t for t in history if t.role != "system"][-MAX_TURNS:]
    if not turns:
        return question
    lines = "\n".join(f"{t.role}: {t.content[:MAX_TURN_CHARS]}" for t in turns)
    messages = [
        SystemMessage(prompts.render("condense_system")),
        HumanMessage(prompts.render("condense_user", history=lines, question=question)),
    ]
    rewritten: StandaloneQuestion = invoke_structured(llm, messages, StandaloneQuestion).value  # type: ignore[assignment]
    return rewritten.question.strip() or question
