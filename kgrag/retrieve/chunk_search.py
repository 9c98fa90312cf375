"""Chunks relevant to a question: dense (FAISS cosine), lexical (BM25) or both fused (RRF)."""

from __future__ import annotations

import numpy as np

from kgrag.lexical import LexicalIndex
from kgrag.retrieve.fusion import reciprocal_rank_fusion
from kgrag.settings import VectorMode
from kgrag.vectors import VectorIndex


class ChunkSearch:
    """`search()` returns (chunk id, relevance) best first. Dense relevance is the cosine; the
    lexical and hybrid modes give the RRF score over the `depth` best of each list, scaled so
    that first place in every list is 1.0 (comparable with cosines and graph bonuses)."""

    def __init__(
        self,
        vectors: VectorIndex,
        lexical: LexicalIndex,
        *,
        mode: VectorMode,
        rrf_k: int,
        depth: int,
    ) -> None:
        self.vectors = vectors
        self.lexical = lexical
        self.mode = mode
        self.rrf_k = rrf_k
        self.depth = depth

    def search(self, question: str, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k best chunks for the question (`query`: its embedding, one row)."""
        return self.candidates(question, query, k)[:k]

    def candidates(self, question: str, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Every chunk that reached the fusion (at least k), best first."""
        if self.mode == "dense":
            return self.vectors.search(query.reshape(1, -1), k)[0]
        depth = max(k, self.depth)
        rankings = [[id_ for id_, _ in self.lexical.search(question, depth)]]
        if self.mode == "hybrid":
            rankings.append([id_ for id_, _ in self.vectors.search(query.reshape(1, -1), depth)[0]])
        scale = len(rankings) / (self.rrf_k + 1)
        fused = reciprocal_rank_fusion(rankings, self.rrf_k)
        return [(id_, score / scale) for id_, score in fused]
