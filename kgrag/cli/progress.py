"""Rich progress bars for long CLI work (extraction over many chunks)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kgrag.cli.render import console
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.runtime import Runtime
from kgrag.types import IngestResult


def progress_bar(out: Console = console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
    )


def ingest_with_progress(
    rt: Runtime, paths: list[Path], *, reextract: bool = False
) -> list[IngestResult]:
    """Ingest files with one progress bar per document's extraction."""
    with progress_bar() as progress:
        tasks: dict[str, int] = {}

        def report(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(f"extract {name}", total=total)
            progress.update(tasks[name], completed=done)

        return IngestPipeline(rt, progress=report, reextract=reextract).ingest_paths(paths)
