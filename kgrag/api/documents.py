"""Documents: upload (validated now, ingested in the background), list, show, delete, and
job status. Upload and delete need a key that may change data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from kgrag.api.deps import JobsDep, RuntimeDep, require_write_key
from kgrag.api.jobs import IngestJob
from kgrag.documents import document_view
from kgrag.errors import DocumentError, NeedsOcrError
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.ingest.read import read_document, read_limits
from kgrag.ocr.base import OcrUnavailableError

router = APIRouter(prefix="/documents", tags=["documents"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestJob,
    dependencies=[Depends(require_write_key)],
)
async def upload(file: UploadFile, rt: RuntimeDep, jobs: JobsDep) -> IngestJob:
    """Check the file at once (type, size, readable text or pages to OCR), then queue it for
    extraction (and OCR, which runs in the job)."""
    limit = int(rt.settings.max_upload_mb * 1024 * 1024)
    data = await file.read(limit + 1)
    name = file.filename or "upload"
    if len(data) > limit:
        raise HTTPException(
            413, f"{name}: upload is over the {rt.settings.max_upload_mb:g} MB limit"
        )
    try:
        await run_in_threadpool(read_document, name, data, **read_limits(rt.settings))
    except NeedsOcrError:
        try:  # built now (once per runtime) so a missing engine is reported at upload
            await run_in_threadpool(lambda: rt.ocr_engine)
        except OcrUnavailableError as exc:
            raise HTTPException(503, f"{name}: {exc}") from exc
    except DocumentError as exc:
        code = 415 if exc.reason.startswith("unsupported file type") else 422
        raise HTTPException(code, str(exc)) from exc
    return jobs.submit(name, data)


@router.get("")
async def list_documents(rt: RuntimeDep) -> list[dict[str, Any]]:
    return await run_in_threadpool(rt.store.list_documents)


@router.get("/{document_id}")
async def show_document(document_id: str, rt: RuntimeDep) -> dict[str, Any]:
    """Pages (chunk counts, OCR engine and confidence, image URL), chunks, the entities it
    mentions, and the OCR'd pages below `ocr_low_confidence`."""
    found = await run_in_threadpool(document_view, rt, document_id)
    if found is None:
        raise HTTPException(404, f"no document {document_id}")
    return found


@router.get("/{document_id}/pages/{number}.png", response_class=FileResponse)
async def page_image(document_id: str, number: int, rt: RuntimeDep) -> FileResponse:
    """The rendered image of one page (PNG, longest side `page_image_max_px`)."""
    path = rt.page_images.path(document_id, number)
    if path is None:
        raise HTTPException(404, f"no image of page {number} of document {document_id}")
    return FileResponse(path, media_type="image/png")


@router.delete("/{document_id}", dependencies=[Depends(require_write_key)])
async def delete_document(document_id: str, rt: RuntimeDep) -> dict[str, Any]:
    """Remove the document, its chunks, its provenance on relationships, and the entities and
    relationships no other document supports; the vector indexes follow."""
    found = await run_in_threadpool(rt.store.document, document_id)
    if found is None:
        raise HTTPException(404, f"no document {document_id}")

    def remove() -> None:
        with rt.lock:
            IngestPipeline(rt).indexes.remove_documents([document_id])

    await run_in_threadpool(remove)
    return {"deleted": document_id, "title": found["title"], "chunks": found["chunks"]}


@router.get("/jobs/{job_id}", response_model=IngestJob)
async def job_status(job_id: str, jobs: JobsDep) -> IngestJob:
    if job_id not in jobs.jobs:
        raise HTTPException(404, f"no ingest job {job_id}")
    return jobs.jobs[job_id]
