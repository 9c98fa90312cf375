"""Documents: upload (validated now, ingested in the background), list, and job status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from kgrag.api.deps import JobsDep, RuntimeDep
from kgrag.api.jobs import IngestJob
from kgrag.errors import DocumentError, NeedsOcrError
from kgrag.ingest.read import read_document

router = APIRouter(prefix="/documents", tags=["documents"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=IngestJob)
async def upload(file: UploadFile, rt: RuntimeDep, jobs: JobsDep) -> IngestJob:
    """Check the file at once (type, size, readable text), then queue it for extraction."""
    limit = int(rt.settings.max_upload_mb * 1024 * 1024)
    data = await file.read(limit + 1)
    name = file.filename or "upload"
    if len(data) > limit:
        raise HTTPException(
            413, f"{name}: upload is over the {rt.settings.max_upload_mb:g} MB limit"
        )
    s = rt.settings
    try:
        await run_in_threadpool(
            read_document, name, data, max_mb=s.max_file_mb, min_page_chars=s.min_page_chars
        )
    except NeedsOcrError as exc:
        raise HTTPException(422, str(exc)) from exc
    except DocumentError as exc:
        code = 415 if exc.reason.startswith("unsupported file type") else 422
        raise HTTPException(code, str(exc)) from exc
    return jobs.submit(name, data)


@router.get("")
async def list_documents(rt: RuntimeDep) -> list[dict[str, Any]]:
    return await run_in_threadpool(rt.store.list_documents)


@router.get("/jobs/{job_id}", response_model=IngestJob)
async def job_status(job_id: str, jobs: JobsDep) -> IngestJob:
    if job_id not in jobs.jobs:
        raise HTTPException(404, f"no ingest job {job_id}")
    return jobs.jobs[job_id]
