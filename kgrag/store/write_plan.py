"""What writing one document means: rows per label/type, validated before anything is written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kgrag.store import cypher as q
from kgrag.types import Chunk, Document, Entity, ResolvedGraph

Statement = tuple[str, dict[str, Any]]  # Cypher and its parameters


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def row_count(params: dict[str, Any]) -> int:
    """Rows a statement writes: the length of its list parameters (`$rows...`), at least 1."""
    return max(1, sum(len(v) for v in params.values() if isinstance(v, list)))


def write_plan(doc: Document, chunks: list[Chunk], graph: ResolvedGraph) -> dict[str, Any]:
    """Rows to write, grouped by label/type; raises ValueError on inconsistent input."""
    page_numbers = {p.number for p in doc.pages}
    if len(page_numbers) != len(doc.pages):
        raise ValueError(f"document {doc.id} has two pages with one number")
    chunk_ids = {c.id for c in chunks}
    for c in chunks:
        if c.document_id != doc.id or c.page not in page_numbers:
            raise ValueError(f"chunk {c.id} does not belong to a page of document {doc.id}")
    entities: dict[str, Entity] = {}
    for e in graph.entities:
        q.domain_name(e.type)
        seen = entities.get(e.id)
        if seen is not None and seen.type != e.type:
            raise ValueError(f"entity {e.id} has two types: {seen.type}, {e.type}")
        base = seen or Entity(id=e.id, name=e.name, type=e.type)
        entities[e.id] = base.model_copy(
            update={
                "aliases": unique(base.aliases + e.aliases),
                "chunk_ids": unique(base.chunk_ids + e.chunk_ids),
                "merges": unique(base.merges + e.merges),
            }
        )
    mentions: dict[str, list[str]] = {c.id: [] for c in chunks}
    for e in entities.values():
        for cid in e.chunk_ids:
            if cid not in chunk_ids:
                raise ValueError(f"entity {e.id} cites chunk {cid} not in document {doc.id}")
            mentions[cid].append(e.id)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in entities.values():
        by_type.setdefault(e.type, []).append(
            {"id": e.id, "name": e.name, "type": e.type, "aliases": e.aliases, "merges": e.merges}
        )
    rels: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in graph.relations:
        q.domain_name(r.type)
        if r.source_id not in entities or r.target_id not in entities:
            raise ValueError(f"relation {r.source_id}-{r.type}->{r.target_id}: unknown endpoint")
        if r.chunk_id not in chunk_ids:
            raise ValueError(f"relation cites chunk {r.chunk_id} not in document {doc.id}")
        row = rels.setdefault(
            (r.source_id, r.type, r.target_id),
            {
                "source_id": r.source_id,
                "target_id": r.target_id,
                "chunk_ids": [],
                "confidence": r.confidence,
            },
        )
        row["chunk_ids"] = unique(row["chunk_ids"] + [r.chunk_id])
        row["confidence"] = max(row["confidence"], r.confidence)
    rel_rows: dict[str, list[dict[str, Any]]] = {}
    for (_, rtype, _), row in rels.items():
        rel_rows.setdefault(rtype, []).append(row)
    return {
        "pages": [
            {
                "id": f"{doc.id}:p{p.number}",
                "document_id": doc.id,
                "number": p.number,
                "ocr_engine": p.ocr_engine,
                "ocr_confidence": p.ocr_confidence,
            }
            for p in sorted(doc.pages, key=lambda p: p.number)
        ],
        "chunks": [
            {**c.model_dump(), "page_id": f"{doc.id}:p{c.page}", "entity_ids": mentions[c.id]}
            for c in chunks
        ],
        "entities": by_type,
        "relations": rel_rows,
        "document": {
            "id": doc.id,
            "title": doc.title,
            "source": doc.source,
            "sha256": doc.sha256,
            "pages": len(doc.pages),
        },
    }


def entity_changes(
    rows: list[dict[str, Any]], stored: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Split entity rows of one type by what writing them changes, given the stored state
    (`cypher.ENTITIES_BY_ID` rows by id): (to create, to label, to update). Rows already
    stored as written are in none of them."""
    create, label, update = [], [], []
    for row in rows:
        old = stored.get(row["id"])
        if old is None:
            create.append(row)
            continue
        if row["type"] not in old["labels"]:
            label.append(row)
        if (
            old["name"] != row["name"]
            or old["type"] != row["type"]
            or not set(row["aliases"]) <= set(old["aliases"] or [])
            or not set(row["merges"]) <= set(old["merges"] or [])
        ):
            update.append(row)
    return create, label, update
