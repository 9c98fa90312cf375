"""FastAPI dependencies: the Runtime and the ingest job queue owned by the app's lifespan."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from kgrag.api.jobs import IngestJobs
from kgrag.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_jobs(request: Request) -> IngestJobs:
    return request.app.state.jobs


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
JobsDep = Annotated[IngestJobs, Depends(get_jobs)]


_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _matches(given: str, key: SecretStr) -> bool:
    return secrets.compare_digest(given.encode(), key.get_secret_value().encode())


def _unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "missing or wrong API key (Authorization: Bearer <key>)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def require_api_key(request: Request, credentials: Credentials) -> None:
    """401 unless the request carries a configured key, read-only or not (none set: open)."""
    s = request.app.state.runtime.settings
    keys = [k for k in (s.api_key, *s.api_read_keys) if k is not None]
    if not keys:
        return
    given = credentials.credentials if credentials else ""
    if not any([_matches(given, k) for k in keys]):  # a list: compare with every key
        raise _unauthorized()


def require_write_key(request: Request, credentials: Credentials) -> None:
    """For routes that change data: 403 for a read-only key (none set: open)."""
    s = request.app.state.runtime.settings
    if s.api_key is None and not s.api_read_keys:
        return
    given = credentials.credentials if credentials else ""
    if s.api_key is not None and _matches(given, s.api_key):
        return
    require_api_key(request, credentials)  # 401 for no/unknown key
    raise HTTPException(status.HTTP_403_FORBIDDEN, "this API key may not change data")
