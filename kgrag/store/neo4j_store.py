"""GraphStore on the official neo4j driver: the same code for Neo4j and embedded ArcadeDB."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from neo4j import Driver, GraphDatabase, ManagedTransaction, unit_of_work
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable, SessionExpired
from pydantic import SecretStr

from kgrag.errors import GraphStoreError, ServiceUnavailableError
from kgrag.store import cypher as q
from kgrag.store.arcadedb import EmbeddedArcadeDB
from kgrag.store.write_plan import (
    Statement,
    batches,
    entity_changes,
    row_count,
    unique,
    write_plan,
)
from kgrag.types import Chunk, Document, Edge, Entity, Evidence, ResolvedGraph, Triple

log = logging.getLogger(__name__)
SERVICE = "graph store"
_UNREACHABLE = (ServiceUnavailable, SessionExpired, AuthError, OSError)


class Neo4jGraphStore:
    """The `GraphStore` port over Bolt; writes go in managed transactions of bounded batches."""

    def __init__(
        self,
        uri: str,
        user: str,
        password: str | None,
        database: str | None = None,
        write_batch: int = 200,
        connection_timeout_s: float = 10.0,
        retry_s: float = 15.0,
        read_user: str | None = None,
        read_password: str | None = None,
    ) -> None:
        """`read_user` (optional) runs the LLM-generated queries (`run_guarded_read`) on a
        second driver; everything else, ingest included, uses `user`."""
        self.uri = uri
        self.database = database
        self.write_batch = write_batch
        self.read_user = read_user

        def connect(name: str, secret: str | None) -> Driver:
            return GraphDatabase.driver(
                uri,
                auth=(name, secret or ""),
                connection_timeout=connection_timeout_s,
                connection_acquisition_timeout=connection_timeout_s,
                max_transaction_retry_time=retry_s,  # managed transactions retry transients
            )

        self._driver = connect(user, password)
        self._reader = connect(read_user, read_password) if read_user else self._driver

    # --- plumbing ---
    @contextlib.contextmanager
    def _translated(self, as_reader: bool = False) -> Iterator[None]:
        where = self.uri
        if as_reader and self._reader is not self._driver:
            where += f" (read user {self.read_user!r})"
        try:
            yield
        except _UNREACHABLE as e:
            raise ServiceUnavailableError(SERVICE, f"{where}: {type(e).__name__}: {e}") from e
        except Neo4jError as e:
            detail = f"{e.code}: {e.message}"
            raise GraphStoreError(f"{SERVICE} {where} refused a query: {detail}") from e

    def _write(self, query: str, **params: Any) -> list[dict[str, Any]]:
        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            return [r.data() for r in tx.run(query, params)]

        with self._translated(), self._driver.session(database=self.database) as s:
            return s.execute_write(work)

    def write_all(self, statements: list[Statement]) -> None:
        """Run the statements in one write transaction: all of them or none."""

        def work(tx: ManagedTransaction) -> None:
            for query, params in statements:
                tx.run(query, params).consume()

        with self._translated(), self._driver.session(database=self.database) as s:
            s.execute_write(work)

    def _row_statements(self, query: str, rows: list[dict[str, Any]]) -> list[Statement]:
        return [(query, {"rows": batch}) for batch in batches(rows, self.write_batch)]

    def _typed_statements(
        self, builder: Callable[[str, str], str], by_type: dict[str, list[dict[str, Any]]]
    ) -> list[Statement]:
        """Statements writing rows per label/type with `builder(type, parameter)`, several
        types chained into one statement (`cypher.chain`) of at most `write_batch` rows."""
        statements: list[Statement] = []
        parts: list[str] = []
        params: dict[str, Any] = {}
        size = 0
        for name, rows in by_type.items():
            for batch in batches(rows, self.write_batch):
                if parts and size + len(batch) > self.write_batch:
                    statements.append((q.chain(parts), params))
                    parts, params, size = [], {}, 0
                param = f"rows{len(parts)}"
                parts.append(builder(name, param))
                params[param] = batch
                size += len(batch)
        if parts:
            statements.append((q.chain(parts), params))
        return statements

    def _repeat(self, query: str, **params: Any) -> None:
        """Run a batched (`LIMIT $batch`) write until it touches nothing."""
        while True:
            rows = self._write(query, batch=self.write_batch, **params)
            if not rows or not rows[0]["n"]:
                return

    def run_read(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            return [r.data() for r in tx.run(query, params or {})]

        with self._translated(), self._driver.session(database=self.database) as s:
            return s.execute_read(work)

    def run_guarded_read(self, query: str, timeout_s: float) -> list[dict[str, Any]]:
        """EXPLAIN a guarded query (syntax/semantics checked by the server), then run it in a
        read transaction with a timeout. Neo4j also classifies the query: anything but
        read-only is refused; ArcadeDB reports every query as a write, so there the guard in
        retrieve/guard.py is what holds. Runs as the read user when one is configured."""
        with self._translated(as_reader=True), self._reader.session(database=self.database) as s:
            summary = s.run(f"EXPLAIN {query}").consume()
            if "arcadedb" not in (summary.server.agent or "").lower() and summary.query_type != "r":
                raise GraphStoreError(f"the server classifies the query as {summary.query_type!r}")

            @unit_of_work(timeout=timeout_s)
            def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
                return [r.data() for r in tx.run(query)]

            return s.execute_read(work)

    def ping(self) -> None:
        """Check the server answers, with the writer's and (when set) the read user's login."""
        with self._translated(), self._driver.session(database=self.database) as s:
            s.run(q.PING).consume()
        if self._reader is not self._driver:
            with (
                self._translated(as_reader=True),
                self._reader.session(database=self.database) as s,
            ):
                s.run(q.PING).consume()

    def ensure_schema(self) -> list[str]:
        """Create constraints/indexes the server supports; returns the statements it refused."""
        refused = []
        for stmt in q.SCHEMA:
            try:
                with self._translated(), self._driver.session(database=self.database) as s:
                    s.run(stmt).consume()
            except GraphStoreError as e:
                log.warning("graph store refused %r: %s", stmt, e)
                refused.append(stmt)
        return refused

    def close(self) -> None:
        if self._reader is not self._driver:
            self._reader.close()
        self._driver.close()

    # --- writes ---
    def has_document(self, sha256: str) -> bool:
        rows = self.run_read(q.HAS_DOCUMENT, {"sha256": sha256})
        return bool(rows and rows[0]["found"])

    def write_document(self, doc: Document, chunks: list[Chunk], graph: ResolvedGraph) -> None:
        plan = write_plan(doc, chunks, graph)  # validates before anything is written
        try:
            stored = {r["id"] for r in self.run_read(q.DOCUMENT_CHUNK_IDS, {"id": doc.id})}
            if stored and stored != {c.id for c in chunks}:
                self.delete_document(doc.id)  # re-chunked: drop the old version first
            statements = [
                *self._row_statements(q.MERGE_PAGES, plan["pages"]),
                *self._entity_statements(plan["entities"]),
                *self._row_statements(q.MERGE_CHUNKS, plan["chunks"]),
                *self._typed_statements(q.merge_relations, plan["relations"]),
                (q.MERGE_DOCUMENT, plan["document"]),
            ]
            if sum(row_count(params) for _, params in statements) <= self.write_batch:
                self.write_all(statements)  # a small document: one transaction
            else:
                for query, params in statements:
                    self._write(query, **params)
        except BaseException:
            log.warning("writing document %s failed; removing what was written", doc.id)
            try:
                self._delete(doc.id, [e.id for e in graph.entities])
            except Exception:
                log.exception("cleanup of document %s failed", doc.id)
            raise

    def _entity_statements(self, by_type: dict[str, list[dict[str, Any]]]) -> list[Statement]:
        """Create the missing entities, label and update the changed ones; one indexed read
        of the stored state first, so unchanged entities cost no write. Ingest writes under
        the runtime's lock (`Runtime.lock`); another writer creating one of these ids in
        between fails this write on the Entity.id constraint, which removes the document."""
        ids = [r["id"] for rows in by_type.values() for r in rows]
        stored = {r["id"]: r for r in self.run_read(q.ENTITIES_BY_ID, {"ids": ids})}
        changes = {etype: entity_changes(rows, stored) for etype, rows in by_type.items()}
        return [
            *self._typed_statements(q.add_entity_label, {t: c[1] for t, c in changes.items()}),
            *self._typed_statements(
                partial(q.create_entities, known_missing=True),
                {t: c[0] for t, c in changes.items()},
            ),
            *self._row_statements(q.SET_ENTITIES, [row for c in changes.values() for row in c[2]]),
        ]

    def delete_document(self, document_id: str) -> None:
        self._delete(document_id, [])

    def _delete(self, document_id: str, extra_entity_ids: list[str]) -> None:
        chunk_ids = [r["id"] for r in self.run_read(q.DOCUMENT_CHUNK_IDS, {"id": document_id})]
        entity_ids = [r["id"] for r in self.run_read(q.DOCUMENT_ENTITY_IDS, {"id": document_id})]
        entity_ids = unique(entity_ids + extra_entity_ids)
        if chunk_ids:
            self._repeat(q.STRIP_SOURCE_CHUNKS, chunk_ids=chunk_ids)
        self._repeat(q.DELETE_UNSOURCED_RELATIONS)
        self._repeat(q.DELETE_CHUNKS, id=document_id)
        self._repeat(q.DELETE_PAGES, id=document_id)
        self._write(q.DELETE_DOCUMENT_NODE, id=document_id)
        for batch in batches([{"id": i} for i in entity_ids], self.write_batch):
            self._write(q.DELETE_ORPHAN_ENTITIES, ids=[r["id"] for r in batch])

    def clear(self) -> None:
        """Delete every node and relationship (tests, `graph reset`)."""
        self._repeat(q.CLEAR)

    # --- reads ---
    def list_documents(self) -> list[dict[str, Any]]:
        return self.run_read(q.LIST_DOCUMENTS)

    def documents_from(self, source: str) -> list[str]:
        """Ids of the documents ingested from this source (file path or upload name)."""
        return [r["id"] for r in self.run_read(q.DOCUMENTS_FROM_SOURCE, {"source": source})]

    def document(self, document_id: str) -> dict[str, Any] | None:
        """One document with its pages (chunks per page) and entity counts; None if absent."""
        rows = self.run_read(q.DOCUMENT, {"id": document_id})
        if not rows:
            return None
        counts = self.run_read(q.DOCUMENT_ENTITY_COUNTS, {"id": document_id})
        pages = self.run_read(q.DOCUMENT_PAGES, {"id": document_id})
        return {
            **rows[0],
            "page_list": pages,
            "chunks": sum(p["chunks"] for p in pages),
            "entities": counts[0]["entities"] if counts else 0,
            "entities_only_here": (counts[0]["only_here"] or 0) if counts else 0,
        }

    def entities(self) -> list[Entity]:
        return [
            Entity(
                id=r["id"],
                name=r["name"],
                type=r["type"],
                aliases=r["aliases"] or [],
                chunk_ids=sorted(set(r["chunk_ids"])),
            )
            for r in self.run_read(q.ENTITIES)
        ]

    def entity_names(self, ids: list[str] | None = None) -> list[Entity]:
        """Entities without their chunk ids, in no particular order: all, or those of `ids`."""
        rows = (
            self.run_read(q.ENTITY_NAMES)
            if ids is None
            else self.run_read(q.ENTITIES_BY_ID, {"ids": unique(ids)})
        )
        return [
            Entity(id=r["id"], name=r["name"], type=r["type"], aliases=r["aliases"] or [])
            for r in rows
        ]

    def neighbourhood(self, entity_ids: list[str], hops: int, limit: int) -> list[Triple]:
        """Domain relationships touching the entities (hops=1) or their neighbours too (2)."""
        if hops not in (1, 2):
            raise ValueError(f"hops must be 1 or 2, not {hops}")
        if not entity_ids or limit < 1:
            return []
        found: dict[tuple[str, str, str], Triple] = {}
        for query in (q.NEIGHBOURS_1, q.NEIGHBOURS_2)[:hops]:
            want = limit - len(found)
            if want <= 0:
                break
            rows = self.run_read(query, {"ids": entity_ids, "limit": want + len(found)})
            _add_triples(found, rows, limit)
        return list(found.values())

    def triples_of_types(self, types: list[str], limit: int) -> list[Triple]:
        """Up to `limit` domain relationships of these types."""
        if not types or limit < 1:
            return []
        found: dict[tuple[str, str, str], Triple] = {}
        _add_triples(
            found, self.run_read(q.TRIPLES_OF_TYPES, {"types": types, "limit": limit}), limit
        )
        return list(found.values())

    def evidence(self, chunk_ids: list[str]) -> list[Evidence]:
        rows = {r["chunk_id"]: r for r in self.run_read(q.EVIDENCE, {"ids": unique(chunk_ids)})}
        return [
            Evidence(
                chunk_id=r["chunk_id"],
                document_id=r["document_id"],
                document_title=r["document_title"] or "",
                page=r["page"],
                text=r["text"],
                via="graph",
            )
            for cid in unique(chunk_ids)
            if (r := rows.get(cid)) is not None
        ]

    def edges(self) -> list[Edge]:
        return [Edge(**r) for r in self.run_read(q.ENTITY_TRIPLES)]

    def chunk_texts(self) -> list[tuple[str, str]]:
        return [(r["id"], r["text"]) for r in self.run_read(q.ALL_CHUNKS)]

    def counts(self) -> dict[str, int]:
        return {name: int(self.run_read(stmt)[0]["n"]) for name, stmt in q.COUNTS.items()}


def _add_triples(
    found: dict[tuple[str, str, str], Triple], rows: list[dict[str, Any]], limit: int
) -> None:
    """Add the rows of a triple query (`cypher._TRIPLE`) not yet in `found`, up to `limit`."""
    for r in rows:
        key = (r["subject_id"], r["predicate"], r["object_id"])
        if key not in found and len(found) < limit:
            found[key] = Triple(
                subject=r["subject"],
                predicate=r["predicate"],
                object=r["object"],
                source_chunks=list(r["source_chunks"] or []),
                subject_id=r["subject_id"],
                object_id=r["object_id"],
            )


@contextlib.contextmanager
def open_graph_store(settings: Any) -> Iterator[Neo4jGraphStore]:
    """Yield a ready store: the embedded ArcadeDB (started or attached) or `settings.graph_uri`."""
    server: EmbeddedArcadeDB | None = None
    read_user, read_password = None, None  # Settings refuses a read user without graph_uri
    if settings.graph_uri is None:
        server = EmbeddedArcadeDB.from_settings(settings)
        ep = server.start()
        uri, user, password, database = ep.uri, ep.user, ep.password, ep.database
    else:
        uri, user, database = settings.graph_uri, settings.graph_user, settings.graph_database
        password, read_user = _secret(settings.graph_password), settings.graph_read_user
        read_password = _secret(settings.graph_read_password)
    try:
        store = Neo4jGraphStore(
            uri,
            user,
            password,
            database,
            settings.graph_write_batch,
            read_user=read_user,
            read_password=read_password,
        )
        try:
            store.ping()
            store.ensure_schema()
            yield store
        finally:
            store.close()
    finally:
        if server is not None:
            server.__exit__(None, None, None)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
