"""FastAPI dependencies: the Runtime and the ingest job queue owned by the app's lifespan."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kgrag.api.jobs import IngestJobs
from kgrag.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_jobs(request: Request) -> IngestJobs:
    return request.app.state.jobs


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
JobsDep = Annotated[IngestJobs, Depends(get_jobs)]


_bearer = HTTPBearer(auto_error=False)


def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 unless the request carries the configured API key (no key configured: open)."""
    expected = request.app.state.runtime.settings.api_key
    if expected is None:
        return
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong API key (Authorization: Bearer <key>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
