"""A bilingual retrieval set (topics, each with one passage and some questions per language)
and recall@k per language pair: questions in one language over the passages of another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

# (passage ids, passage texts, questions) -> ranked passage ids per question
Ranker = Callable[[list[str], list[str], list[str]], list[list[str]]]


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    topic: str


@dataclass(frozen=True)
class BilingualSet:
    passages: dict[str, dict[str, str]]  # lang -> passage id ("<topic>-<lang>") -> text
    questions: list[Question]

    @classmethod
    def load(cls, path: Path) -> BilingualSet:
        topics = yaml.safe_load(path.read_text(encoding="utf-8"))["topics"]
        langs = [k for k in topics[0] if k not in ("id", "questions")]
        passages = {lang: {f"{t['id']}-{lang}": t[lang] for t in topics} for lang in langs}
        questions = [
            Question(q[lang], lang, t["id"]) for t in topics for q in t["questions"] for lang in q
        ]
        return cls(passages, questions)

    def recall(self, rank: Ranker, asked: str, over: str, ks: tuple[int, ...]) -> dict[int, float]:
        """Share of the `asked`-language questions whose topic's `over`-language passage is in
        the top k of `rank` over all `over`-language passages, for each k."""
        corpus = self.passages[over]
        questions = [q for q in self.questions if q.lang == asked]
        ranked = rank(list(corpus), list(corpus.values()), [q.text for q in questions])
        gold = [f"{q.topic}-{over}" for q in questions]
        return {
            k: sum(g in r[:k] for g, r in zip(gold, ranked, strict=True)) / len(questions)
            for k in ks
        }
