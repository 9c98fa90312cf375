"""The read user for generated Cypher, on the real embedded ArcadeDB reached as a server
(graph_uri): ingest runs as the writer, generated queries as a user whose group may only read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import Forbidden
from pydantic import SecretStr

from kgrag.errors import GraphStoreError, ServiceUnavailableError
from kgrag.retrieve.guard import guard_cypher
from kgrag.settings import Settings
from kgrag.store.arcadedb import DATABASE, USER, EmbeddedArcadeDB
from kgrag.store.neo4j_store import Neo4jGraphStore, open_graph_store
from tests.integration.test_graph_store import C1, D1, G1

pytestmark = pytest.mark.integration

READER, READER_PASSWORD = "kgrag_reader", "reader-secret-1"
READ_ONLY_GROUP = {
    "resultSetLimit": -1,
    "readTimeout": -1,
    "access": [],
    "types": {"*": {"access": ["readRecord"]}},
}


@pytest.fixture(scope="module")
def server_settings(graph_store: Neo4jGraphStore, graph_settings: Settings) -> Settings:
    """Settings that reach the session's ArcadeDB as a server, with a read-only read user.

    ArcadeDB checks permissions per group (server/config/server-groups.json, reloaded by the
    running server) and creates users with its `create user` server command."""
    server = EmbeddedArcadeDB.from_settings(graph_settings)
    state = server.read_state()
    assert state is not None, "the session's ArcadeDB is not running"
    groups_file = server.dir / "server" / "config" / "server-groups.json"
    groups = json.loads(groups_file.read_text())
    groups["databases"]["*"]["groups"][READER] = READ_ONLY_GROUP
    groups_file.write_text(json.dumps(groups, indent=2))
    user = {"name": READER, "password": READER_PASSWORD, "databases": {DATABASE: [READER]}}
    httpx.post(
        f"http://127.0.0.1:{state['http_port']}/api/v1/server",
        json={"command": f"create user {json.dumps(user)}"},
        auth=(USER, server.password()),
    ).raise_for_status()
    _wait_until_reader_may_read(graph_store.uri)
    return Settings(
        data_dir=graph_settings.data_dir,
        graph_uri=graph_store.uri,
        graph_user=USER,
        graph_password=server.password(),
        graph_database=DATABASE,
        graph_read_user=READER,
        graph_read_password=READER_PASSWORD,
    )


def _wait_until_reader_may_read(uri: str, timeout_s: float = 30.0) -> None:
    """ArcadeDB picks up the edited groups file within seconds."""
    deadline = time.monotonic() + timeout_s
    with GraphDatabase.driver(uri, auth=(READER, READER_PASSWORD)) as driver:
        while True:
            try:
                with driver.session(database=DATABASE) as session:
                    session.run("MATCH (n:Entity) RETURN count(n) AS n").consume()
                return
            except Forbidden:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


@pytest.fixture
def reader_store(server_settings: Settings) -> Iterator[Neo4jGraphStore]:
    with open_graph_store(server_settings) as store:
        yield store


def test_generated_queries_run_as_the_read_user_and_ingest_as_the_writer(
    reader_store: Neo4jGraphStore,
):
    reader_store.clear()
    reader_store.write_document(D1, C1, G1)  # the writer's login: the read user may not write
    before = reader_store.counts()
    query = guard_cypher("MATCH (p:Person) RETURN p.name AS name", max_rows=5)
    assert reader_store.run_guarded_read(query, timeout_s=10) == [{"name": "Ann"}]

    # A write that got past the guard (called directly here) is refused by the server, which
    # shows the query ran on the read user's connection: ArcadeDB lets root write in READ mode.
    with pytest.raises(GraphStoreError, match=f"read user '{READER}'.*not allowed to create"):
        reader_store.run_guarded_read("CREATE (e:Entity {id: 'mallory'}) RETURN e", 10)
    assert reader_store.counts() == before


def test_a_wrong_read_password_fails_at_open_naming_the_read_user(server_settings: Settings):
    wrong = server_settings.model_copy(update={"graph_read_password": SecretStr("wrong")})
    with pytest.raises(ServiceUnavailableError, match=f"read user '{READER}'.*AuthError"):
        with open_graph_store(wrong):
            pass
