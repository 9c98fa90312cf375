"""`kgrag schema ...`: the refinement loop discover -> draft -> apply -> review (-> diff)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kgrag.cli.progress import ingest_with_progress, progress_bar
from kgrag.cli.render import console, err_console, ingest_table
from kgrag.cli.schema_render import (
    diff_tables,
    discovery_tables,
    draft_table,
    review_tables,
    schema_tables,
)
from kgrag.errors import ConfigError
from kgrag.ingest.prune_log import PruneLog
from kgrag.refine.discover import DiscoveryReport, run_discovery
from kgrag.refine.draft import draft_schema
from kgrag.refine.review import ReviewMetrics, ReviewSnapshots, diff_schemas, review
from kgrag.runtime import Runtime, open_runtime
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.types import IngestStatus

app = typer.Typer(help="Refine the extraction schema: discover, draft, apply, review, diff.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _settings(schema: Path | None = None) -> Settings:
    return Settings(schema_path=schema) if schema else Settings()


def _default_report(settings: Settings) -> Path:
    return settings.data_dir / "schema" / "discovery.json"


@app.command()
def show(
    file: Annotated[Path | None, typer.Argument(help="Schema YAML (default: configured).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print a schema's types, aliases and patterns."""
    schema = GraphSchema.from_file(file or Settings().schema_path)
    if as_json:
        print(schema.model_dump_json(indent=2))
        return
    for table in schema_tables(schema):
        console.print(table)


@app.command()
def validate(file: Path) -> None:
    """Check a schema file: YAML, identifiers, duplicates, types used in patterns."""
    schema = GraphSchema.from_file(file)  # ConfigError names every problem found
    console.print(
        f"[green]valid[/]: {file} — {len(schema.node_types)} node types, "
        f"{len(schema.relationship_types)} relationship types, {len(schema.patterns)} patterns"
    )


@app.command()
def discover(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to sample.")],
    sample: Annotated[int | None, typer.Option(help="Chunks to extract (default all).")] = None,
    seed: int = 0,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Report JSON.")] = None,
) -> None:
    """Extract with no schema over a sample of chunks; report every type the LLM found."""
    settings = Settings()
    output = output or _default_report(settings)
    with open_runtime(settings) as rt, progress_bar() as progress:
        task = progress.add_task("discover", total=None)
        report, failed = run_discovery(
            rt,
            paths,
            sample=sample,
            seed=seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for result in failed:
        err_console.print(f"[red]skipped[/] {result.source}: {result.error}")
    report.save(output)
    for table in discovery_tables(report):
        console.print(table)
    console.print(f"report: {output}  (next: kgrag schema draft --from {output} -o FILE)")


@app.command()
def draft(
    output: Annotated[Path, typer.Option("-o", "--output", help="Schema YAML to write.")],
    report: Annotated[Path | None, typer.Option("--from", help="Discovery report.")] = None,
    name: Annotated[str | None, typer.Option(help="Schema name (default: file stem).")] = None,
    min_count: Annotated[int | None, typer.Option(help="Drop types seen fewer times.")] = None,
    merge_threshold: Annotated[float | None, typer.Option(help="Cosine to merge.")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Consolidate a discovery report into a schema YAML (every merge/drop listed in it)."""
    settings = Settings()
    source = report or _default_report(settings)
    if not source.exists():
        raise ConfigError(f"no discovery report at {source}; run `kgrag schema discover` first")
    if output.exists() and not force:
        raise ConfigError(f"{output} exists; choose another name or pass --force")
    result = draft_schema(
        DiscoveryReport.load(source),
        name=name or output.stem,
        min_count=min_count or settings.schema_min_count,
        merge_threshold=merge_threshold or settings.schema_merge_threshold,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    result.schema_.save(output, header=result.header())
    console.print(draft_table(result))
    console.print(f"wrote {output}; edit it, then: kgrag schema apply {output} PATH...")


@app.command()
def apply(
    file: Annotated[Path, typer.Argument(help="Schema YAML to extract with.")],
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (re-extracted).")],
) -> None:
    """Re-extract documents under a schema (strict pruning, reasons kept), then review."""
    settings = _settings(file)
    with open_runtime(settings) as rt:
        results = ingest_with_progress(rt, paths, reextract=True)
        console.print(ingest_table(results))
        metrics = _review(rt)
    for table in review_tables(metrics):
        console.print(table)
    if Settings().schema_path.resolve() != file.resolve():
        console.print(
            f"[yellow]note[/]: questions and later ingests use {Settings().schema_path}; "
            f"set KGRAG_SCHEMA_PATH={file} (or schema_path in kgrag.yaml) to keep this one"
        )
    if any(r.status is IngestStatus.FAILED for r in results):
        raise typer.Exit(1)


@app.command("review")
def review_command(
    schema: Annotated[Path | None, typer.Option(help="Schema YAML (default: configured).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Metrics of the current graph against a schema: coverage, drops by reason, duplicates."""
    with open_runtime(_settings(schema), with_llm=False) as rt:
        metrics = _review(rt)
    if as_json:
        print(json.dumps({**metrics.model_dump(mode="json"), "coverage": metrics.coverage}))
        return
    for table in review_tables(metrics):
        console.print(table)


@app.command()
def diff(a: Path, b: Path, as_json: JsonOption = False) -> None:
    """What changed from schema A to B, and what it did to the last review of each."""
    schema_a, schema_b = GraphSchema.from_file(a), GraphSchema.from_file(b)
    snapshots = ReviewSnapshots(Settings().data_dir)
    result = diff_schemas(schema_a, schema_b, snapshots.load(schema_a), snapshots.load(schema_b))
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    for table in diff_tables(result, str(a), str(b)):
        console.print(table)


def _review(rt: Runtime) -> ReviewMetrics:
    s = rt.settings
    metrics = review(
        rt.store,
        rt.schema,
        PruneLog(s.data_dir).records(),
        embed=rt.embedder.embed,
        duplicate_threshold=s.duplicate_candidate_threshold,
    )
    ReviewSnapshots(s.data_dir).save(metrics)
    return metrics
