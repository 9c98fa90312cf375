"""Eval results: aggregates per strategy set, the results file, diffs, strategy-set parsing."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgrag.cli.eval import app, parse_strategy_sets
from kgrag.errors import ConfigError, DatasetError
from kgrag.eval.report import EvalResults, Run, diff_results, summarize
from kgrag.eval.run import QuestionResult


def _row(**overrides) -> QuestionResult:
    row = {
        "id": "q",
        "question": "Q?",
        "answers": ["a"],
        "answer": "a",
        "supported": True,
        "em": 1.0,
        "f1": 1.0,
        "supporting_titles": ["A"],
        "ranked_titles": ["A"],
        "recall": {1: 1.0, 3: 1.0, 5: 1.0, 10: 1.0},
        "retrieval_s": 0.1,
        "total_s": 2.0,
        "llm_calls": 2,
        "prompt_tokens": 100,
        "completion_tokens": 10,
    }
    return QuestionResult.model_validate({**row, **overrides})


ROWS = [
    _row(),
    _row(
        answer="I don't know from these documents.",
        supported=False,
        em=0.0,
        f1=0.0,
        recall={1: 0.0, 3: 0.5, 5: 0.5, 10: 1.0},
        retrieval_s=0.3,
        total_s=4.0,
        prompt_tokens=None,
        completion_tokens=None,
    ),
    _row(
        answer="",
        supported=False,
        em=0.0,
        f1=0.0,
        supporting_titles=[],
        recall=None,
        retrieval_s=None,
        total_s=None,
        llm_calls=1,
        prompt_tokens=None,
        completion_tokens=None,
        error="LLM output is not a valid LLMAnswer",
    ),
]


def test_summary_counts_failures_as_wrong_and_averages_what_was_measured():
    summary = summarize(ROWS)
    m = summary.metrics
    assert summary.questions == 3 and summary.errors == 1
    assert m["em"] == pytest.approx(1 / 3) and m["f1"] == pytest.approx(1 / 3)
    assert m["idk_rate"] == pytest.approx(1 / 3)  # the failed question is not an "I don't know"
    assert (m["recall@1"], m["recall@3"], m["recall@10"]) == (0.5, 0.75, 1.0)
    assert m["retrieval_p50_s"] == pytest.approx(0.2) and m["total_p95_s"] == pytest.approx(3.9)
    assert m["llm_calls"] == pytest.approx(5 / 3)
    assert m["tokens"] == 110  # only the question whose calls all reported usage


def test_summary_without_usage_or_supporting_titles_says_not_available():
    m = summarize([ROWS[2]]).metrics
    assert m["tokens"] is None and m["recall@5"] is None and m["total_p50_s"] is None


def _results(rows: list[QuestionResult], model: str = "m1") -> EvalResults:
    return EvalResults(
        created="2025-01-01T00:00:00+00:00",
        dataset={"name": "tiny", "questions": len(rows)},
        settings={"llm_model": model, "hops": 2},
        ingest={"ingested": 1},
        runs=[
            Run(strategies=["vector"], summary=summarize(rows), questions=rows),
            Run(strategies=["graph", "vector"], summary=summarize(rows[:1]), questions=rows[:1]),
        ],
    )


def test_results_file_round_trips(tmp_path: Path):
    results = _results(ROWS)
    results.save(tmp_path / "r" / "a.json")
    loaded = EvalResults.load(tmp_path / "r" / "a.json")
    assert loaded == results and loaded.runs[0].questions[1].recall == ROWS[1].recall


def test_diff_is_b_minus_a_per_metric_with_direction():
    a, b = _results(ROWS), _results(ROWS[:2], model="m2")
    b.runs.pop()  # B did not run graph,vector
    diff = diff_results(a, b)
    by_metric = {d.metric: d for d in diff.deltas}
    assert {d.strategies for d in diff.deltas} == {"vector"}
    assert by_metric["em"].delta == pytest.approx(0.5 - 1 / 3) and by_metric["em"].better
    assert by_metric["llm_calls"].delta == pytest.approx(2 - 5 / 3)
    assert by_metric["llm_calls"].better is False  # more calls per question is worse
    assert by_metric["recall@10"].delta == 0 and by_metric["recall@10"].better is None
    assert diff.only_in_a == ["graph,vector"] and diff.only_in_b == []
    assert diff.changed == {"dataset.questions": (3, 2), "settings.llm_model": ("m1", "m2")}


def test_diff_command_prints_the_deltas(tmp_path: Path):
    _results(ROWS).save(tmp_path / "a.json")
    _results(ROWS[:2], model="m2").save(tmp_path / "b.json")
    result = CliRunner().invoke(app, ["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert result.exit_code == 0, result.output
    assert "+16.7" in result.output  # EM 33.3 % -> 50.0 %
    assert "settings.llm_model: m1 → m2" in result.output


def test_a_file_that_is_not_a_results_file_is_named(tmp_path: Path):
    path = tmp_path / "qa.json"
    path.write_text('[{"question": "Q?"}]', encoding="utf-8")
    with pytest.raises(DatasetError, match=f"{path}: not a kgrag-eval/1 results file"):
        EvalResults.load(path)


def test_strategy_sets_split_on_spaces_and_repeats_join_on_commas():
    assert parse_strategy_sets(["graph vector", "graph,vector", "kge,vector,kge"]) == [
        ["graph"],
        ["vector"],
        ["graph", "vector"],
        ["kge", "vector"],
    ]
    assert parse_strategy_sets([]) == []
    with pytest.raises(ConfigError, match="unknown strategy grpah in 'grpah,vector'"):
        parse_strategy_sets(["grpah,vector"])


def test_chunks_only_refuses_strategies_that_need_the_graph(tmp_path: Path):
    result = CliRunner().invoke(
        app, [str(tmp_path / "qa.json"), "--chunks-only", "--strategies", "vector graph,vector"]
    )
    assert isinstance(result.exception, ConfigError)
    assert "--chunks-only stores no graph, so graph would find nothing" in str(result.exception)


def test_retrieval_only_rows_score_recall_and_leave_answer_metrics_not_measured():
    rows = [
        _row(answer="", supported=None, em=None, f1=None, total_s=None, llm_calls=0),
        _row(
            answer="", supported=None, em=None, f1=None, total_s=None, llm_calls=0,
            recall={1: 0.0, 3: 0.0, 5: 0.5, 10: 0.5},
        ),
    ]  # fmt: skip
    metrics = summarize(rows).metrics
    assert metrics["em"] is None and metrics["f1"] is None and metrics["idk_rate"] is None
    assert metrics["recall@1"] == 0.5 and metrics["recall@5"] == 0.75
    assert metrics["total_p50_s"] is None and metrics["llm_calls"] == 0.0
