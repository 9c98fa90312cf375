"""`kgrag entities list|merge|split|history`: inspect and correct entity resolution by hand."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from kgrag.cli.render import console
from kgrag.ingest.entity_match import entity_key
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.refine.entity_edits import EntityEdits
from kgrag.runtime import Runtime, open_runtime
from kgrag.settings import Settings

app = typer.Typer(help="Inspect entities; merge duplicates and undo merges (reversible).")


def _edits(rt: Runtime) -> EntityEdits:
    return EntityEdits(rt.store, rt.settings.data_dir)  # type: ignore[arg-type]


@app.command("list")
def list_entities(
    match: Annotated[str | None, typer.Option(help="Only names containing this.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Only this type.")] = None,
) -> None:
    """Entities with their type, aliases and how many chunks mention them."""
    with open_runtime(Settings(), with_llm=False) as rt:
        entities = rt.store.entities()
    table = Table("id", "name", "type", "aliases", "chunks", "merges")
    for e in entities:
        names = " ".join(entity_key(n) for n in (e.name, *e.aliases))
        if (match and entity_key(match) not in names) or (type_ and e.type != type_):
            continue
        table.add_row(
            e.id, e.name, e.type, ", ".join(e.aliases), str(len(e.chunk_ids)), "\n".join(e.merges)
        )
    console.print(table)


@app.command()
def merge(
    keep: Annotated[str, typer.Argument(help="Entity to keep (id, name or alias).")],
    drop: Annotated[str, typer.Argument(help="Entity merged into it and removed.")],
    any_type: Annotated[bool, typer.Option(help="Allow entities of different types.")] = False,
) -> None:
    """Merge DROP into KEEP: relationships, mentions and names move; `split` undoes it."""
    with open_runtime(Settings(), with_llm=False) as rt:
        record = _edits(rt).merge(keep, drop, any_type=any_type)
        IngestPipeline(rt).indexes.sync_entities()
    console.print(
        f"merged {record.drop.entity.name} into {record.keep_before.entity.name} "
        f"(merge {record.id}; undo with: kgrag entities split {record.id})"
    )


@app.command()
def split(ref: Annotated[str, typer.Argument(help="Merge id, or the merged entity's name.")]):
    """Undo a merge: the merged entity comes back with its relationships and mentions."""
    with open_runtime(Settings(), with_llm=False) as rt:
        record = _edits(rt).split(ref)
        IngestPipeline(rt).indexes.sync_entities()
    console.print(
        f"split {record.drop.entity.name} from {record.keep_before.entity.name} "
        f"(merge {record.id} undone)"
    )


@app.command()
def history() -> None:
    """Every manual merge, newest last, and whether it was undone."""
    with open_runtime(Settings(), with_llm=False) as rt:
        records = _edits(rt).history()
    table = Table("merge", "at", "kept", "merged", "undone")
    for r in records:
        table.add_row(
            r.id, r.at, r.keep_before.entity.name, r.drop.entity.name, "yes" if r.undone else ""
        )
    console.print(table)
