"""The lexical (BM25) index: tokens, persistence, in-place changes, and searches that work
for Korean without a morphological analyser."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kgrag import lexical
from kgrag.lexical import LexicalIndex, text_ngrams, words

DATA = Path(__file__).parent.parent / "data"
with (DATA / "lexical_tokens.csv").open(encoding="utf-8") as f:
    TOKEN_CASES = [(r["text"], r["words"].split(), r["grams"].split()) for r in csv.DictReader(f)]


@pytest.mark.parametrize(("text", "expected_words", "expected_grams"), TOKEN_CASES)
def test_words_split_by_script_and_uncased_words_into_bigrams(text, expected_words, expected_grams):
    assert words(text) == expected_words
    assert text_ngrams(text, 2) == expected_grams


def _index(tmp_path: Path, ngram: int = 2) -> LexicalIndex:
    return LexicalIndex(tmp_path / "lex.sqlite", ngram=ngram)


PASSAGES = {
    "seoul": "서울은 한국의 수도이며 인구가 가장 많은 도시다.",
    "busan": "부산은 한국 최대의 항구 도시로 해마다 영화제가 열린다.",
    "tide": "모래시계소프트웨어는 TideDB라는 시계열 데이터베이스를 만든다.",
    "paris": "Paris is the capital of France.",
}


@pytest.mark.parametrize(
    ("question", "best"),
    [
        ("서울에는 사람이 얼마나 사나요?", "seoul"),  # 서울에는 ~ 서울은 through the n-gram 서울
        ("영화제는 어느 항구에서 열리나요?", "busan"),  # 영화제는 ~ 영화제가, 항구에서 ~ 항구
        ("Which company makes TideDB?", "tide"),  # a Latin word inside Korean text
        ("What is the capital city of France?", "paris"),
    ],
)
def test_search_finds_passages_through_particles_and_scripts(tmp_path: Path, question, best):
    index = _index(tmp_path)
    index.add(list(PASSAGES), list(PASSAGES.values()))
    hits = index.search(question, 3)
    assert hits[0][0] == best
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_unrelated_or_empty_queries_find_nothing(tmp_path: Path):
    index = _index(tmp_path)
    index.add(list(PASSAGES), list(PASSAGES.values()))
    assert index.search("?!", 5) == []
    assert index.search("quantum chromodynamics", 5) == []
    assert _index(tmp_path / "empty").search("서울", 5) == []


def test_adds_once_removes_and_survives_reopening(tmp_path: Path):
    index = _index(tmp_path)
    index.add(["a", "b"], ["서울 여행", "부산 여행"])
    index.add(["a"], ["completely different text"])  # existing id: ignored
    index.remove(["b", "unknown"])
    index.close()
    reopened = _index(tmp_path)
    assert reopened.ids == ["a"] and len(reopened) == 1
    assert [i for i, _ in reopened.search("서울", 5)] == ["a"]
    assert reopened.search("부산", 5) == [] and reopened.search("different", 5) == []
    reopened.clear()
    assert len(reopened) == 0


def test_an_index_cut_another_way_is_emptied_for_refilling(tmp_path: Path):
    index = _index(tmp_path, ngram=2)
    index.add(["a"], ["서울에서"])
    index.close()
    assert len(_index(tmp_path, ngram=3)) == 0


def test_terms_in_half_the_rows_are_left_out_without_changing_the_ranking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    rows = {f"r{i}": f"the harbour report number {i}" for i in range(12)}
    rows |= {"buoy": "the buoy report", "two": "the buoy and the buoy report again"}
    index = _index(tmp_path)
    index.add(list(rows), list(rows.values()))
    question = "Which report names the buoy?"
    monkeypatch.setattr(lexical, "PRUNE_MIN_ROWS", 10**9)
    every_term = index.search(question, 5)
    monkeypatch.setattr(lexical, "PRUNE_MIN_ROWS", 10)
    query = index._match(question)
    assert '"report"' not in query and '"the"' not in query and '"buoy"' in query
    pruned = index.search(question, 5)
    assert [i for i, _ in pruned] == [i for i, _ in every_term][:2] == ["two", "buoy"]
    assert [s for _, s in pruned] == pytest.approx([s for _, s in every_term][:2], abs=1e-4)
    assert '"report"' in index._match("the report")  # nothing rarer: kept as asked
    monkeypatch.setattr(lexical, "PRUNE_MIN_ROWS", 100)
    assert '"report"' in index._match(question)  # a small index is searched as asked
