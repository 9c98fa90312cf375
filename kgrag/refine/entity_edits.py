"""`kgrag entities merge|split`: manual, reversible corrections of entity resolution.

Each merge is logged with the snapshots that make it reversible, in
`<data_dir>/entity_merges.json`; a split undoes one logged merge.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from kgrag.errors import KgragError
from kgrag.ingest.entity_match import entity_key
from kgrag.store.curation import EntitySnapshot, merge_into, snapshot, undo_merge
from kgrag.store.neo4j_store import Neo4jGraphStore
from kgrag.types import Entity


class EntityEditError(KgragError):
    """A merge or split that cannot be done as asked (unknown, ambiguous, mismatched)."""


class MergeRecord(BaseModel):
    id: str
    at: str
    note: str
    keep_before: EntitySnapshot
    drop: EntitySnapshot
    undone: bool = False


class EntityEdits:
    def __init__(self, store: Neo4jGraphStore, data_dir: Path) -> None:
        self.store = store
        self.path = Path(data_dir) / "entity_merges.json"

    def find(self, text: str) -> Entity:
        """The entity with this id, name or alias (any case); an error names the candidates."""
        key = entity_key(text)
        entities = self.store.entities()
        exact = [e for e in entities if e.id == text or e.id == key]
        found = exact or [
            e for e in entities if key in {entity_key(s) for s in (e.name, *e.aliases)}
        ]
        if not found:
            raise EntityEditError(f"no entity named {text!r}")
        if len(found) > 1:
            names = ", ".join(f"{e.name} ({e.type}, id {e.id})" for e in found)
            raise EntityEditError(f"{text!r} names several entities: {names}; use an id")
        return found[0]

    def merge(self, keep: str, drop: str, *, any_type: bool = False) -> MergeRecord:
        kept, gone = self.find(keep), self.find(drop)
        if kept.id == gone.id:
            raise EntityEditError(f"{keep!r} and {drop!r} are the same entity ({kept.id})")
        if kept.type != gone.type and not any_type:
            raise EntityEditError(
                f"{kept.name} is a {kept.type}, {gone.name} a {gone.type}; "
                "pass --any-type to merge across types"
            )
        keep_before, dropped = snapshot(self.store, kept.id), snapshot(self.store, gone.id)
        if keep_before is None or dropped is None:
            raise EntityEditError("the graph changed while merging; try again")
        record = MergeRecord(
            id=uuid.uuid4().hex[:8],
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            note=f"{gone.name} merged by hand",
            keep_before=keep_before,
            drop=dropped,
        )
        merge_into(self.store, keep_before, dropped, record.note)
        self._save([*self.history(), record])
        return record

    def split(self, ref: str) -> MergeRecord:
        """Undo the merge with this id, or the latest merge of an entity with this name."""
        records = self.history()
        key = entity_key(ref)
        matching = [
            r
            for r in records
            if not r.undone and (r.id == ref or entity_key(r.drop.entity.name) == key)
        ]
        if not matching:
            raise EntityEditError(f"no merge to undo for {ref!r} (see `kgrag entities history`)")
        record = matching[-1]
        if snapshot(self.store, record.drop.entity.id) is not None:
            raise EntityEditError(f"an entity with id {record.drop.entity.id!r} exists again")
        try:
            undo_merge(self.store, record.keep_before, record.drop, record.note)
        except LookupError as exc:
            raise EntityEditError(str(exc)) from exc
        record.undone = True
        self._save(records)
        return record

    def history(self) -> list[MergeRecord]:
        if not self.path.exists():
            return []
        return [
            MergeRecord.model_validate(item)
            for item in json.loads(self.path.read_text(encoding="utf-8"))
        ]

    def _save(self, records: list[MergeRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            "[\n" + ",\n".join(r.model_dump_json() for r in records) + "\n]", encoding="utf-8"
        )
        tmp.replace(self.path)
