"""FastAPI dependencies: the Runtime and the ingest job queue owned by the app's lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kgrag.api.jobs import IngestJobs
from kgrag.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_jobs(request: Request) -> IngestJobs:
    return request.app.state.jobs


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
JobsDep = Annotated[IngestJobs, Depends(get_jobs)]
