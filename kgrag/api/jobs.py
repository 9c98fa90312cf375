"""Background ingest jobs for uploads: one worker thread, so graph writes never interleave."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

from pydantic import BaseModel

from kgrag.ingest.pipeline import IngestPipeline
from kgrag.runtime import Runtime
from kgrag.types import IngestResult, IngestStatus


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
    result: IngestResult | None = None


class IngestJobs:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.jobs: dict[str, IngestJob] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kgrag-ingest")

    def submit(self, filename: str, data: bytes) -> IngestJob:
        job = IngestJob(id=uuid.uuid4().hex, filename=filename)
        self.jobs[job.id] = job
        self._pool.submit(self._run, job, data)
        return job

    def _run(self, job: IngestJob, data: bytes) -> None:
        job.state = JobState.RUNNING

        def progress(_: str, done: int, total: int) -> None:
            job.chunks_done, job.chunks_total = done, total

        result = IngestPipeline(self.runtime, progress=progress).ingest_bytes(job.filename, data)
        job.result = result
        job.state = JobState.FAILED if result.status is IngestStatus.FAILED else JobState.DONE

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
