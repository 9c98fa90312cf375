"""The `kge` retrieval strategy: rank the triples around the linked entities by KGE
plausibility × relevance to the question, and offer the model's missing-link predictions
(marked inferred, kept apart from extracted facts)."""

from __future__ import annotations

from typing import Any

import numpy as np

from kgrag.kge.model import KgeModel, Staleness
from kgrag.ports import Embedder
from kgrag.types import Triple

# Plausibility given to a triple the model has not seen (an entity added after training).
UNSEEN_PLAUSIBILITY = 0.5


def triple_text(triple: Triple) -> str:
    """`Ada Lovelace founded Acme`: the triple as words, for embedding."""
    return f"{triple.subject} {triple.predicate.replace('_', ' ').lower()} {triple.object}"


class KgeRanker:
    """Scores candidate triples with a trained model; without one it says so in the trace."""

    def __init__(
        self,
        model: KgeModel | None,
        embedder: Embedder,
        *,
        top_k: int,
        predictions: int,
        staleness: Staleness | None = None,
    ) -> None:
        self.model = model
        self.embedder = embedder
        self.top_k = top_k
        self.predictions = predictions
        self.staleness = staleness

    def rank(self, question: np.ndarray, triples: list[Triple]) -> tuple[list[Triple], dict]:
        """The top_k triples by plausibility × max(cosine(question, triple), 0)."""
        if self.model is None:
            return triples, {"model": None, "note": "no KGE model; run `kgrag kge train`"}
        plausible = self.model.plausibility(
            [(t.subject_id, t.predicate, t.object_id) for t in triples]
        )
        relevance = (
            self.embedder.embed([triple_text(t) for t in triples]) @ question
            if triples
            else np.zeros(0)
        )
        scored = []
        for triple, p, r in zip(triples, plausible, relevance.tolist(), strict=True):
            p_used = UNSEEN_PLAUSIBILITY if p is None else p
            scored.append((p_used * max(r, 0.0), triple.model_copy(update={"plausibility": p})))
        scored.sort(key=lambda pair: -pair[0])
        kept = [t for _, t in scored[: self.top_k]]
        return kept, {
            **self.describe(),
            "scored": len(triples),
            "unseen": sum(p is None for p in plausible),
            "kept": [
                {"triple": triple_text(t), "plausibility": t.plausibility, "score": round(s, 4)}
                for s, t in scored[: self.top_k]
            ],
        }

    def infer(self, entity_ids: list[str]) -> list[Triple]:
        """Missing links of the linked entities the model finds most plausible."""
        if self.model is None or self.predictions < 1 or not entity_ids:
            return []
        return self.model.predict(entity_ids, self.predictions)

    def describe(self) -> dict[str, Any]:
        if self.model is None:
            return {"model": None}
        return {
            "model": self.model.meta.config.model,
            "trained_on_triples": self.model.meta.triples,
            "stale": None if self.staleness is None else self.staleness.stale,
        }
