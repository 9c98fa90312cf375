"""A bilingual retrieval set (topics, each with one passage and some questions per language)
and recall@k per language pair: questions in one language over the passages of another."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from kgrag.lexical import LexicalIndex
from kgrag.retrieve.chunk_search import ChunkSearch
from kgrag.settings import VectorMode
from kgrag.vectors import VectorIndex

# (passage ids, passage texts, questions) -> ranked passage ids per question
Ranker = Callable[[list[str], list[str], list[str]], list[list[str]]]
Encode = Callable[[list[str]], np.ndarray]


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


def chunk_search_ranker(
    mode: VectorMode,
    embed_passages: Encode,
    embed_questions: Encode,
    *,
    rrf_k: int,
    depth: int,
    ngram: int = 2,
) -> Ranker:
    """Ranks passages as kgrag ranks chunks: ChunkSearch over a fresh VectorIndex and
    LexicalIndex (in a temporary folder) holding just those passages."""

    def rank(ids: list[str], texts: list[str], questions: list[str]) -> list[list[str]]:
        passages, queries = embed_passages(texts), embed_questions(questions)
        with tempfile.TemporaryDirectory() as tmp:
            vectors = VectorIndex.empty(Path(tmp) / "v", passages.shape[1])
            vectors.add(ids, passages)
            lexical = LexicalIndex(Path(tmp) / "lexical.sqlite", ngram=ngram)
            lexical.add(ids, texts)
            search = ChunkSearch(vectors, lexical, mode=mode, rrf_k=rrf_k, depth=depth)
            ranked = [
                [i for i, _ in search.search(q, v, len(ids))]
                for q, v in zip(questions, queries, strict=True)
            ]
            lexical.close()
        return ranked

    return rank
