"""`kgrag documents list|show`: what is stored, page by page (OCR confidence, page images)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from kgrag.cli.render import console
from kgrag.documents import document_view
from kgrag.runtime import open_runtime
from kgrag.settings import Settings

app = typer.Typer(help="Ingested documents: list them, show one page by page.")


@app.command("list")
def list_documents() -> None:
    """Every document with its pages and chunks."""
    with open_runtime(Settings(), with_llm=False) as rt:
        rows = rt.store.list_documents()
    table = Table("id", "title", "source", "pages", "chunks")
    for d in rows:
        table.add_row(d["id"], d["title"], d["source"], str(d["pages"]), str(d["chunks"]))
    console.print(table)


@app.command()
def show(
    document_id: Annotated[str, typer.Argument(help="Document id (see `documents list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False,
) -> None:
    """Pages with chunk counts, OCR engine and confidence, image path; low-confidence pages."""
    with open_runtime(Settings(), with_llm=False) as rt:
        found = document_view(rt, document_id)
        if found is None:
            console.print(f"[red]no document {document_id}[/]")
            raise typer.Exit(1)
        pages = found["page_list"]
        images = {p["number"]: rt.page_images.path(document_id, p["number"]) for p in pages}
        threshold = rt.settings.ocr_low_confidence
    if as_json:
        print(json.dumps(found, indent=2, default=str))
        return
    console.print(
        f"[bold]{found['title']}[/] ({found['id']}) {found['source']}: {found['pages']} pages, "
        f"{found['chunks']} chunks, {found['entities']} entities "
        f"({found['entities_only_here']} only here)"
    )
    table = Table("page", "chunks", "text from", "OCR confidence", "image")
    for p in found["page_list"]:
        confidence = p["ocr_confidence"]
        shown = "-" if confidence is None else f"{confidence:.2f}"
        if confidence is not None and confidence < threshold:
            shown = f"[yellow]{shown}[/]"
        image = images[p["number"]]
        table.add_row(
            str(p["number"]),
            str(p["chunks"]),
            p["ocr_engine"] or "text layer",
            shown,
            str(image) if image else "-",
        )
    console.print(table)
    low = found["low_confidence_pages"]
    if low:
        numbers = ", ".join(str(p["number"]) for p in low)
        console.print(
            f"[yellow]low OCR confidence (below {threshold:g}): page(s) {numbers}[/] — "
            "check them against their images"
        )
