"""`kgrag eval QA …` (= `kgrag eval run`): answer a QA set over its corpus, score answers and
retrieval per strategy set, save the results file; `kgrag eval diff A B` compares two."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, get_args

import click
import typer
from typer.core import TyperGroup

from kgrag.cli import kge
from kgrag.cli.eval_render import diff_table, summary_table
from kgrag.cli.progress import progress_bar
from kgrag.cli.render import console, err_console
from kgrag.errors import ConfigError, KgeError
from kgrag.eval.datasets import QAItem, load_dataset
from kgrag.eval.report import EvalResults, Run, diff_results, settings_record, summarize
from kgrag.eval.run import QuestionResult, corpus_documents, evaluate, ingest_documents
from kgrag.kge.model import KgeModel
from kgrag.kge.train import KgeConfig
from kgrag.runtime import Runtime, open_runtime
from kgrag.settings import Settings, Strategy
from kgrag.types import IngestResult, IngestStatus


class _RunByDefault(TyperGroup):
    """Arguments that do not start with a command name go to `run`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_RunByDefault,
    no_args_is_help=True,
    help="Evaluate answers and retrieval on a QA set (`kgrag eval QA …`); compare two runs.",
)


def parse_strategy_sets(values: list[str]) -> list[list[Strategy]]:
    """`["graph vector", "graph,vector"]` -> [[graph], [vector], [graph, vector]]."""
    sets: list[list[Strategy]] = []
    for group in " ".join(values).split():
        names = [n for n in group.split(",") if n]
        unknown = sorted(set(names) - set(get_args(Strategy)))
        if unknown:
            raise ConfigError(
                f"unknown strategy {', '.join(unknown)} in {group!r}: "
                f"use {', '.join(get_args(Strategy))}"
            )
        sets.append(list(dict.fromkeys(names)))  # type: ignore[arg-type]
    return sets


@app.command("run")
def run(
    qa: Annotated[
        Path,
        typer.Argument(
            help="QA file (.json list like MuSiQue's, or .jsonl) or a folder with qa.json(l) "
            "and corpus.json(l)."
        ),
    ],
    corpus: Annotated[
        Path | None,
        typer.Option(help="Folder of documents, or JSON/JSONL of {title, text} passages."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Only the first N questions; when they carry passages, only theirs are ingested.",
        ),
    ] = None,
    strategies: Annotated[
        list[str] | None,
        typer.Option(
            help="Strategy sets, one result row each: sets apart by spaces (or repeat the "
            'option), strategies of a set joined by commas, e.g. "graph vector graph,vector". '
            "Default: the configured strategies."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results JSON instead of the table.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Results file (default: DATA_DIR/results/<time>.json).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="The evaluation's own data dir (default: eval_dir/<dataset name>)."),
    ] = None,
    no_ingest: Annotated[
        bool, typer.Option("--no-ingest", help="Use what DATA_DIR holds; ingest nothing.")
    ] = False,
    retrieval_only: Annotated[
        bool,
        typer.Option(
            "--retrieval-only",
            help="Score retrieval only (recall@k, retrieval latency): no answers, so no LLM "
            "calls except text2cypher's; seconds per strategy set instead of minutes.",
        ),
    ] = False,
    chunks_only: Annotated[
        bool,
        typer.Option(
            "--chunks-only",
            help="Ingest documents and chunks without LLM extraction (no graph) into "
            "eval_dir/<dataset name>-chunks-only: the vector-only baseline, in minutes where "
            "extraction takes hours on a CPU. Only the vector strategy applies.",
        ),
    ] = False,
) -> None:
    """Ingest the corpus into an isolated data dir, answer every question (short answers)
    with each strategy set, and report EM, F1, "I don't know" rate, recall@k, latency and LLM
    usage. The LLM response cache is off, so answers and timings are real."""
    base = Settings()
    sets = parse_strategy_sets(strategies or []) or [list(base.strategies)]
    if chunks_only:
        sets = _vector_only(sets, strategies)
    dataset = load_dataset(qa, corpus)
    items = dataset.items[:limit] if limit else dataset.items
    slug = re.sub(r"[^\w.-]+", "-", dataset.name) + ("-chunks-only" if chunks_only else "")
    settings = base.model_copy(
        update={"data_dir": data_dir or base.eval_dir / slug, "llm_cache": False}
    )
    needs_llm = (
        not retrieval_only
        or not (no_ingest or chunks_only)  # extraction
        or any("cypher" in s for s in sets)
    )
    with open_runtime(settings, with_llm=needs_llm) as rt:
        if no_ingest:
            ingest: dict[str, Any] = {"skipped": True}
            documents = None
        else:
            paths = corpus_documents(
                dataset, items, limited=limit is not None, directory=settings.data_dir / "corpus"
            )
            ingest, documents = _ingest(rt, paths, extract=not chunks_only), len(paths)
        graph_documents = len(rt.store.list_documents())
        if graph_documents == 0:
            raise ConfigError(f"no documents in {settings.data_dir}: run without --no-ingest")
        if any("kge" in s for s in sets):
            _ensure_kge_model(rt)
        runs = []
        for strategy_set in sets:
            rows = _answer(rt, items, strategy_set, answer=not retrieval_only)
            runs.append(Run(strategies=strategy_set, summary=summarize(rows), questions=rows))
        recorded = settings_record(settings, rt.schema)
    results = EvalResults(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        dataset={
            "name": dataset.name,
            "qa": str(dataset.qa_path),
            "corpus": str(dataset.corpus_path) if dataset.corpus_path else None,
            "questions": len(items),
            "limit": limit,
            "documents": documents,
            "graph_documents": graph_documents,
            "chunks_only": chunks_only,
            "answered": not retrieval_only,
        },
        settings=recorded,
        ingest=ingest,
        runs=runs,
    )
    path = out or settings.data_dir / "results" / f"{datetime.now():%Y%m%d-%H%M%S}.json"
    results.save(path)
    if as_json:
        print(results.model_dump_json(indent=2))
    else:
        console.print(summary_table(results))
    err_console.print(f"results: {path}")


@app.command()
def diff(
    a: Annotated[Path, typer.Argument(help="Results file A (the baseline).")],
    b: Annotated[Path, typer.Argument(help="Results file B.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """B minus A for every metric of the strategy sets both runs have; what else differs."""
    result = diff_results(EvalResults.load(a), EvalResults.load(b))
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    console.print(diff_table(result))
    for key, (va, vb) in result.changed.items():
        console.print(f"[yellow]differs[/] {key}: {va} → {vb}")
    for label in result.only_in_a:
        console.print(f"[yellow]only in A[/] {label}")
    for label in result.only_in_b:
        console.print(f"[yellow]only in B[/] {label}")


def _vector_only(sets: list[list[Strategy]], asked: list[str] | None) -> list[list[Strategy]]:
    """--chunks-only has no graph: the vector strategy alone, refused if others were asked."""
    if not asked:
        return [["vector"]]
    others = sorted({s for group in sets for s in group} - {"vector"})
    if others:
        raise ConfigError(
            f"--chunks-only stores no graph, so {', '.join(others)} would find nothing: "
            "use --strategies vector, or drop --chunks-only"
        )
    return sets


def _ingest(rt: Runtime, paths: list[Path], *, extract: bool = True) -> dict[str, Any]:
    start = time.perf_counter()
    with progress_bar(err_console) as progress:
        task = progress.add_task("ingest", total=len(paths))

        def done(result: IngestResult) -> None:
            progress.update(task, advance=1, description=f"ingest {result.title or ''}"[:60])

        results = ingest_documents(rt, paths, done, extract=extract)
    failed = [r for r in results if r.status is IngestStatus.FAILED]
    for r in failed:
        err_console.print(f"[red]ingest failed[/] {r.source}: {r.error}")
    return {
        **{s.value: sum(r.status is s for r in results) for s in IngestStatus},
        "failures": [{"source": r.source, "error": r.error} for r in failed],
        "llm_calls": sum(r.llm_calls for r in results),
        "entities": sum(r.entities for r in results),
        "seconds": round(time.perf_counter() - start, 1),
    }


def _ensure_kge_model(rt: Runtime) -> None:
    """The kge strategy needs a model of the graph as it is: train one when missing or stale."""
    try:
        model: KgeModel | None = KgeModel.load(rt.kge_dir)
    except KgeError:
        model = None
    if model is not None and not model.staleness(rt.store.edges()).stale:
        return
    try:
        kge.train_and_save(rt, KgeConfig.from_settings(rt.settings), out=err_console)
    except KgeError as exc:
        err_console.print(f"[yellow]kge: {exc}; the kge strategy runs without a model[/]")


def _answer(
    rt: Runtime, items: list[QAItem], strategies: list[Strategy], *, answer: bool
) -> list[QuestionResult]:
    with progress_bar(err_console) as progress:
        verb = "answer" if answer else "retrieve"
        task = progress.add_task(f"{verb} {','.join(strategies)}", total=len(items))
        return evaluate(rt, items, strategies, lambda _: progress.advance(task), answer=answer)
