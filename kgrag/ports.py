"""Small interfaces between stages and the components behind them."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from kgrag.types import Chunk, Document, Edge, Entity, Evidence, ResolvedGraph, Triple


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray:
        """Return L2-normalised float32 vectors, one row per text."""
        ...


class GraphStore(Protocol):
    """The graph, reached only through the neo4j driver (Neo4j or embedded ArcadeDB)."""

    def ping(self) -> None:
        """Raise ServiceUnavailableError when the server cannot be reached."""
        ...

    def has_document(self, sha256: str) -> bool: ...

    def write_document(self, doc: Document, chunks: list[Chunk], graph: ResolvedGraph) -> None:
        """Idempotent write of the lexical + domain graph of one document.

        On failure, removes what it wrote for this document and re-raises.
        """
        ...

    def delete_document(self, document_id: str) -> None: ...

    def list_documents(self) -> list[dict[str, Any]]: ...

    def documents_from(self, source: str) -> list[str]: ...

    def document(self, document_id: str) -> dict[str, Any] | None: ...

    def entities(self) -> list[Entity]: ...

    def entity_names(self, ids: list[str] | None = None) -> list[Entity]: ...

    def neighbourhood(self, entity_ids: list[str], hops: int, limit: int) -> list[Triple]: ...

    def triples_of_types(self, types: list[str], limit: int) -> list[Triple]: ...

    def edges(self) -> list[Edge]:
        """Every domain relationship by entity ids (what a KGE model trains on)."""
        ...

    def evidence(self, chunk_ids: list[str]) -> list[Evidence]: ...

    def chunk_texts(self) -> list[tuple[str, str]]:
        """(chunk id, text) of every chunk: what the chunk vector index is rebuilt from."""
        ...

    def counts(self) -> dict[str, int]: ...

    def run_read(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a read query (inspection, tests); returns plain dict rows."""
        ...

    def run_guarded_read(self, query: str, timeout_s: float) -> list[dict[str, Any]]:
        """EXPLAIN, then run an already-guarded generated query read-only with a timeout."""
        ...

    def close(self) -> None: ...
