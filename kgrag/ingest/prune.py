"""Prune stage: keep what the schema allows, report every dropped item with its reason."""

from __future__ import annotations

from kgrag.schema import GraphSchema
from kgrag.types import (
    DroppedItem,
    DropReason,
    ExtractedGraph,
    ExtractedNode,
    ExtractedRelationship,
    PruneReport,
)


def prune(
    graphs: list[ExtractedGraph], schema: GraphSchema
) -> tuple[list[ExtractedGraph], PruneReport]:
    """Map alias type names to canonical types, then drop what the schema does not allow."""
    report = PruneReport()
    kept: list[ExtractedGraph] = []
    for graph in graphs:
        nodes = [
            n for n in (_prune_node(graph.chunk_id, n, schema, report) for n in graph.nodes) if n
        ]
        rels = [
            r
            for r in (_prune_rel(graph.chunk_id, r, schema, report) for r in graph.relationships)
            if r
        ]
        # An endpoint the LLM named only in a relationship is still an entity of its chunk.
        names = {(n.name, n.type) for n in nodes}
        for rel in rels:
            for name, type_ in ((rel.source, rel.source_type), (rel.target, rel.target_type)):
                if (name, type_) not in names:
                    names.add((name, type_))
                    nodes.append(ExtractedNode(name=name, type=type_))
        report.kept_nodes += len(nodes)
        report.kept_relationships += len(rels)
        kept.append(graph.model_copy(update={"nodes": nodes, "relationships": rels}))
    return kept, report


def _drop(report: PruneReport, chunk_id: str, kind: str, item: str, reason: DropReason) -> None:
    report.dropped.append(DroppedItem(chunk_id=chunk_id, kind=kind, item=item, reason=reason))


def _prune_node(
    chunk_id: str, node: ExtractedNode, schema: GraphSchema, report: PruneReport
) -> ExtractedNode | None:
    label = f"{node.name!r}:{node.type}"
    if not node.name:
        _drop(report, chunk_id, "node", label, DropReason.MISSING_ID)
        return None
    canonical = schema.canonical_node_type(node.type)
    if canonical is None:
        _drop(report, chunk_id, "node", label, DropReason.NOT_IN_SCHEMA)
        return None
    return ExtractedNode(name=node.name, type=canonical)


def _prune_rel(
    chunk_id: str, rel: ExtractedRelationship, schema: GraphSchema, report: PruneReport
) -> ExtractedRelationship | None:
    label = f"({rel.source}:{rel.source_type})-[{rel.type}]->({rel.target}:{rel.target_type})"
    if not rel.source or not rel.target:
        _drop(report, chunk_id, "relationship", label, DropReason.MISSING_ID)
        return None
    source_type = schema.canonical_node_type(rel.source_type)
    target_type = schema.canonical_node_type(rel.target_type)
    rel_type = schema.canonical_relationship_type(rel.type)
    if source_type is None or target_type is None or rel_type is None:
        _drop(report, chunk_id, "relationship", label, DropReason.NOT_IN_SCHEMA)
        return None
    if rel.source.casefold() == rel.target.casefold():
        _drop(report, chunk_id, "relationship", label, DropReason.INVALID_PATTERN)
        return None
    if not schema.allows_pattern(source_type, rel_type, target_type):
        _drop(report, chunk_id, "relationship", label, DropReason.INVALID_PATTERN)
        return None
    return ExtractedRelationship(
        source=rel.source,
        source_type=source_type,
        type=rel_type,
        target=rel.target,
        target_type=target_type,
    )
