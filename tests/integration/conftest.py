"""Shared fixtures for integration tests: a real embedded ArcadeDB in a tmp data dir."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kgrag.llm.local_server import LocalLLMServer
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore, open_graph_store


@pytest.fixture(scope="session")
def graph_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for an embedded graph store on a fresh tmp data dir (small write batches)."""
    return Settings(
        data_dir=tmp_path_factory.mktemp("kgrag-data"),
        graph_uri=None,
        graph_write_batch=2,
        arcadedb_heap="512m",
        arcadedb_start_timeout_s=90.0,
    )


@pytest.fixture(scope="session")
def graph_store(graph_settings: Settings) -> Iterator[Neo4jGraphStore]:
    """An open store on the real embedded ArcadeDB, started for the session and then stopped."""
    with open_graph_store(graph_settings) as store:
        yield store


@pytest.fixture(scope="session")
def llm_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the real local llama-server: tmp data dir, 1 thread (the CPU is shared)."""
    return Settings(
        data_dir=tmp_path_factory.mktemp("kgrag-llm"),
        llm_base_url=None,
        llm_threads=1,
        llm_context=4096,
        llm_max_retries=0,
        llm_cache=True,
    )


@pytest.fixture(scope="session")
def llm_server(llm_settings: Settings) -> Iterator[str]:
    """Base URL (…/v1) of a real local llama-server started for the session, then stopped."""
    with LocalLLMServer(llm_settings) as base_url:
        yield base_url
