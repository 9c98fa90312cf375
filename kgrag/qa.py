"""Question answering: retrieve context for a question, then write the cited answer."""

from __future__ import annotations

import time

from kgrag.answer import AnswerWriter
from kgrag.conversation import Turn, standalone_question
from kgrag.runtime import Runtime
from kgrag.settings import Strategy
from kgrag.types import Answer, RetrievedContext


def answer_question(
    rt: Runtime,
    question: str,
    strategies: list[Strategy] | None = None,
    history: list[Turn] | None = None,
) -> Answer:
    start = time.perf_counter()
    context = retrieve_context(rt, question, strategies, history)
    return write_answer(rt, context, start)


def retrieve_context(
    rt: Runtime,
    question: str,
    strategies: list[Strategy] | None = None,
    history: list[Turn] | None = None,
) -> RetrievedContext:
    """The context for `question`, first made standalone when earlier turns are given."""
    asked = question
    if history:
        question = standalone_question(rt.chat_model, rt.prompts, history, question)
    with rt.lock:
        context = rt.retriever(strategies).retrieve(question)
    if question != asked:
        context.trace["asked"] = asked
        context.trace["standalone_question"] = question
    return context


def write_answer(
    rt: Runtime, context: RetrievedContext, start: float, *, short: bool = False
) -> Answer:
    """The cited answer from the context; `start` is when the question arrived. `short`: the
    bare answer span (for evaluation)."""
    writer = AnswerWriter(rt.chat_model, rt.prompts, verify=rt.settings.verify_answers, short=short)
    answer = writer.answer(context)
    answer.trace["timings_s"] = {
        **answer.trace.get("timings_s", {}),
        "total_s": round(time.perf_counter() - start, 3),
    }
    return answer
