"""Per-document ingest state, kept durably in `<data_dir>/ingest_state.sqlite`.

One row per source (file path or upload name): the stage its latest bytes reached
(pending → read → chunked → extracted → stored → indexed) and the work a re-run needs to
continue from there: the document after `read` (no second OCR), its chunks after `chunked`,
the resolved graph after `extracted` (no second LLM pass). Each stage is committed before the
next one starts, so a process killed at any point leaves its last completed stage on disk.
The saved work is dropped once the document is indexed.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from kgrag.types import Chunk, Document, IngestStage, PruneReport, ResolvedGraph

FILENAME = "ingest_state.sqlite"
PAUSE_S = 600.0  # how long `ingest_pause_at` holds the process (crash tests kill it meanwhile)

SCHEMA = """
CREATE TABLE IF NOT EXISTS document_state (
    source TEXT PRIMARY KEY, stage TEXT NOT NULL, sha256 TEXT, document_id TEXT, title TEXT,
    error TEXT, updated_at REAL NOT NULL, document TEXT, chunks TEXT, extraction TEXT
)
"""


class Extraction(BaseModel):
    """The extract stage's output, saved so a re-run need not ask the LLM again."""

    graph: ResolvedGraph
    report: PruneReport
    repaired_outputs: int = 0
    cut_outputs: int = 0
    schema_fingerprint: str  # reused only under the same schema


class DocumentState(BaseModel):
    source: str
    stage: IngestStage
    sha256: str | None = None
    document_id: str | None = None
    title: str | None = None
    error: str | None = None  # why the last run stopped short of `indexed`
    updated_at: float
    document: Document | None = None
    chunks: list[Chunk] | None = None
    extraction: Extraction | None = None


class IngestStates:
    """The state table; `on_stage(source, stage)` runs after each stage is committed."""

    def __init__(
        self, data_dir: Path, on_stage: Callable[[str, IngestStage], None] | None = None
    ) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / FILENAME
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._on_stage = on_stage
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def pending(self, sources: list[str]) -> None:
        """Sources about to be ingested that have no state yet."""
        now = time.time()
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO document_state (source, stage, updated_at) VALUES (?, ?, ?)",
                [(s, IngestStage.PENDING.value, now) for s in sources],
            )
        for source in sources:
            self._announce(source, IngestStage.PENDING)

    def get(self, source: str) -> DocumentState | None:
        with self._lock:
            cur = self._db.execute("SELECT * FROM document_state WHERE source = ?", (source,))
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        if row is None:
            return None
        values = dict(zip(names, row, strict=True))
        document, chunks, extraction = values.pop("document"), values.pop("chunks"), None
        if values["extraction"] is not None:
            extraction = Extraction.model_validate_json(values["extraction"])
        values.pop("extraction")
        return DocumentState(
            **values,
            document=Document.model_validate_json(document) if document else None,
            chunks=[Chunk.model_validate(c) for c in json.loads(chunks)] if chunks else None,
            extraction=extraction,
        )

    def stage(self, source: str) -> IngestStage | None:
        with self._lock:
            row = self._db.execute(
                "SELECT stage FROM document_state WHERE source = ?", (source,)
            ).fetchone()
        return IngestStage(row[0]) if row else None

    def all(self) -> list[DocumentState]:
        """Every source's state, without the saved work (for summaries)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT source, stage, sha256, document_id, title, error, updated_at "
                "FROM document_state ORDER BY source"
            ).fetchall()
        keys = ("source", "stage", "sha256", "document_id", "title", "error", "updated_at")
        return [DocumentState(**dict(zip(keys, r, strict=True))) for r in rows]

    def read(self, source: str, doc: Document) -> None:
        """New bytes were read: earlier saved work for this source is dropped."""
        self._write(
            source,
            IngestStage.READ,
            sha256=doc.sha256,
            document_id=doc.id,
            title=doc.title,
            document=doc.model_dump_json(),
            chunks=None,
            extraction=None,
        )

    def chunked(self, source: str, chunks: list[Chunk]) -> None:
        payload = json.dumps([c.model_dump() for c in chunks])
        self._write(source, IngestStage.CHUNKED, chunks=payload, extraction=None)

    def extracted(self, source: str, extraction: Extraction) -> None:
        self._write(source, IngestStage.EXTRACTED, extraction=extraction.model_dump_json())

    def stored(self, source: str) -> None:
        self._write(source, IngestStage.STORED)

    def back_to(self, source: str, stage: IngestStage, error: str) -> None:
        """A later stage was undone (its writes removed): the saved work stays."""
        self._write(source, stage, announce=False, error=error)

    def indexed(self, source: str, doc: Document) -> None:
        """Done (or unchanged): the saved work is no longer needed."""
        self._write(
            source,
            IngestStage.INDEXED,
            sha256=doc.sha256,
            document_id=doc.id,
            title=doc.title,
            document=None,
            chunks=None,
            extraction=None,
        )

    def failed(self, source: str, error: str) -> None:
        """This run stopped short; the stage reached so far (and its work) stays."""
        with self._lock:
            self._db.execute(
                "INSERT INTO document_state (source, stage, error, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(source) DO UPDATE SET error = excluded.error, "
                "updated_at = excluded.updated_at",
                (source, IngestStage.PENDING.value, error, time.time()),
            )

    def _write(
        self, source: str, stage: IngestStage, *, announce: bool = True, **columns: str | None
    ) -> None:
        """Set the stage (and the given columns; `error` is cleared unless given) in one
        committed statement."""
        values: dict[str, object] = {
            "stage": stage.value,
            "updated_at": time.time(),
            "error": None,
            **columns,
        }
        names, marks = ", ".join(values), ", ".join("?" for _ in values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in values)
        with self._lock:
            self._db.execute(
                f"INSERT INTO document_state (source, {names}) VALUES (?, {marks}) "
                f"ON CONFLICT(source) DO UPDATE SET {updates}",
                (source, *values.values()),
            )
        if announce:
            self._announce(source, stage)

    def _announce(self, source: str, stage: IngestStage) -> None:
        if self._on_stage is not None:
            self._on_stage(source, stage)


def pause_at(stage: IngestStage) -> Callable[[str, IngestStage], None]:
    """A hook for crash tests: after `stage` is committed, say so on stderr and hold."""

    def hook(source: str, reached: IngestStage) -> None:
        if reached is stage:
            print(f"kgrag ingest: paused after stage {stage.value} of {source}", file=sys.stderr)
            sys.stderr.flush()
            time.sleep(PAUSE_S)

    return hook
