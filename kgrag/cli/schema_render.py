"""Rich tables for `kgrag schema ...`: schemas, discovery reports, drafts, reviews, diffs."""

from __future__ import annotations

from rich.table import Table

from kgrag.refine.discover import DiscoveryReport, TypeStat
from kgrag.refine.draft import Draft
from kgrag.refine.review import ReviewMetrics, SchemaDiff
from kgrag.schema import GraphSchema


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def schema_tables(schema: GraphSchema) -> list[Table]:
    title = f"{schema.name} v{schema.version} ({schema.fingerprint})"
    types = _table(f"{title}: types", "kind", "name", "aliases", "description")
    for kind, items in (("node", schema.node_types), ("relationship", schema.relationship_types)):
        for item in items:
            types.add_row(kind, item.name, ", ".join(item.aliases), item.description)
    patterns = _table("patterns", "source", "relationship", "target")
    for source, rel, target in schema.patterns:
        patterns.add_row(source, rel, target)
    return [types, patterns]


def _type_stats(title: str, stats: list[TypeStat]) -> Table:
    table = _table(title, "type", "count", "examples (source chunk)")
    for stat in stats:
        examples = "; ".join(f"{e.text} [{e.chunk_id}]" for e in stat.examples[:3])
        table.add_row(stat.name, str(stat.count), examples)
    return table


def discovery_tables(report: DiscoveryReport) -> list[Table]:
    sampled = f"{report.chunks_sampled} of {report.chunks_total} chunks"
    dups = _table("near-duplicate type names", "kind", "a", "b", "evidence", "score", "cosine")
    for d in report.near_duplicates:
        cosine = "-" if d.cosine is None else f"{d.cosine:.2f}"
        dups.add_row(d.kind, d.a, d.b, d.method, f"{d.score:.2f}", cosine)
    patterns = _table("patterns seen", "source", "relationship", "target", "count")
    for p in report.patterns[:30]:
        patterns.add_row(p.source_type, p.type, p.target_type, str(p.count))
    return [
        _type_stats(f"node types ({sampled})", report.node_types),
        _type_stats("relationship types", report.relationship_types),
        patterns,
        dups,
    ]


def draft_table(draft: Draft) -> Table:
    table = _table(f"draft {draft.schema_.name}", "action", "kind", "type", "detail")
    for m in draft.merges:
        table.add_row("merge", m.kind, m.kept, f"<- {', '.join(m.merged)} ({m.count} seen)")
    for d in draft.drops:
        table.add_row("drop", d.kind, d.name, f"{d.reason} ({d.count} seen)")
    for n in draft.kept_apart:
        table.add_row("check", n.kind, f"{n.a} / {n.b}", f"not merged: {n.method} {n.score:.2f}")
    s = draft.schema_
    table.caption = (
        f"{len(s.node_types)} node types, {len(s.relationship_types)} relationship types, "
        f"{len(s.patterns)} patterns"
    )
    return table


def review_tables(m: ReviewMetrics) -> list[Table]:
    summary = _table(
        f"review: {m.schema_name} v{m.schema_version} ({m.schema_fingerprint})", "metric", "value"
    )
    summary.add_row("documents", str(m.documents))
    summary.add_row("coverage (kept / extracted)", f"{m.coverage:.1%}")
    summary.add_row("nodes kept / extracted", f"{m.kept_nodes} / {m.extracted_nodes}")
    summary.add_row(
        "relationships kept / extracted", f"{m.kept_relationships} / {m.extracted_relationships}"
    )
    summary.add_row("entities in graph", str(m.entities))
    summary.add_row("orphan entities", f"{m.orphan_entities}  {', '.join(m.orphan_examples)}")
    summary.add_row("unused node types", ", ".join(m.unused_node_types) or "-")
    summary.add_row("unused relationship types", ", ".join(m.unused_relationship_types) or "-")
    if m.documents_under_other_schemas:
        summary.add_row(
            "[yellow]extracted under another schema[/]",
            ", ".join(m.documents_under_other_schemas),
        )
    dropped = _table("dropped by reason", "reason", "count", "examples")
    for reason, count in m.dropped_by_reason.items():
        dropped.add_row(reason, str(count), "\n".join(m.dropped_examples.get(reason, [])))
    types = _table("types in the graph", "kind", "type", "count")
    for name, count in m.node_type_counts.items():
        types.add_row("node", name, str(count))
    for name, count in m.relationship_type_counts.items():
        types.add_row("relationship", name, str(count))
    dups = _table("duplicate-entity candidates", "type", "a", "b", "evidence", "score")
    for d in m.duplicate_candidates:
        dups.add_row(d.type, d.a, d.b, d.method, f"{d.score:.2f}")
    return [summary, dropped, types, dups]


def diff_tables(d: SchemaDiff, a: str, b: str) -> list[Table]:
    changes = _table(f"schema changes {a} -> {b}", "change", "part", "items")
    for label, parts in (("added", d.added), ("removed", d.removed)):
        for part, items in parts.items():
            if items:
                changes.add_row(label, part, ", ".join(items))
    for name, aliases in d.aliases_changed.items():
        changes.add_row("aliases", name, ", ".join(aliases) or "(none)")
    metrics = _table("last review of each", "metric", a, b)
    for name, (va, vb) in d.metrics.items():
        metrics.add_row(name, "-" if va is None else f"{va:g}", "-" if vb is None else f"{vb:g}")
    if not d.metrics:
        metrics.caption = "no review recorded for either schema: run `kgrag schema apply` first"
    return [changes, metrics]
