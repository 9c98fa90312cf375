"""The results file of `kgrag eval`: settings, per-question rows, the aggregate per strategy
set; and the metric deltas between two such files."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from kgrag.errors import DatasetError
from kgrag.eval.metrics import RECALL_KS, percentile
from kgrag.eval.run import RANKING_DEPTH, QuestionResult
from kgrag.schema import GraphSchema
from kgrag.settings import Settings

FORMAT = "kgrag-eval/1"
# the settings that change answers or retrieval, recorded with every run
RECORDED_SETTINGS = {
    "llm_model",
    "llm_base_url",
    "llm_model_path",
    "llm_max_tokens",
    "llm_temperature",
    "embedding_model",
    "vector_mode",
    "rrf_k",
    "fusion_depth",
    "lexical_ngram",
    "lexical_link_threshold",
    "chunk_size",
    "chunk_overlap",
    "link_threshold",
    "hops",
    "max_triples",
    "top_k_chunks",
    "max_evidence_chunks",
    "verify_answers",
    "entity_merge_threshold",
    "kge_model",
    "kge_dim",
    "kge_epochs",
}
# metric -> whether higher is better (for the sign of a diff)
METRICS: dict[str, bool] = {
    "em": True,
    "f1": True,
    "idk_rate": False,
    **{f"recall@{k}": True for k in RECALL_KS},
    "retrieval_p50_s": False,
    "retrieval_p95_s": False,
    "total_p50_s": False,
    "total_p95_s": False,
    "llm_calls": False,
    "tokens": False,
}


class Summary(BaseModel):
    """Aggregates over the questions of one strategy set; None where nothing was measured."""

    questions: int
    errors: int
    metrics: dict[str, float | None]  # the keys of METRICS; per question for calls/tokens


class Run(BaseModel):
    strategies: list[str]
    summary: Summary
    questions: list[QuestionResult]

    @property
    def label(self) -> str:
        return ",".join(self.strategies)


class EvalResults(BaseModel):
    format: Literal["kgrag-eval/1"] = FORMAT
    created: str
    dataset: dict[str, Any]  # name, files, questions, documents
    settings: dict[str, Any]
    ingest: dict[str, Any]  # counts by status, failures, seconds
    runs: list[Run]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> EvalResults:
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "top level"
            raise DatasetError(
                f"{path}: not a {FORMAT} results file ({where}: {first['msg']}; "
                f"{exc.error_count()} problem(s))"
            ) from None


def summarize(rows: list[QuestionResult]) -> Summary:
    """EM/F1 count failed questions as wrong (n/a when no answer was asked for); recall
    averages the questions with supporting titles; tokens average the questions whose calls
    all reported usage."""
    retrieval = [r.retrieval_s for r in rows if r.retrieval_s is not None]
    total = [r.total_s for r in rows if r.total_s is not None]
    recalls = [r.recall for r in rows if r.recall is not None]
    tokens = [
        r.prompt_tokens + r.completion_tokens
        for r in rows
        if r.prompt_tokens is not None and r.completion_tokens is not None
    ]
    answered = [r for r in rows if r.supported is not None or r.error is not None]
    metrics: dict[str, float | None] = {
        "em": _mean([r.em or 0.0 for r in answered]),
        "f1": _mean([r.f1 or 0.0 for r in answered]),
        "idk_rate": _mean([float(not r.supported and r.error is None) for r in answered]),
        **{f"recall@{k}": _mean([rec[k] for rec in recalls]) for k in RECALL_KS},
        "retrieval_p50_s": _seconds(percentile(retrieval, 50)),
        "retrieval_p95_s": _seconds(percentile(retrieval, 95)),
        "total_p50_s": _seconds(percentile(total, 50)),
        "total_p95_s": _seconds(percentile(total, 95)),
        "llm_calls": _mean([float(r.llm_calls) for r in rows]),
        "tokens": _mean([float(t) for t in tokens]),
    }
    return Summary(
        questions=len(rows), errors=sum(r.error is not None for r in rows), metrics=metrics
    )


def settings_record(settings: Settings, schema: GraphSchema) -> dict[str, Any]:
    """What a reader needs to reproduce the run (never secrets)."""
    return {
        **settings.model_dump(mode="json", include=RECORDED_SETTINGS),
        "schema": {
            "name": schema.name,
            "version": schema.version,
            "fingerprint": schema.fingerprint,
        },
        "answer_prompt": "answer_short_system",
        "ranking_depth": RANKING_DEPTH,
        "llm_cache": False,
    }


class MetricDelta(BaseModel):
    strategies: str
    metric: str
    a: float | None
    b: float | None
    delta: float | None
    better: bool | None  # B improves on A; None when equal or not comparable


class ResultsDiff(BaseModel):
    deltas: list[MetricDelta]
    only_in_a: list[str]  # strategy sets run only in A
    only_in_b: list[str]
    changed: dict[str, tuple[Any, Any]]  # dataset and settings entries that differ


def diff_results(a: EvalResults, b: EvalResults) -> ResultsDiff:
    """B minus A for every metric of every strategy set both files ran."""
    runs_a = {r.label: r for r in a.runs}
    runs_b = {r.label: r for r in b.runs}
    deltas = []
    for label in [label for label in runs_a if label in runs_b]:
        for metric, higher_is_better in METRICS.items():
            va = runs_a[label].summary.metrics.get(metric)
            vb = runs_b[label].summary.metrics.get(metric)
            delta = None if va is None or vb is None else vb - va
            better = None if not delta else (delta > 0) == higher_is_better
            deltas.append(
                MetricDelta(strategies=label, metric=metric, a=va, b=vb, delta=delta, better=better)
            )
    changed = {
        f"{section}.{key}": (getattr(a, section).get(key), getattr(b, section).get(key))
        for section in ("dataset", "settings")
        for key in sorted(getattr(a, section).keys() | getattr(b, section).keys())
        if getattr(a, section).get(key) != getattr(b, section).get(key)
    }
    return ResultsDiff(
        deltas=deltas,
        only_in_a=[label for label in runs_a if label not in runs_b],
        only_in_b=[label for label in runs_b if label not in runs_a],
        changed=changed,
    )


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
