"""Documents: upload (validated now, ingested in the background), list, show, delete, and
job status. Upload and delete need a key that may change data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from kgrag.api.deps import JobsDep, RuntimeDep, require_write_key
from kgrag.api.jobs import IngestJob
from kgrag.errors import DocumentError, NeedsOcrError
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.ingest.read import read_document

router = APIRouter(prefix="/documents", tags=["documents"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestJob,
    dependencies=[Depends(require_write_key)],
)
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


@router.get("/{document_id}")
async def show_document(document_id: str, rt: RuntimeDep) -> dict[str, Any]:
    """Pages (with their chunk counts), chunks, and the entities it mentions."""
    found = await run_in_threadpool(rt.store.document, document_id)
    if found is None:
        raise HTTPException(404, f"no document {document_id}")
    return found


@router.delete("/{document_id}", dependencies=[Depends(require_write_key)])
async def delete_document(document_id: str, rt: RuntimeDep) -> dict[str, Any]:
    """Remove the document, its chunks, its provenance on relationships, and the entities and
    relationships no other document supports; the vector indexes follow."""
    found = await run_in_threadpool(rt.store.document, document_id)
    if found is None:
        raise HTTPException(404, f"no document {document_id}")

    def remove() -> None:
        with rt.lock:
            IngestPipeline(rt).remove_documents([document_id])

    await run_in_threadpool(remove)
    return {"deleted": document_id, "title": found["title"], "chunks": found["chunks"]}


@router.get("/jobs/{job_id}", response_model=IngestJob)
async def job_status(job_id: str, jobs: JobsDep) -> IngestJob:
    if job_id not in jobs.jobs:
        raise HTTPException(404, f"no ingest job {job_id}")
    return jobs.jobs[job_id]
