"""The embeddings of every indexed chunk's sentences (SQLite beside the vector indexes), made
at ingest so that sentence windows pick a vector-found chunk's sentence nearest the question
without embedding its sentences per question: MiniLM takes ~140 ms for 30 sentences on one
core, a lookup under 1 ms (benchmarks/query_path.py).

Rows are float16 (768 bytes a sentence at dimension 384; cosines move by ~1e-3) in the order
of `sentences.split_sentences(chunk text)`; a row whose count or dimension does not match is
ignored, so a changed splitter or embedding model only costs the old speed until
`kgrag index rebuild`.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np

from kgrag.ports import Embedder
from kgrag.sentences import split_sentences

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunk_sentences (
    chunk_id TEXT PRIMARY KEY, document_id TEXT NOT NULL, rows INTEGER NOT NULL,
    dimension INTEGER NOT NULL, vectors BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunk_sentences_document ON chunk_sentences (document_id);
"""


def sentence_texts(text: str) -> list[str]:
    """The chunk's sentences, as windows cut them."""
    return [text[s:e] for s, e in split_sentences(text)]


class SentenceVectors:
    """Per chunk, one float16 matrix: a row per sentence."""

    def __init__(self, path: Path, dimension: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.dimension = dimension
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def embed_chunks(
        self, embedder: Embedder, document_id: str, chunks: list[tuple[str, str]]
    ) -> None:
        """Embed the sentences of (chunk id, text) pairs in one call and keep them."""
        sentences = {chunk_id: sentence_texts(text) for chunk_id, text in chunks}
        texts = [s for found in sentences.values() for s in found]
        vectors = embedder.embed(texts) if texts else np.zeros((0, self.dimension), "float32")
        rows, start = [], 0
        for chunk_id, found in sentences.items():
            block = vectors[start : start + len(found)].astype(np.float16)
            start += len(found)
            rows.append((chunk_id, document_id, len(found), self.dimension, block.tobytes()))
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO chunk_sentences VALUES (?, ?, ?, ?, ?)", rows
            )

    def get(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        """The stored float32 matrices of these chunks; chunks without one are left out."""
        with self._lock:
            rows = [
                row
                for chunk_id in dict.fromkeys(chunk_ids)
                for row in self._db.execute(
                    "SELECT chunk_id, rows, dimension, vectors FROM chunk_sentences "
                    "WHERE chunk_id = ?",
                    (chunk_id,),
                )
            ]
        return {
            chunk_id: np.frombuffer(blob, dtype=np.float16).reshape(n, dim).astype(np.float32)
            for chunk_id, n, dim, blob in rows
            if dim == self.dimension
        }

    def remove_documents(self, document_ids: list[str]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "DELETE FROM chunk_sentences WHERE document_id = ?", [(d,) for d in document_ids]
            )

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM chunk_sentences")
