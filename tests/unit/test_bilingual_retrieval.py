"""Retrieval on the bilingual test set (tests/data/bilingual): hybrid BM25 + MiniLM finds the
Korean passages that MiniLM alone misses, and the bundled multilingual embedder crosses
languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgrag.embed import USE_MULTILINGUAL, make_embedder
from kgrag.eval.bilingual import BilingualSet, chunk_search_ranker

DATA = BilingualSet.load(Path(__file__).parent.parent / "data" / "bilingual" / "topics.yaml")


@pytest.fixture(scope="module")
def minilm():
    return make_embedder()  # the default, English-only MiniLM


def _recall(embedder, mode: str, asked: str, over: str) -> dict[int, float]:
    rank = chunk_search_ranker(mode, embedder.embed, embedder.embed, rrf_k=60, depth=50)
    return DATA.recall(rank, asked, over, (1, 5))


def test_the_set_has_both_languages_for_every_topic():
    assert DATA.passages["ko"].keys() == {p.replace("-en", "-ko") for p in DATA.passages["en"]}
    assert {q.lang for q in DATA.questions} == {"ko", "en"}
    assert all(f"{q.topic}-ko" in DATA.passages["ko"] for q in DATA.questions)


def test_hybrid_finds_korean_passages_that_minilm_misses(minilm):
    dense = _recall(minilm, "dense", "ko", "ko")
    hybrid = _recall(minilm, "hybrid", "ko", "ko")
    assert dense[5] < 0.9  # MiniLM alone misses Korean passages even in its top 5
    assert hybrid[5] == 1.0  # every Korean question finds its passage in the hybrid top 5
    assert hybrid[1] >= dense[1] + 0.3


def test_lexical_alone_answers_korean_over_korean(minilm):
    assert _recall(minilm, "lexical", "ko", "ko")[1] >= 0.9


def test_hybrid_keeps_english_retrieval(minilm):
    assert _recall(minilm, "hybrid", "en", "en")[1] == 1.0


def test_the_bundled_multilingual_embedder_crosses_languages(minilm):
    use = make_embedder(USE_MULTILINGUAL)
    assert _recall(use, "dense", "ko", "en")[5] >= 0.9
    assert _recall(use, "dense", "en", "ko")[5] >= 0.9
    assert _recall(minilm, "dense", "ko", "en")[1] < 0.5  # what MiniLM cannot do
