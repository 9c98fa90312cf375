"""Rich tables for `kgrag eval`: the aggregate per strategy set, and the deltas of a diff."""

from __future__ import annotations

from rich.table import Table

from kgrag.eval.metrics import RECALL_KS
from kgrag.eval.report import EvalResults, ResultsDiff


def fmt(metric: str, value: float | None, *, signed: bool = False) -> str:
    """Rates and recall as percent, seconds with 2 decimals; 'n/a' when not measured."""
    if value is None:
        return "n/a"
    sign = "+" if signed else ""
    if metric in ("em", "f1", "idk_rate") or metric.startswith("recall@"):
        return f"{100 * value:{sign}.1f}"
    if metric.endswith("_s"):
        return f"{value:{sign}.2f}"
    return f"{value:{sign}.1f}" if metric == "llm_calls" else f"{value:{sign}.0f}"


def summary_table(results: EvalResults) -> Table:
    d = results.dataset
    table = Table(
        title=f"{d['name']}: {d['questions']} question(s), {d['graph_documents']} document(s) "
        "in the graph",
        caption='EM, F1, IDK ("I don\'t know") and recall@k in %; seconds p50/p95; '
        "LLM calls and tokens per question",
    )
    columns = ["strategies", "EM", "F1", "IDK", *(f"R@{k}" for k in RECALL_KS)]
    columns += ["retrieval s", "total s", "calls", "tokens", "errors"]
    for column in columns:
        table.add_column(column, justify="left" if column == "strategies" else "right")
    for run in results.runs:
        m = run.summary.metrics
        table.add_row(
            run.label,
            *(fmt(k, m[k]) for k in ("em", "f1", "idk_rate")),
            *(fmt(f"recall@{k}", m[f"recall@{k}"]) for k in RECALL_KS),
            _p50_p95(m, "retrieval"),
            _p50_p95(m, "total"),
            fmt("llm_calls", m["llm_calls"]),
            fmt("tokens", m["tokens"]),
            str(run.summary.errors),
        )
    return table


def _p50_p95(metrics: dict[str, float | None], name: str) -> str:
    return "/".join(fmt(f"{name}_{p}_s", metrics[f"{name}_{p}_s"]) for p in ("p50", "p95"))


def diff_table(diff: ResultsDiff) -> Table:
    table = Table(title="B - A", caption="rates and recall in %, latencies in s, per question")
    for column in ("strategies", "metric", "A", "B", "delta"):
        table.add_column(column, justify="left" if column in ("strategies", "metric") else "right")
    for d in diff.deltas:
        style = {True: "green", False: "red", None: ""}[d.better]
        delta = fmt(d.metric, d.delta, signed=True)
        table.add_row(
            d.strategies,
            d.metric,
            fmt(d.metric, d.a),
            fmt(d.metric, d.b),
            f"[{style}]{delta}[/]" if style else delta,
        )
    return table
