"""`kgrag eval` end to end on the real store and local LLM: 3 passages, 2 questions, 2 sets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kgrag.eval.metrics import exact_match, recall_at_k
from kgrag.eval.report import EvalResults
from kgrag.settings import Settings

pytestmark = pytest.mark.integration

DATA = Path(__file__).parents[1] / "data" / "eval" / "musique"
TITLES = ["Ilse Varga", "Marrow Lake Observatory", "Orrin Telescope"]


def _kgrag_eval(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`kgrag eval ARGS` in a subprocess with these KGRAG_* variables; fails on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "-m", "kgrag.cli.main", "eval", *args],
        env={**os.environ, **{f"KGRAG_{k.upper()}": v for k, v in env.items()}},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_eval_writes_results_scored_on_real_retrieval(
    tmp_path: Path, llm_server: str, llm_settings: Settings
):
    out = tmp_path / "results.json"
    args = [str(DATA), "--data-dir", str(tmp_path / "data"), "--out", str(out)]
    result = _kgrag_eval(
        [*args, "--strategies", "vector graph,vector", "--json"],
        tmp_path,
        llm_base_url=llm_server,
        llm_model=llm_settings.llm_model,
    )
    assert json.loads(result.stdout) == json.loads(out.read_text())  # stdout is only the JSON
    results = EvalResults.load(out)
    assert results.ingest["ingested"] == 3 and results.ingest["failed"] == 0
    assert results.dataset["graph_documents"] == 3 and results.dataset["questions"] == 2
    assert results.settings["answer_prompt"] == "answer_short_system"
    assert [run.strategies for run in results.runs] == [["vector"], ["graph", "vector"]]
    for run in results.runs:
        assert run.summary.questions == len(run.questions) == 2 and run.summary.errors == 0
        for q in run.questions:
            # the ranking is the retriever's: every ingested passage comes back under its title
            assert sorted(q.ranked_titles) == TITLES
            assert q.recall == recall_at_k(q.supporting_titles, q.ranked_titles)
            assert q.recall[10] == 1.0
            assert q.em == exact_match(q.answer if q.supported else "", q.answers)
            assert q.llm_calls >= 1 and q.total_s >= q.retrieval_s > 0
            assert q.prompt_tokens and q.completion_tokens  # llama-server reports usage
        assert run.summary.metrics["recall@10"] == 1.0
        assert run.summary.metrics["tokens"] is not None


def test_chunks_only_ingests_without_extraction_and_scores_the_vector_row(
    tmp_path: Path, llm_server: str, llm_settings: Settings
):
    out = tmp_path / "results.json"
    _kgrag_eval(
        [str(DATA), "--chunks-only", "--out", str(out)],
        tmp_path,
        eval_dir=str(tmp_path / "eval"),
        llm_base_url=llm_server,
        llm_model=llm_settings.llm_model,
    )
    results = EvalResults.load(out)
    assert results.dataset["chunks_only"] is True
    assert [d.name for d in (tmp_path / "eval").iterdir()] == ["musique-chunks-only"]
    assert results.ingest["ingested"] == 3 and results.ingest["failed"] == 0
    assert results.ingest["llm_calls"] == 0 and results.ingest["entities"] == 0
    [run] = results.runs
    assert run.strategies == ["vector"]
    for q in run.questions:
        assert sorted(q.ranked_titles) == TITLES and q.recall[10] == 1.0
        assert q.llm_calls >= 1  # the answer is still the LLM's


def test_retrieval_only_scores_recall_without_any_llm(tmp_path: Path):
    out = tmp_path / "results.json"
    _kgrag_eval(
        [str(DATA), "--chunks-only", "--retrieval-only", "--out", str(out)],
        tmp_path,
        eval_dir=str(tmp_path / "eval"),
        llm_base_url="http://127.0.0.1:9/v1",  # nothing listens: no LLM at all
    )
    results = EvalResults.load(out)
    assert results.dataset["answered"] is False
    [run] = results.runs
    assert run.summary.metrics["recall@10"] == 1.0 and run.summary.metrics["em"] is None
    for q in run.questions:
        assert q.llm_calls == 0 and q.supported is None and q.retrieval_s > 0
