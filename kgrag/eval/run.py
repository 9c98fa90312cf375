"""One evaluation run: ingest the corpus documents, then answer and score every question."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from kgrag.errors import DatasetError, LLMOutputError
from kgrag.eval.datasets import Dataset, QAItem, passages_to_ingest, write_documents
from kgrag.eval.metrics import RECALL_KS, exact_match, ranked_documents, recall_at_k, token_f1
from kgrag.ingest.pipeline import IngestPipeline, expand_paths
from kgrag.llm.usage import count_llm_usage
from kgrag.qa import retrieve_context, write_answer
from kgrag.retrieve.router import Retriever
from kgrag.runtime import Runtime
from kgrag.settings import Strategy
from kgrag.types import Answer, IngestResult

RANKING_DEPTH = max(RECALL_KS)  # chunks of the retrieval-only ranking that recall@k scores


class QuestionResult(BaseModel):
    """One question under one strategy set: the answer, its scores, costs and the ranking."""

    id: str
    question: str
    answers: list[str]
    answer: str  # what kgrag said ("I don't know …" when unsupported); "" when not asked
    supported: bool | None  # None: retrieval only, no answer asked for
    em: float | None
    f1: float | None
    supporting_titles: list[str]
    ranked_titles: list[str]  # documents of the retrieval-only ranking, best first
    recall: dict[int, float] | None  # recall@k; None without supporting titles
    retrieval_s: float | None
    total_s: float | None
    llm_calls: int
    prompt_tokens: int | None  # None when the server did not report usage
    completion_tokens: int | None
    error: str | None = None  # the LLM output could not be used


def corpus_documents(
    dataset: Dataset, items: list[QAItem], *, limited: bool, directory: Path
) -> list[Path]:
    """The files to ingest: titled passages written as documents into `directory`, or the
    corpus folder's files."""
    passages = passages_to_ingest(dataset, items, limited=limited)
    if passages:
        return write_documents(passages, directory)
    if dataset.corpus_dir is not None:
        return expand_paths([dataset.corpus_dir])
    raise DatasetError(
        f"{dataset.qa_path}: the questions carry no passages and there is no corpus: "
        "give --corpus (a folder of documents, or JSON/JSONL of {title, text})"
    )


def ingest_documents(
    rt: Runtime,
    paths: list[Path],
    on_done: Callable[[IngestResult], None] | None = None,
    *,
    extract: bool = True,
) -> list[IngestResult]:
    """Ingest the files as one batch (their extraction requests overlap; unchanged ones are
    skipped by the pipeline); `on_done` hears of each file as it is finished, in order.
    `extract=False` stores chunks only, no graph."""
    return IngestPipeline(rt, extract=extract).ingest_paths(paths, on_result=on_done)


def evaluate(
    rt: Runtime,
    items: list[QAItem],
    strategies: list[Strategy],
    on_done: Callable[[QuestionResult], None] | None = None,
    *,
    answer: bool = True,
) -> list[QuestionResult]:
    """Answer each question (short-answer mode) with these strategies and score it;
    `answer=False` scores the retrieval alone (recall@k, retrieval latency)."""
    ranker = rt.retriever(strategies, depth=RANKING_DEPTH)
    results = []
    for item in items:
        one = _evaluate_one if answer else _retrieve_one
        results.append(one(rt, ranker, item, strategies))
        if on_done:
            on_done(results[-1])
    return results


def _ranking(rt: Runtime, ranker: Retriever, item: QAItem) -> list[str]:
    """Document titles of the retrieval-only ranking. It goes first: it also loads the indexes
    and models, so that no question's timed retrieval pays for loading them."""
    with rt.lock:
        return ranked_documents(e.document_title for e in ranker.retrieve(item.question).evidence)


def _retrieve_one(
    rt: Runtime, ranker: Retriever, item: QAItem, strategies: list[Strategy]
) -> QuestionResult:
    ranked = _ranking(rt, ranker, item)
    with count_llm_usage() as usage:  # text2cypher asks the LLM
        start = time.perf_counter()
        retrieve_context(rt, item.question, strategies)
        retrieval_s = round(time.perf_counter() - start, 3)
    return QuestionResult(
        id=item.id,
        question=item.question,
        answers=item.answers,
        answer="",
        supported=None,
        em=None,
        f1=None,
        supporting_titles=item.supporting_titles,
        ranked_titles=ranked,
        recall=recall_at_k(item.supporting_titles, ranked),
        retrieval_s=retrieval_s,
        total_s=None,
        llm_calls=usage.llm_calls,
        prompt_tokens=None if usage.unreported_calls else usage.prompt_tokens,
        completion_tokens=None if usage.unreported_calls else usage.completion_tokens,
    )


def _evaluate_one(
    rt: Runtime, ranker: Retriever, item: QAItem, strategies: list[Strategy]
) -> QuestionResult:
    ranked = _ranking(rt, ranker, item)
    answer: Answer | None = None
    error = None
    retrieval_s = None
    with count_llm_usage() as usage:
        try:
            start = time.perf_counter()
            context = retrieve_context(rt, item.question, strategies)
            retrieval_s = round(time.perf_counter() - start, 3)
            answer = write_answer(rt, context, start, short=True)
        except LLMOutputError as exc:
            error = str(exc)
    supported = answer is not None and answer.supported
    if item.answerable:
        prediction = answer.text if answer is not None and supported else ""
        em, f1 = exact_match(prediction, item.answers), token_f1(prediction, item.answers)
    else:  # the right reply is "I don't know"
        em = f1 = float(answer is not None and not supported)
    return QuestionResult(
        id=item.id,
        question=item.question,
        answers=item.answers,
        answer=answer.text if answer is not None else "",
        supported=supported,
        em=em,
        f1=f1,
        supporting_titles=item.supporting_titles,
        ranked_titles=ranked,
        recall=recall_at_k(item.supporting_titles, ranked),
        retrieval_s=retrieval_s,
        total_s=answer.trace["timings_s"]["total_s"] if answer is not None else None,
        llm_calls=usage.llm_calls,
        prompt_tokens=None if usage.unreported_calls else usage.prompt_tokens,
        completion_tokens=None if usage.unreported_calls else usage.completion_tokens,
        error=error,
    )
