"""Schema review: how well does the current graph fit the schema, and what did pruning drop?

Metrics come from the graph itself (type distribution, unused types, orphan entities,
duplicate-entity candidates) and from the prune log of each document's last extraction
(coverage, dropped items by reason). A snapshot is kept per schema fingerprint so that
`kgrag schema diff` can show what a schema change did to the numbers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from pydantic import BaseModel

from kgrag.ingest.entity_match import EmbedFn, NameMatch, find_matches
from kgrag.ingest.prune_log import PruneRecord
from kgrag.ports import GraphStore
from kgrag.schema import GraphSchema
from kgrag.store import cypher as q

MAX_EXAMPLES = 5


class ReviewMetrics(BaseModel):
    schema_name: str
    schema_version: int
    schema_fingerprint: str
    documents: int
    documents_under_other_schemas: list[str] = []
    extracted_nodes: int = 0
    kept_nodes: int = 0
    extracted_relationships: int = 0
    kept_relationships: int = 0
    dropped_by_reason: dict[str, int] = {}
    dropped_examples: dict[str, list[str]] = {}
    entities: int = 0
    node_type_counts: dict[str, int] = {}
    relationship_type_counts: dict[str, int] = {}
    unused_node_types: list[str] = []
    unused_relationship_types: list[str] = []
    orphan_entities: int = 0
    orphan_examples: list[str] = []
    duplicate_candidates: list[NameMatch] = []

    @property
    def coverage(self) -> float:
        """Share of extracted items (nodes and relationships) that the schema kept."""
        extracted = self.extracted_nodes + self.extracted_relationships
        kept = self.kept_nodes + self.kept_relationships
        return kept / extracted if extracted else 1.0

    def headline(self) -> dict[str, float]:
        """The figures `schema diff` compares."""
        return {
            "coverage": round(self.coverage, 3),
            "kept nodes": self.kept_nodes,
            "kept relationships": self.kept_relationships,
            "dropped": sum(self.dropped_by_reason.values()),
            **{f"dropped {k}": v for k, v in sorted(self.dropped_by_reason.items())},
            "entities": self.entities,
            "relationships": sum(self.relationship_type_counts.values()),
            "unused types": len(self.unused_node_types) + len(self.unused_relationship_types),
            "orphan entities": self.orphan_entities,
            "duplicate candidates": len(self.duplicate_candidates),
        }


def review(
    store: GraphStore,
    schema: GraphSchema,
    records: list[PruneRecord],
    *,
    embed: EmbedFn | None,
    duplicate_threshold: float,
) -> ReviewMetrics:
    metrics = ReviewMetrics(
        schema_name=schema.name,
        schema_version=schema.version,
        schema_fingerprint=schema.fingerprint,
        documents=len(records),
        documents_under_other_schemas=[
            r.source for r in records if r.schema_fingerprint != schema.fingerprint
        ],
    )
    reasons: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for record in records:
        report = record.report
        dropped_nodes = sum(d.kind == "node" for d in report.dropped)
        metrics.extracted_nodes += report.kept_nodes + dropped_nodes
        metrics.kept_nodes += report.kept_nodes
        metrics.extracted_relationships += (
            report.kept_relationships + len(report.dropped) - dropped_nodes
        )
        metrics.kept_relationships += report.kept_relationships
        for item in report.dropped:
            reasons[item.reason.value] += 1
            if len(examples[item.reason.value]) < MAX_EXAMPLES:
                examples[item.reason.value].append(f"{item.kind} {item.item} [{item.chunk_id}]")
    metrics.dropped_by_reason = dict(reasons.most_common())
    metrics.dropped_examples = dict(examples)

    node_counts = {r["type"]: r["n"] for r in store.run_read(q.ENTITY_TYPE_COUNTS)}
    rel_counts = {r["type"]: r["n"] for r in store.run_read(q.RELATIONSHIP_TYPE_COUNTS)}
    metrics.node_type_counts = dict(sorted(node_counts.items(), key=lambda kv: -kv[1]))
    metrics.relationship_type_counts = dict(sorted(rel_counts.items(), key=lambda kv: -kv[1]))
    metrics.entities = sum(node_counts.values())
    metrics.unused_node_types = [n for n in schema.node_labels if n not in node_counts]
    metrics.unused_relationship_types = [
        r for r in schema.relationship_names if r not in rel_counts
    ]
    orphans = store.run_read(q.ORPHAN_ENTITIES)
    metrics.orphan_entities = len(orphans)
    metrics.orphan_examples = [f"{r['name']} ({r['type']})" for r in orphans[:MAX_EXAMPLES]]

    by_type: dict[str, list[str]] = defaultdict(list)
    for entity in store.entities():
        by_type[entity.type].append(entity.name)
    metrics.duplicate_candidates = [
        match
        for type_, names in sorted(by_type.items())
        for match in find_matches(type_, names, embed=embed, threshold=duplicate_threshold)
    ]
    return metrics


class ReviewSnapshots:
    """The last review per schema fingerprint, under `<data_dir>/reviews/`."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = Path(data_dir) / "reviews"

    def save(self, metrics: ReviewMetrics) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{metrics.schema_fingerprint}.json"
        path.write_text(metrics.model_dump_json(indent=2), encoding="utf-8")

    def load(self, schema: GraphSchema) -> ReviewMetrics | None:
        path = self.directory / f"{schema.fingerprint}.json"
        if not path.exists():
            return None
        return ReviewMetrics.model_validate_json(path.read_text(encoding="utf-8"))


class SchemaDiff(BaseModel):
    added: dict[str, list[str]]
    removed: dict[str, list[str]]
    aliases_changed: dict[str, list[str]]  # type -> its new alias list
    metrics: dict[str, tuple[int | float | None, int | float | None]]  # name -> (A, B)


def diff_schemas(
    a: GraphSchema, b: GraphSchema, metrics_a: ReviewMetrics | None, metrics_b: ReviewMetrics | None
) -> SchemaDiff:
    parts = {
        "node types": (set(a.node_labels), set(b.node_labels)),
        "relationship types": (set(a.relationship_names), set(b.relationship_names)),
        "patterns": ({str(tuple(p)) for p in a.patterns}, {str(tuple(p)) for p in b.patterns}),
    }
    aliases_a = {t.name: sorted(t.aliases) for t in (*a.node_types, *a.relationship_types)}
    aliases_b = {t.name: sorted(t.aliases) for t in (*b.node_types, *b.relationship_types)}
    head_a = metrics_a.headline() if metrics_a else {}
    head_b = metrics_b.headline() if metrics_b else {}
    return SchemaDiff(
        added={k: sorted(nb - na) for k, (na, nb) in parts.items()},
        removed={k: sorted(na - nb) for k, (na, nb) in parts.items()},
        aliases_changed={
            name: aliases
            for name, aliases in aliases_b.items()
            if name in aliases_a and aliases_a[name] != aliases
        },
        metrics={k: (head_a.get(k), head_b.get(k)) for k in dict.fromkeys([*head_a, *head_b])},
    )
