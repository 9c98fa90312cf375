"""Reciprocal rank fusion and the three ways ChunkSearch finds chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrag.lexical import LexicalIndex
from kgrag.retrieve.chunk_search import ChunkSearch
from kgrag.retrieve.fusion import reciprocal_rank_fusion
from kgrag.vectors import VectorIndex


def test_rrf_sums_reciprocal_ranks():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "d", "a"]], k=1)
    # a: 1/2 + 1/4; c: 1/4 + 1/2; b: 1/3; d: 1/3 -- ties keep first-seen order
    assert fused == [("a", 0.75), ("c", 0.75), ("b", 1 / 3), ("d", 1 / 3)]


def test_rrf_prefers_agreement_over_one_first_place():
    fused = dict(reciprocal_rank_fusion([["x", "y"], ["z", "y"]], k=60))
    assert fused["y"] > fused["x"] == fused["z"]


def test_rrf_refuses_a_bad_constant():
    with pytest.raises(ValueError, match="at least 1"):
        reciprocal_rank_fusion([["a"]], k=0)


@pytest.fixture
def indexes(tmp_path: Path) -> tuple[VectorIndex, LexicalIndex]:
    """Dense vectors that rank a > b > c for the query e0; BM25 that finds only c."""
    vectors = VectorIndex.empty(tmp_path / "v", 3)
    rows = np.array([[1, 0, 0], [0.8, 0.6, 0], [0.6, 0, 0.8]], dtype="float32")
    vectors.add(["a", "b", "c"], rows)
    lexical = LexicalIndex(tmp_path / "l.sqlite", ngram=2)
    lexical.add(["a", "b", "c"], ["첫째 문서", "둘째 문서", "노을철도 개통"])
    return vectors, lexical


QUERY = np.array([1, 0, 0], dtype="float32")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("dense", ["a", "b", "c"]),
        ("lexical", ["c"]),
        ("hybrid", ["c", "a", "b"]),  # c: 1/(k+3) + 1/(k+1) beats a: 1/(k+1)
    ],
)
def test_modes_rank_by_their_own_evidence(indexes, mode, expected):
    search = ChunkSearch(*indexes, mode=mode, rrf_k=60, depth=10)
    assert [i for i, _ in search.search("노을철도는 언제 개통했나?", QUERY, 3)] == expected


def test_fused_relevance_is_one_for_first_place_everywhere(indexes):
    vectors, lexical = indexes
    lexical.add(["d"], ["첫째 문서 첫째"])
    search = ChunkSearch(vectors, lexical, mode="hybrid", rrf_k=60, depth=10)
    top, score = search.search("첫째", QUERY, 1)[0]
    assert top == "a" and score < 1.0  # first by vectors, second by BM25
    lexical.remove(["d"])
    assert search.search("첫째", QUERY, 1)[0] == ("a", pytest.approx(1.0))
