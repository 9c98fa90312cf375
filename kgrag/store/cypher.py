"""Every Cypher statement of the graph store: parameterised, runs on Neo4j 5 and ArcadeDB.

Labels and relationship types cannot be parameters (and ArcadeDB has no `$(...)` dynamic
labels), so the builders take them only as validated identifiers, backtick-quoted.
"""

from __future__ import annotations

import re

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# Labels/types the lexical graph uses; a domain type must not collide with them.
RESERVED = frozenset({"Document", "Page", "Chunk", "Entity", "HAS_PAGE", "HAS_CHUNK", "MENTIONS"})


def identifier(name: str) -> str:
    """Return `name` if it is a safe label/relationship-type identifier, else raise ValueError."""
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a valid graph label or relationship type: {name!r}")
    return name


def quote(name: str) -> str:
    """Backtick-quote a validated identifier."""
    return f"`{identifier(name)}`"


def domain_name(name: str) -> str:
    """Validate an entity type / relationship type taken from data (not a lexical one)."""
    identifier(name)
    if name in RESERVED:
        raise ValueError(f"{name!r} is reserved for the lexical graph")
    return name


# --- schema (tried one by one; a server that rejects one is logged and skipped) ---
SCHEMA = (
    "CREATE CONSTRAINT kg_document_id IF NOT EXISTS FOR (n:Document) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT kg_page_id IF NOT EXISTS FOR (n:Page) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT kg_chunk_id IF NOT EXISTS FOR (n:Chunk) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT kg_entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX kg_document_sha256 IF NOT EXISTS FOR (n:Document) ON (n.sha256)",
    "CREATE INDEX kg_document_source IF NOT EXISTS FOR (n:Document) ON (n.source)",
    "CREATE INDEX kg_page_document IF NOT EXISTS FOR (n:Page) ON (n.document_id)",
    "CREATE INDEX kg_chunk_document IF NOT EXISTS FOR (n:Chunk) ON (n.document_id)",
)

PING = "RETURN 1 AS ok"

# --- lexical graph writes (rows: lists of dicts, UNWIND-ed) ---
MERGE_PAGES = """
UNWIND $rows AS row
MERGE (p:Page {id: row.id})
SET p.document_id = row.document_id, p.number = row.number,
    p.ocr_engine = row.ocr_engine, p.ocr_confidence = row.ocr_confidence
"""

# Chunks with their MENTIONS (row.entity_ids; the entities are written before).
MERGE_CHUNKS = """
UNWIND $rows AS row
MATCH (p:Page {id: row.page_id})
MERGE (c:Chunk {id: row.id})
SET c.document_id = row.document_id, c.text = row.text, c.page = row.page,
    c.start = row.start, c.end = row.end, c.section = row.section
MERGE (p)-[:HAS_CHUNK]->(c)
WITH c, row
UNWIND row.entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})
MERGE (c)-[:MENTIONS]->(e)
"""

# Written last: a Document node exists only for a completely written document.
MERGE_DOCUMENT = """
MERGE (d:Document {id: $id})
SET d.title = $title, d.source = $source, d.sha256 = $sha256, d.pages = $pages
WITH d
MATCH (p:Page {document_id: $id})
MERGE (d)-[:HAS_PAGE]->(p)
"""

MERGE_MENTIONS = """
UNWIND $rows AS row
MATCH (c:Chunk {id: row.chunk_id})
MATCH (e:Entity {id: row.entity_id})
MERGE (c)-[:MENTIONS]->(e)
"""


# The stored state of the entities a document names (to write only what changes). One index
# lookup per id: on ArcadeDB half the cost of `WHERE e.id IN $ids` (0.05 vs 0.1 ms per id).
ENTITIES_BY_ID = """
UNWIND $ids AS id
MATCH (e:Entity {id: id})
RETURN e.id AS id, labels(e) AS labels, e.name AS name, e.type AS type,
       e.aliases AS aliases, e.merges AS merges
"""


def chain(parts: list[str]) -> str:
    """One statement running the parts in order (each UNWINDs its own `$rows<i>`): fewer
    round trips than one statement per label or relationship type."""
    return "WITH count(*) AS done\n".join(parts)


def add_entity_label(entity_type: str, rows: str = "rows") -> str:
    """Give existing entities of these ids the type label.

    ArcadeDB rejects creating a node and relabelling it in one transaction under the
    Entity.id constraint, so labels are set at creation and, for existing nodes, here.
    """
    label = quote(domain_name(entity_type))
    return f"""
UNWIND ${identifier(rows)} AS row
MATCH (e:Entity {{id: row.id}}) WHERE NOT e:{label}
SET e:{label}
"""


def create_entities(entity_type: str, rows: str = "rows", *, known_missing: bool = False) -> str:
    """Create the entities of these ids that do not exist yet, as `:Entity:<type>`;
    `known_missing` (the caller has just read them, under the data dir's write lock) skips the
    per-row existence check; a concurrent creation then fails on the Entity.id constraint.

    Not `MERGE (e:Entity:<type> {id})`: ArcadeDB plans a two-label pattern as a scan of the
    type (0.2 ms/row at 1k entities, 2 ms/row at 48k) and uses the Entity.id index only for a
    one-label pattern, which is what the lookup here is.
    """
    label = quote(domain_name(entity_type))
    check = (
        ""
        if known_missing
        else "OPTIONAL MATCH (x:Entity {id: row.id})\nWITH row, x WHERE x IS NULL\n"
    )
    return f"""
UNWIND ${identifier(rows)} AS row
{check}CREATE (:Entity:{label} {{id: row.id, name: row.name, type: row.type,
                          aliases: row.aliases, merges: row.merges}})
"""


# Properties of existing entities; aliases/merges are unioned, never duplicated.
SET_ENTITIES = """
UNWIND $rows AS row
MATCH (e:Entity {id: row.id})
SET e.name = row.name, e.type = row.type,
    e.aliases = coalesce(e.aliases, []) +
                [a IN row.aliases WHERE NOT a IN coalesce(e.aliases, [])],
    e.merges = coalesce(e.merges, []) +
               [m IN row.merges WHERE NOT m IN coalesce(e.merges, [])]
"""


def merge_relations(rel_type: str, rows: str = "rows") -> str:
    """MERGE domain relationships of one type; source_chunks is a set, confidence the max."""
    rel = quote(domain_name(rel_type))
    return f"""
UNWIND ${identifier(rows)} AS row
MATCH (a:Entity {{id: row.source_id}})
MATCH (b:Entity {{id: row.target_id}})
MERGE (a)-[r:{rel}]->(b)
SET r.source_chunks = coalesce(r.source_chunks, []) +
                      [c IN row.chunk_ids WHERE NOT c IN coalesce(r.source_chunks, [])],
    r.confidence = CASE WHEN r.confidence IS NULL OR row.confidence > r.confidence
                        THEN row.confidence ELSE r.confidence END
"""


# --- delete one document (batched: each statement handles at most $batch items) ---
DOCUMENT_CHUNK_IDS = "MATCH (c:Chunk {document_id: $id}) RETURN c.id AS id"

DOCUMENT_ENTITY_IDS = """
MATCH (c:Chunk {document_id: $id})-[:MENTIONS]->(e:Entity)
RETURN DISTINCT e.id AS id
"""

STRIP_SOURCE_CHUNKS = """
MATCH (:Entity)-[r]->(:Entity)
WHERE any(c IN coalesce(r.source_chunks, []) WHERE c IN $chunk_ids)
WITH r LIMIT $batch
SET r.source_chunks = [c IN r.source_chunks WHERE NOT c IN $chunk_ids]
RETURN count(r) AS n
"""

DELETE_UNSOURCED_RELATIONS = """
MATCH (:Entity)-[r]->(:Entity)
WHERE size(coalesce(r.source_chunks, [])) = 0
WITH r LIMIT $batch
DELETE r
RETURN count(r) AS n
"""

DELETE_CHUNKS = """
MATCH (c:Chunk {document_id: $id})
WITH c LIMIT $batch
DETACH DELETE c
RETURN count(*) AS n
"""

DELETE_PAGES = """
MATCH (p:Page {document_id: $id})
WITH p LIMIT $batch
DETACH DELETE p
RETURN count(*) AS n
"""

DELETE_DOCUMENT_NODE = "MATCH (d:Document {id: $id}) DETACH DELETE d"

DELETE_ORPHAN_ENTITIES = """
UNWIND $ids AS id
MATCH (e:Entity {id: id})
WHERE NOT (e)<-[:MENTIONS]-()
DETACH DELETE e
RETURN count(*) AS n
"""

CLEAR = "MATCH (n) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS n"

# --- reads ---
HAS_DOCUMENT = "MATCH (d:Document {sha256: $sha256}) RETURN count(d) > 0 AS found"

DOCUMENTS_FROM_SOURCE = "MATCH (d:Document {source: $source}) RETURN d.id AS id"

LIST_DOCUMENTS = """
MATCH (d:Document)
OPTIONAL MATCH (d)-[:HAS_PAGE]->(:Page)-[:HAS_CHUNK]->(c:Chunk)
RETURN d.id AS id, d.title AS title, d.source AS source, d.sha256 AS sha256,
       d.pages AS pages, count(c) AS chunks
ORDER BY title, id
"""

DOCUMENT = """
MATCH (d:Document {id: $id})
RETURN d.id AS id, d.title AS title, d.source AS source, d.sha256 AS sha256, d.pages AS pages
"""

DOCUMENT_PAGES = """
MATCH (:Document {id: $id})-[:HAS_PAGE]->(p:Page)
OPTIONAL MATCH (p)-[:HAS_CHUNK]->(c:Chunk)
RETURN p.number AS number, count(c) AS chunks,
       p.ocr_engine AS ocr_engine, p.ocr_confidence AS ocr_confidence
ORDER BY number
"""

# Entities the document mentions, and how many of them no other document mentions.
DOCUMENT_ENTITY_COUNTS = """
MATCH (c:Chunk {document_id: $id})-[:MENTIONS]->(e:Entity)
WITH DISTINCT e
OPTIONAL MATCH (o:Chunk)-[:MENTIONS]->(e) WHERE o.document_id <> $id
WITH e, count(o) AS elsewhere
RETURN count(e) AS entities, sum(CASE WHEN elsewhere = 0 THEN 1 ELSE 0 END) AS only_here
"""

ENTITIES = """
MATCH (e:Entity)
OPTIONAL MATCH (c:Chunk)-[:MENTIONS]->(e)
RETURN e.id AS id, e.name AS name, e.type AS type, e.aliases AS aliases,
       collect(c.id) AS chunk_ids
ORDER BY id
"""

# Entities without their chunks (resolution and the name indexes need no more): at 100k
# entities 2 s, where ENTITIES, which follows every MENTIONS edge, takes 7.5 s.
ENTITY_NAMES = """
MATCH (e:Entity)
RETURN e.id AS id, e.name AS name, e.type AS type, e.aliases AS aliases
"""

_TRIPLE = """
WITH DISTINCT r
WITH startNode(r) AS a, r, endNode(r) AS b
RETURN a.id AS subject_id, a.name AS subject, type(r) AS predicate,
       b.id AS object_id, b.name AS object, r.source_chunks AS source_chunks
LIMIT $limit
"""

# Relationships touching the given entities. The entities are found by one index lookup per
# id (`UNWIND`): ArcadeDB plans `WHERE s.id IN $ids` worse, 54 vs 5 ms for the second ring at
# 100k entities (benchmarks/query_path.py).
NEIGHBOURS_1 = (
    """
UNWIND $ids AS id
MATCH (s:Entity {id: id})
MATCH (s)-[r]-(:Entity)
"""
    + _TRIPLE
)

# Relationships touching the 1-hop neighbours (the second ring).
NEIGHBOURS_2 = (
    """
UNWIND $ids AS id
MATCH (s:Entity {id: id})
MATCH (s)--(m:Entity)
WITH DISTINCT m
MATCH (m)-[r]-(:Entity)
"""
    + _TRIPLE
)

# Every domain relationship as ids, with the endpoint types (the KGE training set).
ENTITY_TRIPLES = """
MATCH (a:Entity)-[r]->(b:Entity)
RETURN a.id AS head, type(r) AS relation, b.id AS tail, a.type AS head_type, b.type AS tail_type,
       a.name AS head_name, b.name AS tail_name
"""

# Relationships of the given types (a question about a relation but no linked entity).
TRIPLES_OF_TYPES = (
    """
MATCH (:Entity)-[r]->(:Entity) WHERE type(r) IN $types
"""
    + _TRIPLE
)

ALL_CHUNKS = "MATCH (c:Chunk) RETURN c.id AS id, c.text AS text ORDER BY id"

EVIDENCE = """
UNWIND $ids AS id
MATCH (c:Chunk {id: id})
OPTIONAL MATCH (d:Document {id: c.document_id})
RETURN c.id AS chunk_id, c.document_id AS document_id, d.title AS document_title,
       c.page AS page, c.text AS text
"""

COUNTS = {
    "documents": "MATCH (n:Document) RETURN count(n) AS n",
    "pages": "MATCH (n:Page) RETURN count(n) AS n",
    "chunks": "MATCH (n:Chunk) RETURN count(n) AS n",
    "entities": "MATCH (n:Entity) RETURN count(n) AS n",
    "relationships": "MATCH (:Entity)-[r]->(:Entity) RETURN count(r) AS n",
    "mentions": "MATCH (:Chunk)-[r:MENTIONS]->(:Entity) RETURN count(r) AS n",
}

# --- schema review ---
ENTITY_TYPE_COUNTS = "MATCH (e:Entity) RETURN e.type AS type, count(e) AS n"

RELATIONSHIP_TYPE_COUNTS = "MATCH (:Entity)-[r]->(:Entity) RETURN type(r) AS type, count(r) AS n"

# Entities no domain relationship touches (only mentioned).
ORPHAN_ENTITIES = """
MATCH (e:Entity)
WHERE NOT (e)--(:Entity)
RETURN e.name AS name, e.type AS type
ORDER BY name
"""

# --- entity curation (manual merge / split) ---
ENTITY_BY_ID = """
MATCH (e:Entity {id: $id})
RETURN e.id AS id, e.name AS name, e.type AS type, e.aliases AS aliases, e.merges AS merges
"""

ENTITY_RELATIONS = """
MATCH (a:Entity)-[r]->(b:Entity)
WHERE a.id = $id OR b.id = $id
RETURN type(r) AS type, a.id AS source_id, b.id AS target_id,
       r.source_chunks AS chunk_ids, r.confidence AS confidence
"""

ENTITY_MENTIONS = "MATCH (c:Chunk)-[:MENTIONS]->(:Entity {id: $id}) RETURN c.id AS chunk_id"

SET_ENTITY_NAMES = "MATCH (e:Entity {id: $id}) SET e.aliases = $aliases, e.merges = $merges"

DELETE_ENTITY = "MATCH (e:Entity {id: $id}) DETACH DELETE e"

DELETE_MENTIONS = """
UNWIND $rows AS row
MATCH (:Chunk {id: row.chunk_id})-[m:MENTIONS]->(:Entity {id: row.entity_id})
DELETE m
"""


def set_relation_chunks(rel_type: str) -> str:
    """Replace the provenance of existing relationships of one type."""
    rel = quote(domain_name(rel_type))
    return f"""
UNWIND $rows AS row
MATCH (:Entity {{id: row.source_id}})-[r:{rel}]->(:Entity {{id: row.target_id}})
SET r.source_chunks = row.chunk_ids
"""


def delete_relations(rel_type: str) -> str:
    rel = quote(domain_name(rel_type))
    return f"""
UNWIND $rows AS row
MATCH (:Entity {{id: row.source_id}})-[r:{rel}]->(:Entity {{id: row.target_id}})
DELETE r
"""
