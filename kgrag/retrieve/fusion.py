"""Reciprocal rank fusion (Cormack et al., 2009): rankings from different scorers merged by
rank alone, so BM25 scores and cosines never need a common scale."""

from __future__ import annotations

from collections.abc import Sequence


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int) -> list[tuple[str, float]]:
    """Ids by the sum of 1 / (k + rank) over the rankings they appear in (rank 1 = best),
    best first; ties keep the order in which ids were first seen."""
    if k < 1:
        raise ValueError(f"the RRF constant k must be at least 1, not {k}")
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, id_ in enumerate(ranking, start=1):
            scores[id_] = scores.get(id_, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
