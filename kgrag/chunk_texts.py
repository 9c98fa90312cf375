"""A local copy of every indexed chunk's text and citation data (SQLite beside the vector
indexes), so that questions can still be answered from vector search alone, clearly marked,
while the graph store is unreachable."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from kgrag.types import Evidence

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunk (
    id TEXT PRIMARY KEY, document_id TEXT, document_title TEXT, page INTEGER, text TEXT
)
"""


class ChunkTexts:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(SCHEMA)

    def put(self, items: list[Evidence]) -> None:
        rows = [(e.chunk_id, e.document_id, e.document_title, e.page, e.text) for e in items]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO chunk VALUES (?, ?, ?, ?, ?)", rows)

    def remove_documents(self, document_ids: list[str]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "DELETE FROM chunk WHERE document_id = ?", [(d,) for d in document_ids]
            )

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM chunk")

    def get(self, chunk_ids: list[str]) -> list[Evidence]:
        """The stored chunks, in the order asked; unknown ids are left out."""
        with self._lock:
            found = {
                row[0]: row
                for chunk_id in chunk_ids
                for row in self._db.execute("SELECT * FROM chunk WHERE id = ?", (chunk_id,))
            }
        return [
            Evidence(
                chunk_id=r[0],
                document_id=r[1],
                document_title=r[2],
                page=r[3],
                text=r[4],
                via="vector",
            )  # fmt: skip
            for chunk_id in chunk_ids
            if (r := found.get(chunk_id)) is not None
        ]
