"""Rich output for the CLI: ingest summaries and answers with citations and evidence."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from kgrag.page_images import PageImages
from kgrag.types import Answer, IngestResult, IngestStatus

console = Console()
err_console = Console(stderr=True)

_STATUS_STYLE = {
    IngestStatus.INGESTED: "green",
    IngestStatus.UNCHANGED: "cyan",
    IngestStatus.FAILED: "red",
}


def ingest_table(results: list[IngestResult]) -> Table:
    """One row per file (with the last stage it completed, and the stage a killed run had
    reached when this run continued from it), then a total row; LLM calls (+ response-cache
    hits) and tokens."""
    table = Table(title="Ingest")
    columns = ("file", "status", "stage", "pages", "chunks", "entities", "relations", "dropped")
    for column in (*columns, "LLM calls", "tokens in / out", "note"):
        table.add_column(column)
    for r in results:
        note = r.error or ", ".join(f"{k} {v:.1f}s" for k, v in r.timings_s.items())
        if r.resumed_from is not None:
            note = f"resumed after {r.resumed_from.value}; {note}"
        table.add_row(
            r.source,
            f"[{_STATUS_STYLE[r.status]}]{r.status.value}[/]",
            r.stage.value,
            *_counts([r]),
            note,
        )
    table.add_section()
    table.add_row(f"[bold]total[/] ({len(results)} files)", "", "", *_counts(results), "")
    return table


def _counts(results: list[IngestResult]) -> list[str]:
    """Summed counts of the ingest table's number columns."""

    def total(field: str) -> int:
        return sum(getattr(r, field) for r in results)

    dropped = sum(len(r.prune.dropped) for r in results if r.prune)
    calls = f"{total('llm_calls')}"
    if total("cached_calls"):
        calls += f" (+{total('cached_calls')} cached)"
    numbers = [total(f) for f in ("pages", "chunks", "entities", "relationships")] + [dropped]
    tokens = f"{total('prompt_tokens'):,} / {total('completion_tokens'):,}"
    return [*map(str, numbers), calls, tokens]


def print_answer(
    answer: Answer, *, show_evidence: bool = True, page_images: PageImages | None = None
) -> None:
    """The answer, its citations (with the path of each cited page's image, when kept) and
    what it rests on."""
    style = "green" if answer.supported else "yellow"
    console.print(Panel(answer.text, title=f"[bold]{answer.question}[/]", border_style=style))
    if answer.degraded:
        console.print(f"  [yellow]degraded: {answer.degraded}[/]")
    for c in answer.citations:
        console.print(f"  [bold]cites[/] {c.document}, page {c.page} [dim]({c.chunk_id})[/]")
        console.print(f"        [italic]“{c.quote}”[/]")
        image = page_images.path(c.document_id, c.page) if page_images else None
        if image is not None:
            console.print(f"        [dim]page image: {image}[/]")
    if show_evidence and answer.triples:
        console.print("  [bold]graph facts[/]")
        for t in answer.triples[:10]:
            kge = "" if t.plausibility is None else f" [dim](KGE {t.plausibility:.2f})[/]"
            console.print(f"    {t.subject} -[{t.predicate}]-> {t.object}{kge}")
    if show_evidence and answer.inferred:
        console.print("  [bold]inferred links[/] [dim](KGE predictions, not in any document)[/]")
        for t in answer.inferred:
            console.print(f"    {t.subject} -[{t.predicate}]-> {t.object} ({t.plausibility:.2f})")
    if show_evidence and answer.evidence:
        console.print("  [bold]evidence[/]")
        for e in answer.evidence:
            console.print(
                f"    {e.score:.2f} {e.via:6} {e.document_title}, p.{e.page}: "
                f"[dim]{e.text[:90].replace(chr(10), ' ')}…[/]"
            )
    timings = answer.trace.get("timings_s", {})
    if timings:
        console.print("  [dim]" + "  ".join(f"{k}={v}" for k, v in timings.items()) + "[/]")


def print_trace(answer: Answer) -> None:
    """What each retrieval strategy found; every generated Cypher attempt with its outcome."""
    trace = answer.trace
    console.print(f"  [bold]strategies[/] {', '.join(trace.get('strategies', []))}")
    linked = ", ".join(f"{e['name']} ({e['method']})" for e in trace.get("linked", []))
    console.print(f"  [bold]linked[/] {linked or '-'}")
    for attempt in trace.get("cypher", {}).get("attempts", []):
        outcome = attempt["error"] or f"{attempt['rows']} row(s)"
        console.print(f"  [bold]cypher[/] {attempt['query']}\n    [dim]-> {outcome}[/]")
        for fix in attempt.get("fixes", []):
            console.print(f"    [dim]fixed: {fix}[/]")
    kge = trace.get("kge")
    if kge is not None:
        console.print(
            f"  [bold]kge[/] model {kge.get('model') or '-'}, stale {kge.get('stale')}, "
            f"scored {kge.get('scored', 0)} triples, kept {len(kge.get('kept', []))}"
        )
    console.print(
        f"  [bold]graph[/] {trace.get('triples', 0)} triples, {trace.get('graph_chunks', 0)} "
        f"chunks; [bold]vector[/] {len(trace.get('vector_chunks', []))} chunks"
    )
