"""Evaluation metrics: SQuAD-style EM/F1 over answer aliases, recall@k, percentiles."""

import csv
from pathlib import Path

import pytest

from kgrag.eval.metrics import exact_match, normalize_answer, percentile, recall_at_k, token_f1

DATA = Path(__file__).parents[1] / "data"
CASES = list(
    csv.DictReader(
        line
        for line in (DATA / "squad_metrics.csv").open(encoding="utf-8", newline="")
        if not line.startswith("#")
    )
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['prediction']!r}~{c['answers']!r}")
def test_exact_match_and_f1(case):
    answers = case["answers"].split("|")
    assert exact_match(case["prediction"], answers) == float(case["em"])
    assert token_f1(case["prediction"], answers) == pytest.approx(float(case["f1"]), abs=1e-4)


def test_normalisation_drops_articles_only_as_words():
    assert normalize_answer("The Theatre, an Anthem & a Band!") == "theatre anthem band"


def test_no_gold_answer_scores_zero():
    assert exact_match("Paris", []) == 0.0 and token_f1("Paris", []) == 0.0


def test_recall_counts_distinct_documents_in_rank_order():
    ranked = ["Alpha", "alpha ", "Gamma", "Beta", "Delta"]  # two chunks of Alpha
    recall = recall_at_k(["Alpha", "beta"], ranked)
    assert recall == {1: 0.5, 3: 1.0, 5: 1.0, 10: 1.0}


def test_recall_beyond_the_ranking_stays_at_what_was_found():
    assert recall_at_k(["A", "B", "C"], ["C", "X"], ks=(1, 2, 10)) == {
        1: pytest.approx(1 / 3),
        2: pytest.approx(1 / 3),
        10: pytest.approx(1 / 3),
    }


def test_recall_without_supporting_titles_is_none():
    assert recall_at_k([], ["A"]) is None
    assert recall_at_k(["A"], []) == {1: 0.0, 3: 0.0, 5: 0.0, 10: 0.0}


def test_percentile_interpolates_and_is_none_without_values():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0], 95) == pytest.approx(1.95)
    assert percentile([], 50) is None
