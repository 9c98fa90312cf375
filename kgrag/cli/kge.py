"""`kgrag kge train|status|predict`: the knowledge-graph-embedding model of this data dir."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kgrag.cli.progress import progress_bar
from kgrag.cli.render import console
from kgrag.errors import KgeError
from kgrag.kge.model import KgeModel, describe
from kgrag.kge.train import KgeConfig
from kgrag.retrieve.link import EntityLinker
from kgrag.runtime import Runtime, open_runtime
from kgrag.settings import KgeModelName, Settings

app = typer.Typer(help="KGE model (PyKEEN) trained on the graph's entity triples.")


def train_and_save(rt: Runtime, config: KgeConfig, out: Console = console) -> KgeModel:
    """Train on the graph as it is now, with a progress bar, and save beside the graph."""
    edges = rt.store.edges()
    with progress_bar(out) as progress:
        task = progress.add_task(f"train {config.model} on {len(edges)} triples", total=None)
        model = KgeModel.train(
            edges,
            config,
            lambda epoch, total, loss: progress.update(task, completed=epoch, total=total),
        )
    rt.set_kge_model(model)
    meta = model.meta
    out.print(
        f"trained {meta.config.model} on {meta.triples} triples in {meta.seconds:.1f} s "
        f"(loss {meta.losses[0]:.4f} → {meta.losses[-1]:.4f}); saved to {rt.kge_dir}"
    )
    return model


@app.command()
def train(
    model: Annotated[KgeModelName | None, typer.Option(help="Default: kge_model.")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Default: kge_epochs.")] = None,
    dim: Annotated[int | None, typer.Option(min=2, help="Default: kge_dim.")] = None,
) -> None:
    """Train (or retrain from scratch) on every relationship between entities."""
    settings = Settings()
    config = KgeConfig.from_settings(settings, model=model, epochs=epochs, dim=dim)
    with open_runtime(settings, with_llm=False) as rt:
        train_and_save(rt, config)


@app.command()
def status() -> None:
    """The saved model and whether the graph changed since; exit 1 when missing or stale."""
    with open_runtime(Settings(), with_llm=False) as rt:
        try:
            model = KgeModel.load(rt.kge_dir)
        except KgeError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from None
        staleness = model.staleness(rt.store.edges())
    for key, value in describe(model.meta).items():
        console.print(f"{key}: {value}")
    if staleness.stale:
        console.print(
            f"[yellow]stale: {staleness.added} triple(s) added and {staleness.removed} removed "
            "since training; run `kgrag kge train`[/]"
        )
        raise typer.Exit(1)
    console.print("[green]up to date with the graph[/]")


def _best_match(linker: EntityLinker, text: str) -> list[str]:
    """The entities named exactly by `text`, else the most similar one."""
    linked = linker.link(text)
    if not linked:
        raise KgeError(f"no entity matches {text!r}")
    exact = [e.entity_id for e in linked if e.method == "exact"]
    return exact or [max(linked, key=lambda e: e.score).entity_id]


@app.command()
def predict(
    entity: Annotated[str, typer.Argument(help="An entity name, alias or id.")],
    k: Annotated[int, typer.Option("--top", "-k", min=1, help="How many links.")] = 5,
) -> None:
    """Links the model finds plausible that no document states (inferred, not facts)."""
    settings = Settings()
    with open_runtime(settings, with_llm=False) as rt:
        model = KgeModel.load(rt.kge_dir)
        linker = EntityLinker(rt.index("entities"), rt.embedder, threshold=settings.link_threshold)
        ids = [entity] if entity in model.meta.entity_to_id else _best_match(linker, entity)
        links = model.predict(ids, k)
    table = Table("subject", "relationship", "object", "plausibility", title="inferred links")
    for t in links:
        table.add_row(t.subject, t.predicate, t.object, f"{t.plausibility:.3f}")
    console.print(table)
