"""Question answering: retrieve context for a question, then write the cited answer."""

from __future__ import annotations

import time

from kgrag.answer import AnswerWriter
from kgrag.runtime import Runtime
from kgrag.settings import Strategy
from kgrag.types import Answer


def answer_question(rt: Runtime, question: str, strategies: list[Strategy] | None = None) -> Answer:
    start = time.perf_counter()
    with rt.lock:
        context = rt.retriever(strategies).retrieve(question)
    writer = AnswerWriter(rt.chat_model, rt.prompts, verify=rt.settings.verify_answers)
    answer = writer.answer(context)
    answer.trace["timings_s"] = {
        **answer.trace.get("timings_s", {}),
        "total_s": round(time.perf_counter() - start, 3),
    }
    return answer
