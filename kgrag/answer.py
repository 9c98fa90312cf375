"""Answer: RetrievedContext + question -> Answer with citations (document, page, chunk, quote)."""

from __future__ import annotations

import re
import time
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from kgrag.llm.structured import invoke_structured
from kgrag.prompt_items import fact_line, passage, row_line
from kgrag.prompts import Prompts
from kgrag.sentences import split_sentences
from kgrag.types import Answer, Citation, Evidence, RetrievedContext

NO_ANSWER = "I don't know from these documents."
_WORD = re.compile(r"\w+", flags=re.UNICODE)


class LLMAnswer(BaseModel):
    """What the LLM must return (JSON schema-constrained)."""

    answer: str = Field(description="Short answer to the question.")
    evidence: list[int] = Field(default_factory=list, description="Numbers of supporting passages.")
    supported: bool = Field(description="Whether the passages contain the answer.")


class Verdict(BaseModel):
    """The grounding check's reply."""

    supported: bool


class AnswerWriter:
    """Writes the answer from the evidence, then optionally checks it against the cited passages.

    `short=True` asks for the bare answer span (a name, date, number): what Exact Match and F1
    score in `kgrag eval`.
    """

    def __init__(
        self, llm: BaseChatModel, prompts: Prompts, *, verify: bool = True, short: bool = False
    ) -> None:
        self.llm = llm
        self.prompts = prompts
        self.verify = verify
        self.system_prompt = "answer_short_system" if short else "answer_system"

    def answer(self, context: RetrievedContext) -> Answer:
        trace = dict(context.trace)
        if not context.evidence:
            return _unsupported(context, trace)
        messages = [
            SystemMessage(self.prompts.render(self.system_prompt)),
            HumanMessage(
                self.prompts.render(
                    "answer_user",
                    question=context.question,
                    facts=_facts(context),
                    evidence=_passages(context.evidence),
                )
            ),
        ]
        start = time.perf_counter()
        result = invoke_structured(self.llm, messages, LLMAnswer)
        trace["timings_s"] = {
            **trace.get("timings_s", {}),
            "answer_s": round(time.perf_counter() - start, 3),
        }
        trace["llm_repaired"] = result.repaired
        reply: LLMAnswer = result.value  # type: ignore[assignment]
        cited = [
            context.evidence[i - 1]
            for i in dict.fromkeys(reply.evidence)
            if 1 <= i <= len(context.evidence)
        ]
        if not reply.supported or not reply.answer.strip():
            return _unsupported(context, trace)
        if not cited:  # supported but no valid passage number: cite the best-matching passage
            cited = [max(context.evidence, key=lambda e: _overlap(reply.answer, e.text))]
        if self.verify and not self._grounded(context.question, reply.answer, cited, trace):
            # A small model often cites one hop of a multi-hop answer: check the answer again
            # against the retrieved passages that contain its new words, and cite those.
            stating = _stating(reply.answer, context.question, context.evidence)
            if set(map(id, stating)) <= set(map(id, cited)) or not self._grounded(
                context.question, reply.answer, stating, trace
            ):
                return _unsupported(context, trace)
            trace["verified_against"] = "the passages stating the answer's words"
            cited = stating
        return Answer(
            question=context.question,
            text=reply.answer.strip(),
            supported=True,
            citations=[_citation(e, reply.answer, context.question) for e in cited],
            triples=context.triples,
            inferred=context.inferred,
            evidence=context.evidence,
            trace=trace,
        )

    def _grounded(self, question: str, answer: str, cited: list[Evidence], trace: dict) -> bool:
        """Second opinion: do the cited passages state the answer? (catches confident guesses)"""
        messages = [
            SystemMessage(self.prompts.render("verify_system")),
            HumanMessage(
                self.prompts.render(
                    "verify_user", question=question, answer=answer, evidence=_passages(cited)
                )
            ),
        ]
        start = time.perf_counter()
        verdict: Verdict = invoke_structured(self.llm, messages, Verdict).value  # type: ignore[assignment]
        spent = time.perf_counter() - start + trace["timings_s"].get("verify_s", 0.0)
        trace["timings_s"]["verify_s"] = round(spent, 3)
        trace["verified"] = verdict.supported
        trace["unverified_answer"] = None if verdict.supported else answer
        return verdict.supported


def _unsupported(context: RetrievedContext, trace: dict[str, Any]) -> Answer:
    return Answer(
        question=context.question,
        text=NO_ANSWER,
        supported=False,
        evidence=context.evidence,
        triples=context.triples,
        inferred=context.inferred,
        trace=trace,
    )


def _facts(context: RetrievedContext) -> str:
    """Graph triples (with their KGE plausibility when scored), then the rows of the generated
    Cypher query, one line each. Inferred links are not facts and never go in."""
    lines = [fact_line(t) for t in context.triples]
    lines += [row_line(row) for row in context.cypher_rows]
    return "\n".join(lines) or "(none)"


def _passages(evidence: list[Evidence]) -> str:
    return "\n\n".join(passage(i, e) for i, e in enumerate(evidence, start=1))


def _overlap(a: str, b: str) -> int:
    return len(set(_WORD.findall(a.lower())) & set(_WORD.findall(b.lower())))


def _stating(answer: str, question: str, passages: list[Evidence]) -> list[Evidence]:
    """The passages that contain words of the answer which the question does not."""
    new_words = set(_WORD.findall(answer.lower())) - set(_WORD.findall(question.lower()))
    return [e for e in passages if new_words & set(_WORD.findall(e.text.lower()))]


def _citation(evidence: Evidence, answer: str, question: str) -> Citation:
    """Quote the passage's sentence that best matches the answer (then the question)."""
    text = evidence.text

    def match(span: tuple[int, int]) -> tuple[int, int]:
        sentence = text[span[0] : span[1]]
        return _overlap(answer, sentence), _overlap(question, sentence)

    s, e = max(split_sentences(text) or [(0, 0)], key=match)
    e = min(e, s + 300)
    return Citation(
        document=evidence.document_title,
        document_id=evidence.document_id,
        page=evidence.page,
        chunk_id=evidence.chunk_id,
        quote=text[s:e],
        start=evidence.start + s,
        end=evidence.start + e,
    )
