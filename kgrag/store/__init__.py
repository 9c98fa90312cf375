"""Graph store: the embedded ArcadeDB server and the neo4j-driver GraphStore."""

from kgrag.store.arcadedb import BoltEndpoint, EmbeddedArcadeDB
from kgrag.store.neo4j_store import Neo4jGraphStore, open_graph_store

__all__ = ["BoltEndpoint", "EmbeddedArcadeDB", "Neo4jGraphStore", "open_graph_store"]
