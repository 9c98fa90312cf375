"""`kgrag index rebuild|status`: the FAISS (and BM25) indexes, rebuilt from the graph when lost."""

from __future__ import annotations

import typer

from kgrag.cli.progress import progress_bar
from kgrag.cli.render import console
from kgrag.errors import KgragError
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.runtime import open_runtime
from kgrag.settings import Settings

app = typer.Typer(help="Vector indexes (chunks, entity names) of this data dir.")


@app.command()
def rebuild() -> None:
    """Re-embed every chunk and entity name in the graph into new indexes."""
    with open_runtime(Settings(), with_llm=False) as rt, progress_bar() as progress:
        task = progress.add_task("embed chunks", total=None)
        IngestPipeline(rt).indexes.rebuild(
            lambda done, total: progress.update(task, completed=done, total=total)
        )
        sizes = {name: len(rt.index(name)) for name in ("chunks", "entities")}
        lexical = len(rt.lexical("chunks"))
    console.print(
        f"rebuilt: {sizes['chunks']} chunks ({lexical} in the BM25 index), "
        f"{sizes['entities']} entity names"
    )


@app.command()
def status() -> None:
    """Index sizes next to the graph's chunk count; exit 1 when they disagree or are damaged."""
    with open_runtime(Settings(), with_llm=False) as rt:
        graph_chunks = rt.store.counts()["chunks"]
        try:
            chunks = len(rt.index("chunks"))
        except KgragError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from None
    console.print(f"chunks: {chunks} indexed, {graph_chunks} in the graph")
    if chunks != graph_chunks:
        console.print("[yellow]out of step: run `kgrag index rebuild`[/]")
        raise typer.Exit(1)
