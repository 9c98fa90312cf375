"""`kgrag qa generate`: a QA set from your documents' structure, for `kgrag eval`."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path
from typing import Annotated

import typer

from kgrag.cli.render import console, err_console
from kgrag.errors import DocumentError
from kgrag.eval.qa_generate import generate as generate_items
from kgrag.ingest.pipeline import expand_paths
from kgrag.ingest.read import read_document, read_limits
from kgrag.ocr import build_ocr_engine
from kgrag.settings import Settings

app = typer.Typer(help="QA sets built from documents, for `kgrag eval`.")


@app.command()
def generate(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
    out: Annotated[Path, typer.Option(help="JSONL file to write.")] = Path("qa.jsonl"),
) -> None:
    """Section, definition and procedure questions, each with its document and page."""
    s = Settings()
    ocr = cache(lambda: build_ocr_engine(s))  # built only if a page needs OCR
    items, failed = [], 0
    for path in expand_paths(paths):
        try:
            doc = read_document(str(path), path.read_bytes(), **read_limits(s), ocr=ocr)
        except (DocumentError, OSError) as exc:
            err_console.print(f"[yellow]skipped {path}: {exc}[/]")
            failed += 1
            continue
        items.extend(generate_items(doc))
    out.write_text("".join(i.model_dump_json() + "\n" for i in items), encoding="utf-8")
    kinds = Counter(i.kind for i in items)
    console.print(
        f"{len(items)} questions ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}) "
        f"written to {out}; run `kgrag eval {out} --corpus {' '.join(map(str, paths))}`"
    )
    if failed:
        raise typer.Exit(1)
