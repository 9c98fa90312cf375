"""Kill a real `kgrag ingest` process (SIGKILL) at several points, run it again, and compare the
graph and the indexes with a clean single run: nothing lost, nothing duplicated.

The LLM is tests/fake_llm_server.py (an OpenAI-compatible HTTP server in its own process with
deterministic extraction rules): the property tested is the pipeline's durability. The graph
store is the real embedded ArcadeDB; it runs in its own session, so it outlives the killed
ingest process and the re-run attaches to it, as after a crash of the ingest process.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kgrag.ingest.state import FILENAME
from kgrag.procs import free_port
from kgrag.settings import REPO_ROOT, Settings
from kgrag.store.arcadedb import EmbeddedArcadeDB
from kgrag.store.neo4j_store import open_graph_store
from kgrag.vectors import VectorIndex

pytestmark = pytest.mark.integration

DOCS = {
    "a.md": "# Alpha\n\nAda Lovelace founded Analytical Engines. The firm built looms and "
    "calculating engines for the mills of the north.\n\nCharles Babbage works for Analytical "
    "Engines. He designed the difference engine and drew the plans himself.\n\nMary Somerville "
    "works for Royal Society. She wrote on physical geography and astronomy.\n",
    "b.md": "# Beta\n\nGrace Hopper founded Compiler Works. The company wrote the first "
    "compilers for business programs in the city.\n\nAda Lovelace works for Compiler Works. "
    "She reviewed the manuals of every release.\n",
}
CHUNKS = {"a.md": 3, "b.md": 2}  # with chunk_size 130, overlap 0: one chunk per paragraph
LLM_DELAY_S = 1.0


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_llm_server", "--port", str(port), "--delay",
         str(LLM_DELAY_S)],
        cwd=REPO_ROOT,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base_url}/models", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base_url
    finally:
        proc.kill()
        proc.wait()


def _answered(base_url: str) -> int:
    return httpx.get(base_url.removesuffix("/v1") + "/stats", timeout=5).json()["answered"]


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("docs")
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in DOCS]


class Project:
    """One data dir, `kgrag ingest` runs on it, and what its graph and indexes hold."""

    def __init__(self, root: Path, llm: str) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(data_dir=root / "data", graph_uri=None, arcadedb_heap="384m")
        self.env = {
            **os.environ,
            "KGRAG_DATA_DIR": str(self.settings.data_dir),
            "KGRAG_LLM_BASE_URL": llm,
            "KGRAG_LLM_MAX_RETRIES": "0",
            "KGRAG_CHUNK_SIZE": "130",
            "KGRAG_CHUNK_OVERLAP": "0",
            "KGRAG_ARCADEDB_HEAP": "384m",
            "PYTHONPATH": str(REPO_ROOT),
            "COLUMNS": "250",
        }

    def start(self, paths: list[Path], **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "kgrag.cli.main", "ingest", *map(str, paths)],
            env={**self.env, **env},
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ingest(self, paths: list[Path]) -> str:
        proc = self.start(paths)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
        return out

    def snapshot(self) -> dict[str, list]:
        """Sorted ids (with repeats, so a duplicate shows) of everything ingest writes."""
        with open_graph_store(self.settings) as store:

            def ids(query: str) -> list:
                return sorted(tuple(r.values()) for r in store.run_read(query))

            graph = {
                "documents": ids("MATCH (n:Document) RETURN n.id AS id, n.source AS source"),
                "pages": ids("MATCH (n:Page) RETURN n.id AS id"),
                "chunks": ids("MATCH (n:Chunk) RETURN n.id AS id"),
                "entities": ids("MATCH (n:Entity) RETURN n.id AS id"),
                "mentions": ids("MATCH (c:Chunk)-[:MENTIONS]->(e:Entity) RETURN c.id, e.id"),
                "relationships": ids(
                    "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.id AS a, type(r) AS t, b.id AS b"
                ),
                "relationship sources": sorted(
                    c
                    for r in store.run_read("MATCH (:Entity)-[r]->(:Entity) RETURN r.source_chunks")
                    for c in r["r.source_chunks"]
                ),
            }
        vectors = self.settings.data_dir / "vectors"
        dim = 384
        with sqlite3.connect(vectors / "chunk_texts.sqlite") as db:
            texts = sorted(r[0] for r in db.execute("SELECT id FROM chunk"))
        return {
            **graph,
            "chunk vectors": sorted(VectorIndex.open(vectors / "chunks", dim).ids),
            "entity vectors": sorted(VectorIndex.open(vectors / "entities", dim).ids),
            "chunk texts": texts,
        }

    def stages(self) -> dict[str, str]:
        with sqlite3.connect(self.settings.data_dir / FILENAME) as db:
            return {
                Path(s).name: stage
                for s, stage in db.execute("SELECT source, stage FROM document_state")
            }

    def stop_graph(self) -> None:
        EmbeddedArcadeDB.from_settings(self.settings).stop()


@pytest.fixture
def project(tmp_path: Path, fake_llm: str) -> Iterator[Project]:
    p = Project(tmp_path, fake_llm)
    yield p
    p.stop_graph()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, fake_llm: str, docs: list[Path]):
    """What one uninterrupted run writes."""
    p = Project(tmp_path_factory.mktemp("clean"), fake_llm)
    try:
        p.ingest(docs)
        snap = p.snapshot()
    finally:
        p.stop_graph()
    assert len(snap["chunks"]) == sum(CHUNKS.values()) and len(snap["relationships"]) == 5
    return snap


def _no_repeats(snapshot: dict[str, list]) -> None:
    for name, items in snapshot.items():
        repeated = [k for k, n in Counter(items).items() if n > 1]
        assert not repeated, f"{name} duplicated: {repeated}"


def _kill_when_paused(proc: subprocess.Popen[str], stage: str) -> None:
    """Read stderr until the process says it paused after `stage`, then SIGKILL it."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if f"paused after stage {stage}" in line:
            break
    else:
        raise AssertionError(f"ingest ended without pausing at {stage}: rc {proc.wait()}")
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


@pytest.mark.parametrize(
    ("stage", "calls_on_rerun"),
    [
        ("read", CHUNKS["a.md"] + CHUNKS["b.md"]),  # nothing extracted yet
        ("extracted", CHUNKS["b.md"]),  # a.md's graph was saved: no LLM call for it
        ("stored", CHUNKS["b.md"]),  # a.md in the graph, not yet in the indexes
    ],
)
def test_killed_after_a_stage_resumes_to_the_same_graph_and_indexes(
    project: Project, docs: list[Path], clean: dict, fake_llm: str, stage: str, calls_on_rerun: int
):
    proc = project.start(docs, KGRAG_INGEST_PAUSE_AT=stage)
    _kill_when_paused(proc, stage)
    assert project.stages() == {"a.md": stage, "b.md": "pending"}

    before = _answered(fake_llm)
    out = project.ingest(docs)
    assert f"resumed after {stage}" in out
    assert _answered(fake_llm) - before == calls_on_rerun
    assert project.stages() == {"a.md": "indexed", "b.md": "indexed"}
    snap = project.snapshot()
    _no_repeats(snap)
    assert snap == clean


def test_killed_mid_extraction_resumes_with_cached_answers(
    project: Project, docs: list[Path], clean: dict, fake_llm: str
):
    before = _answered(fake_llm)
    proc = project.start(docs)
    deadline = time.monotonic() + 120
    while _answered(fake_llm) - before < 2:  # a.md: 2 of its 3 chunks answered, 1 in flight
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(LLM_DELAY_S / 2)  # the 2nd answer reaches the client (and its cache); 3rd waits
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert project.stages() == {"a.md": "chunked", "b.md": "pending"}

    time.sleep(LLM_DELAY_S + 0.5)  # the server finishes the killed client's request first
    before = _answered(fake_llm)
    out = project.ingest(docs)
    assert "resumed after chunked" in out and "cached" in out
    assert _answered(fake_llm) - before == sum(CHUNKS.values()) - 2  # answered ones not re-asked
    snap = project.snapshot()
    _no_repeats(snap)
    assert snap == clean


def test_same_bytes_are_a_no_op(project: Project, docs: list[Path], clean: dict, fake_llm: str):
    project.ingest(docs)
    before = _answered(fake_llm)
    out = project.ingest(docs)
    assert out.count("unchanged") == 2 and _answered(fake_llm) == before
    assert project.snapshot() == clean


def test_changed_bytes_replace_the_old_version_cleanly(
    project: Project, tmp_path: Path, fake_llm: str
):
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = [folder / name for name in DOCS]
    for path in paths:
        path.write_text(DOCS[path.name], encoding="utf-8")
    project.ingest(paths)
    old = project.snapshot()
    paths[0].write_text(DOCS["a.md"].replace("Mary Somerville", "Emmy Noether"), encoding="utf-8")
    project.ingest(paths)  # a.md: same source, new bytes; b.md unchanged
    replaced = project.snapshot()

    fresh = Project(tmp_path / "fresh", fake_llm)  # one clean run of the final files
    try:
        fresh.ingest(paths)
        expected = fresh.snapshot()
    finally:
        fresh.stop_graph()
    _no_repeats(replaced)
    assert replaced == expected
    assert replaced["chunks"] != old["chunks"]  # a.md's old chunks are gone, not kept beside
