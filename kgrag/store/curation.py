"""Manual entity curation: merge one entity into another, and undo that merge (split).

A merge moves the dropped entity's relationships and mentions onto the kept one, records
its names as aliases (so later ingests of the same name join the kept entity) and deletes
it, in one transaction. The snapshots taken before the merge make it reversible: a split
recreates the dropped entity and takes back exactly what the merge added to the kept one,
leaving provenance that later ingests added in place.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel

from kgrag.store import cypher as q
from kgrag.store.neo4j_store import Neo4jGraphStore
from kgrag.types import Entity

Statements = list[tuple[str, dict[str, Any]]]


class RelationRow(BaseModel):
    type: str
    source_id: str
    target_id: str
    chunk_ids: list[str] = []
    confidence: float = 1.0

    @property
    def key(self) -> tuple[str, str, str]:
        return self.type, self.source_id, self.target_id

    def moved(self, old: str, new: str) -> RelationRow:
        return self.model_copy(
            update={
                "source_id": new if self.source_id == old else self.source_id,
                "target_id": new if self.target_id == old else self.target_id,
            }
        )


class EntitySnapshot(BaseModel):
    entity: Entity
    relations: list[RelationRow]
    mentions: list[str]  # chunk ids


def snapshot(store: Neo4jGraphStore, entity_id: str) -> EntitySnapshot | None:
    rows = store.run_read(q.ENTITY_BY_ID, {"id": entity_id})
    if not rows:
        return None
    row = rows[0]
    entity = Entity(
        id=row["id"],
        name=row["name"],
        type=row["type"],
        aliases=row["aliases"] or [],
        merges=row["merges"] or [],
    )
    relations = [
        RelationRow(
            type=r["type"],
            source_id=r["source_id"],
            target_id=r["target_id"],
            chunk_ids=r["chunk_ids"] or [],
            confidence=r["confidence"] if r["confidence"] is not None else 1.0,
        )
        for r in store.run_read(q.ENTITY_RELATIONS, {"id": entity_id})
    ]
    mentions = [r["chunk_id"] for r in store.run_read(q.ENTITY_MENTIONS, {"id": entity_id})]
    return EntitySnapshot(entity=entity, relations=relations, mentions=sorted(mentions))


def merge_into(
    store: Neo4jGraphStore, keep: EntitySnapshot, drop: EntitySnapshot, note: str
) -> None:
    kept, gone = keep.entity, drop.entity
    statements: Statements = []
    for rel_type, rows in _by_type(
        r.moved(gone.id, kept.id)
        for r in drop.relations
        if kept.id not in (r.source_id, r.target_id)
    ).items():
        statements.append((q.merge_relations(rel_type), {"rows": rows}))
    mentions = [{"chunk_id": c, "entity_id": kept.id} for c in drop.mentions]
    statements.append((q.MERGE_MENTIONS, {"rows": mentions}))
    aliases = list(dict.fromkeys([*kept.aliases, gone.name, *gone.aliases]))
    statements.append(
        (
            q.SET_ENTITY_NAMES,
            {
                "id": kept.id,
                "aliases": [a for a in aliases if a != kept.name],
                "merges": [*kept.merges, note],
            },
        )  # fmt: skip
    )
    statements.append((q.DELETE_ENTITY, {"id": gone.id}))
    store.write_all(statements)


def undo_merge(
    store: Neo4jGraphStore,
    keep_before: EntitySnapshot,
    drop: EntitySnapshot,
    note: str,
) -> None:
    """Recreate `drop` and take back from the kept entity what merging it added."""
    current = snapshot(store, keep_before.entity.id)
    if current is None:
        raise LookupError(f"entity {keep_before.entity.id!r} is no longer in the graph")
    gone = drop.entity
    rows = [
        {
            "id": gone.id,
            "name": gone.name,
            "type": gone.type,
            "aliases": gone.aliases,
            "merges": gone.merges,
        }
    ]
    statements: Statements = [
        (q.create_entities(gone.type), {"rows": rows}),
        (q.SET_ENTITIES, {"rows": rows}),
    ]
    before = {r.key: set(r.chunk_ids) for r in keep_before.relations}
    now = {r.key: r for r in current.relations}
    trimmed, removed = [], []
    for rel in drop.relations:
        moved = rel.moved(gone.id, keep_before.entity.id)
        if moved.key not in now:  # gone since (its documents were deleted)
            continue
        added = set(rel.chunk_ids) - before.get(moved.key, set())
        remaining = [c for c in now[moved.key].chunk_ids if c not in added]
        row = {"source_id": moved.source_id, "target_id": moved.target_id, "chunk_ids": remaining}
        (trimmed if remaining else removed).append((rel.type, row))
    for rel_type, rows in _group(removed).items():
        statements.append((q.delete_relations(rel_type), {"rows": rows}))
    for rel_type, rows in _group(trimmed).items():
        statements.append((q.set_relation_chunks(rel_type), {"rows": rows}))
    for rel_type, rows in _by_type(drop.relations).items():
        statements.append((q.merge_relations(rel_type), {"rows": rows}))
    statements.append((q.MERGE_MENTIONS, {"rows": [
        {"chunk_id": c, "entity_id": gone.id} for c in drop.mentions]}))  # fmt: skip
    taken_back = set(drop.mentions) - set(keep_before.mentions)
    statements.append((q.DELETE_MENTIONS, {"rows": [
        {"chunk_id": c, "entity_id": current.entity.id} for c in sorted(taken_back)]}))  # fmt: skip
    added_names = {gone.name, *gone.aliases} - set(keep_before.entity.aliases)
    statements.append(
        (
            q.SET_ENTITY_NAMES,
            {
                "id": current.entity.id,
                "aliases": [a for a in current.entity.aliases if a not in added_names],
                "merges": [m for m in current.entity.merges if m != note],
            },
        )  # fmt: skip
    )
    store.write_all(statements)


def _by_type(relations: Any) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in relations:
        grouped[r.type].append(
            {"source_id": r.source_id, "target_id": r.target_id, "chunk_ids": r.chunk_ids,
             "confidence": r.confidence}
        )  # fmt: skip
    return grouped


def _group(rows: list[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rel_type, row in rows:
        grouped[rel_type].append(row)
    return grouped
