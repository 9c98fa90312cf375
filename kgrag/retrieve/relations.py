"""Link question phrases to relationship types ("founder" -> FOUNDED, "headquartered" ->
LOCATED_IN) by embedding similarity to the type names and their aliases."""

from __future__ import annotations

import numpy as np

from kgrag.ports import Embedder
from kgrag.retrieve.link import question_spans
from kgrag.type_names import words
from kgrag.types import LinkedRelation

MAX_SPAN = 2  # relation phrases are short: "founded", "works for", "alma mater"


def relation_words(name: str) -> str:
    """`WORKS_FOR` -> `works for`: how a type name reads in a question."""
    return " ".join(words(name))


class RelationLinker:
    """Finds the relationship types a question asks about."""

    def __init__(
        self, relation_names: dict[str, list[str]], embedder: Embedder, *, threshold: float
    ) -> None:
        """`relation_names`: each relationship type with its aliases."""
        self.embedder = embedder
        self.threshold = threshold
        self._types = [t for t, aliases in relation_names.items() for _ in (t, *aliases)]
        surfaces = [relation_words(n) for t, al in relation_names.items() for n in (t, *al)]
        self._vectors = embedder.embed(surfaces) if surfaces else np.zeros((0, 1), np.float32)

    def link(self, question: str) -> list[LinkedRelation]:
        spans = question_spans(question, MAX_SPAN)
        if not spans or not self._types:
            return []
        similarity = self.embedder.embed(spans) @ self._vectors.T  # (spans, surfaces)
        best: dict[str, LinkedRelation] = {}
        for (i, j), score in np.ndenumerate(similarity):
            rel_type = self._types[j]
            if score >= self.threshold and score > getattr(best.get(rel_type), "score", -1):
                best[rel_type] = LinkedRelation(
                    mention=spans[i], type=rel_type, score=round(float(score), 4)
                )
        return sorted(best.values(), key=lambda r: -r.score)
