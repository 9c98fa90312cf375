"""Upload jobs: stored under the data dir whatever the file name, and resumed after a crash."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from kgrag.api.jobs import IngestJobs, JobState, safe_filename
from kgrag.types import IngestResult, IngestStatus


def _runtime(data_dir: Path):
    return SimpleNamespace(settings=SimpleNamespace(data_dir=data_dir))


def _wait(jobs: IngestJobs, ids: list[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while any(jobs.jobs[i].state in (JobState.QUEUED, JobState.RUNNING) for i in ids):
        assert time.monotonic() < deadline, [jobs.jobs[i].state for i in ids]
        time.sleep(0.02)


def _recorder(seen: list[tuple[str, bytes]]):
    def ingest(name: str, data: bytes, progress) -> IngestResult:
        seen.append((name, data))
        progress(name, 1, 1)
        return IngestResult(source=name, status=IngestStatus.INGESTED)

    return ingest


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.md", "win.md"),
        ("/abs/path/notes.md", "notes.md"),
        ("C:report.pdf", "C_report.pdf"),
        ("a\x00b\nc.txt", "a_b_c.txt"),
        ("..", "upload"),
        ("", "upload"),
        ("보고서.pdf", "보고서.pdf"),
    ],
)
def test_file_names_cannot_leave_the_job_folder(name: str, expected: str):
    assert safe_filename(name) == expected


def test_uploads_are_stored_under_the_data_dir_and_ingested(tmp_path: Path):
    seen: list[tuple[str, bytes]] = []
    jobs = IngestJobs(_runtime(tmp_path), ingest=_recorder(seen))
    job = jobs.submit("../../escape/job.json", b"hello")
    _wait(jobs, [job.id])
    jobs.shutdown()
    assert seen == [("job.json", b"hello")]
    assert job.state is JobState.DONE and job.chunks_done == 1
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == [f"uploads/{job.id}/job.json"]  # the bytes are gone once ingested
    assert not (tmp_path.parent / "escape").exists()


def test_jobs_interrupted_by_a_crash_are_resumed(tmp_path: Path):
    release = threading.Event()

    def stuck(name, data, progress):  # the process "dies" while this runs
        release.wait(30)
        raise RuntimeError("this worker was abandoned")

    crashed = IngestJobs(_runtime(tmp_path), ingest=stuck)
    first = crashed.submit("a.txt", b"A")
    second = crashed.submit("b.md", b"B")
    time.sleep(0.2)  # the first is running, the second queued; nothing has ended

    seen: list[tuple[str, bytes]] = []
    restarted = IngestJobs(_runtime(tmp_path), ingest=_recorder(seen))
    _wait(restarted, [first.id, second.id])
    restarted.shutdown()
    assert seen == [("a.txt", b"A"), ("b.md", b"B")]
    assert all(restarted.jobs[j.id].resumed for j in (first, second))
    assert all(restarted.jobs[j.id].state is JobState.DONE for j in (first, second))

    again = IngestJobs(_runtime(tmp_path), ingest=_recorder(later := []))
    again.shutdown()
    assert later == [] and again.jobs[first.id].result.status is IngestStatus.INGESTED
    release.set()
