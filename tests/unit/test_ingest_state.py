"""The per-document ingest state: stages and saved work survive a new connection (a new
process), new bytes drop the old work, `indexed` drops it, failures keep the stage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kgrag.ingest.state import Extraction, IngestStates
from kgrag.types import (
    Chunk,
    Document,
    Entity,
    IngestStage,
    Page,
    PruneReport,
    Relation,
    ResolvedGraph,
)

DOC = Document(
    id="d1", title="Alpha", source="a.md", sha256="ab" * 32, pages=[Page(number=1, text="Ada.")]
)
CHUNKS = [Chunk(id="d1:p1:0", document_id="d1", page=1, start=0, end=4, text="Ada.")]
EXTRACTION = Extraction(
    graph=ResolvedGraph(
        entities=[Entity(id="ada", name="Ada", type="Person", chunk_ids=["d1:p1:0"])],
        relations=[Relation(source_id="ada", type="KNOWS", target_id="ada", chunk_id="d1:p1:0")],
    ),
    report=PruneReport(kept_nodes=1),
    repaired_outputs=1,
    schema_fingerprint="f1",
)


def test_stages_and_saved_work_survive_reopening(tmp_path: Path):
    seen: list[tuple[str, IngestStage]] = []
    states = IngestStates(tmp_path, on_stage=lambda s, st: seen.append((s, st)))
    states.pending(["a.md", "b.md"])
    states.read("a.md", DOC)
    states.chunked("a.md", CHUNKS)
    states.extracted("a.md", EXTRACTION)
    states.close()

    again = IngestStates(tmp_path).get("a.md")
    assert again is not None
    assert (again.stage, again.sha256, again.document_id) == ("extracted", DOC.sha256, "d1")
    assert (again.document, again.chunks, again.extraction) == (DOC, CHUNKS, EXTRACTION)
    assert IngestStates(tmp_path).stage("b.md") is IngestStage.PENDING
    assert seen == [
        ("a.md", IngestStage.PENDING),
        ("b.md", IngestStage.PENDING),
        ("a.md", IngestStage.READ),
        ("a.md", IngestStage.CHUNKED),
        ("a.md", IngestStage.EXTRACTED),
    ]


def test_pending_keeps_a_stage_already_reached(tmp_path: Path):
    states = IngestStates(tmp_path)
    states.read("a.md", DOC)
    states.pending(["a.md"])
    assert states.stage("a.md") is IngestStage.READ


def test_new_bytes_drop_the_old_work_and_indexed_drops_it_all(tmp_path: Path):
    states = IngestStates(tmp_path)
    states.read("a.md", DOC)
    states.chunked("a.md", CHUNKS)
    states.extracted("a.md", EXTRACTION)
    newer = DOC.model_copy(update={"id": "d2", "sha256": "cd" * 32})
    states.read("a.md", newer)
    state = states.get("a.md")
    assert state is not None and state.stage is IngestStage.READ
    assert (state.document, state.chunks, state.extraction) == (newer, None, None)

    states.chunked("a.md", CHUNKS)
    states.stored("a.md")
    states.indexed("a.md", newer)
    state = states.get("a.md")
    assert state is not None and state.stage is IngestStage.INDEXED and state.document_id == "d2"
    assert (state.document, state.chunks, state.extraction) == (None, None, None)


def test_failure_keeps_the_stage_and_work_and_the_next_stage_clears_the_error(tmp_path: Path):
    states = IngestStates(tmp_path)
    states.failed("bad.pdf", "corrupt PDF")
    assert states.get("bad.pdf").stage is IngestStage.PENDING  # type: ignore[union-attr]
    states.read("a.md", DOC)
    states.chunked("a.md", CHUNKS)
    states.extracted("a.md", EXTRACTION)
    states.back_to("a.md", IngestStage.EXTRACTED, "indexing failed: disk full")
    states.failed("a.md", "graph store unavailable")
    state = states.get("a.md")
    assert state is not None and state.stage is IngestStage.EXTRACTED
    assert state.error == "graph store unavailable" and state.extraction == EXTRACTION
    states.stored("a.md")
    assert states.get("a.md").error is None  # type: ignore[union-attr]
    assert [(s.source, s.stage) for s in states.all()] == [
        ("a.md", IngestStage.STORED),
        ("bad.pdf", IngestStage.PENDING),
    ]


def test_a_stage_is_on_disk_when_the_writer_is_killed(tmp_path: Path):
    """A child process records a stage, then SIGKILLs itself: the stage is there."""
    code = (
        "import os, signal, sys; from pathlib import Path\n"
        "from kgrag.ingest.state import IngestStates\n"
        "from kgrag.types import Document, Page\n"
        "doc = Document(id='d1', title='t', source='a.md', sha256='ab', "
        "pages=[Page(number=1, text='x')])\n"
        "IngestStates(Path(sys.argv[1])).read('a.md', doc)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True)
    assert proc.returncode == -9, proc.stderr
    state = IngestStates(tmp_path).get("a.md")
    assert state is not None and state.stage is IngestStage.READ and state.document_id == "d1"
