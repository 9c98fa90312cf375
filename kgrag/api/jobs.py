"""Background ingest jobs for uploads: one worker thread, so graph writes never interleave.

Each upload is written under `<data_dir>/uploads/<job id>/` (the bytes, and `job.json` with
the job's state and the upload's base name) before it is queued, so a crash or restart loses
nothing: jobs still queued or running are queued again when the API starts. Once a job ends,
its bytes are deleted and `job.json` keeps the result.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ValidationError

from kgrag.ingest.pipeline import IngestPipeline
from kgrag.runtime import Runtime
from kgrag.types import IngestResult, IngestStatus

Progress = Callable[[str, int, int], None]
Ingest = Callable[[str, bytes, Progress], IngestResult]
JOB_FILE, UPLOAD_FILE = "job.json", "upload.bin"  # the upload's own name is kept in job.json
log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:]")


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class IngestJob(BaseModel):
    id: str
    filename: str
    state: JobState = JobState.QUEUED
    chunks_done: int = 0
    chunks_total: int = 0
    submitted_at: float = 0.0  # time.time() at upload; restarts resume in this order
    resumed: bool = False  # queued again after a restart
    result: IngestResult | None = None


def safe_filename(name: str) -> str:
    """The upload's base name with separators and control characters removed: a name like
    `../../etc/passwd` or `C:\\x.txt` can never leave the job's folder."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")
    return cleaned[-200:] or "upload"


class IngestJobs:
    def __init__(self, runtime: Runtime, ingest: Ingest | None = None) -> None:
        self.runtime = runtime
        self.root = runtime.settings.data_dir / "uploads"
        self.root.mkdir(parents=True, exist_ok=True)
        self.jobs: dict[str, IngestJob] = {}
        self._ingest = ingest or self._pipeline_ingest
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kgrag-ingest")
        self._resume()

    def submit(self, filename: str, data: bytes) -> IngestJob:
        """Store the upload, then queue it."""
        job = IngestJob(
            id=uuid.uuid4().hex, filename=safe_filename(filename), submitted_at=time.time()
        )
        folder = self.root / job.id
        folder.mkdir()
        _write_atomic(folder / UPLOAD_FILE, data)
        self._save(job)
        self.jobs[job.id] = job
        self._pool.submit(self._run, job)
        return job

    def _resume(self) -> None:
        """Load every job on disk; queue again those a stop interrupted."""
        loaded = []
        for path in self.root.glob(f"*/{JOB_FILE}"):
            try:
                loaded.append(IngestJob.model_validate_json(path.read_text("utf-8")))
            except (OSError, ValidationError):
                continue  # a job file half-written by a crash: its upload was never queued
        for job in sorted(loaded, key=lambda j: j.submitted_at):
            self.jobs[job.id] = job
            if job.state in (JobState.QUEUED, JobState.RUNNING):
                job.state, job.resumed = JobState.QUEUED, True
                self._save(job)
                self._pool.submit(self._run, job)

    def _run(self, job: IngestJob) -> None:
        job.state = JobState.RUNNING
        self._save(job)

        def progress(_: str, done: int, total: int) -> None:
            job.chunks_done, job.chunks_total = done, total

        upload = self.root / job.id / UPLOAD_FILE
        try:
            result = self._ingest(job.filename, upload.read_bytes(), progress)
        except Exception as exc:  # a bug must not leave the job "running" forever
            log.exception("ingest job %s failed", job.id)
            result = IngestResult(
                source=job.filename, status=IngestStatus.FAILED, error=f"internal error: {exc}"
            )
        job.result = result
        job.state = JobState.FAILED if result.status is IngestStatus.FAILED else JobState.DONE
        self._save(job)
        upload.unlink(missing_ok=True)

    def _pipeline_ingest(self, name: str, data: bytes, progress: Progress) -> IngestResult:
        return IngestPipeline(self.runtime, progress=progress).ingest_bytes(name, data)

    def _save(self, job: IngestJob) -> None:
        _write_atomic(self.root / job.id / JOB_FILE, job.model_dump_json(indent=1).encode())

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
