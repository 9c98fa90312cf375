"""Question answering: retrieve context for a question, then write the cited answer."""

from __future__ import annotations

import logging
import time

from kgrag.answer import AnswerWriter
from kgrag.conversation import Turn, standalone_question
from kgrag.errors import ServiceUnavailableError
from kgrag.runtime import Runtime
from kgrag.settings import Strategy
from kgrag.store.neo4j_store import SERVICE as GRAPH_STORE
from kgrag.types import Answer, RetrievedContext

log = logging.getLogger(__name__)


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
        try:
            context = rt.retriever(strategies).retrieve(question)
        except ServiceUnavailableError as exc:
            if exc.service != GRAPH_STORE:
                raise
            context = vector_only_context(rt, question, reason=str(exc))
    if question != asked:
        context.trace["asked"] = asked
        context.trace["standalone_question"] = question
    return context


def vector_only_context(rt: Runtime, question: str, *, reason: str) -> RetrievedContext:
    """Vector (and lexical) search over the local chunk copy, for when the graph store is
    unreachable."""
    query = rt.embedder.embed([question])[0]
    hits = rt.chunk_search().search(question, query, rt.settings.top_k_chunks)
    evidence = rt.chunk_texts.get([chunk_id for chunk_id, _ in hits])
    scores = dict(hits)
    for item in evidence:
        item.score = round(scores[item.chunk_id], 4)
    degraded = f"{reason}; answered from vector search only (no graph facts)"
    log.warning("question answered without the graph: %s", reason)
    return RetrievedContext(
        question=question,
        evidence=evidence,
        trace={"strategies": ["vector"], "degraded": degraded, "vector_chunks": list(scores)},
    )


def write_answer(
    rt: Runtime, context: RetrievedContext, start: float, *, short: bool = False
) -> Answer:
    """The cited answer from the context; `start` is when the question arrived. `short`: the
    bare answer span (for evaluation)."""
    writer = AnswerWriter(rt.chat_model, rt.prompts, verify=rt.settings.verify_answers, short=short)
    answer = writer.answer(context)
    answer.degraded = context.trace.get("degraded")
    for citation in answer.citations:
        if rt.page_images.path(citation.document_id, citation.page) is not None:
            citation.page_image_url = rt.page_images.url(citation.document_id, citation.page)
    answer.trace["timings_s"] = {
        **answer.trace.get("timings_s", {}),
        "total_s": round(time.perf_counter() - start, 3),
    }
    return answer
