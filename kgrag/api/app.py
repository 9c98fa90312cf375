"""create_app(): the FastAPI app whose lifespan owns the graph store, the LLM and the indexes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kgrag.api import chat, documents, health, openai_chat
from kgrag.api.deps import require_api_key
from kgrag.api.jobs import IngestJobs
from kgrag.errors import ConfigError, KgragError, LLMOutputError, ServiceUnavailableError
from kgrag.metrics import observe_request
from kgrag.runtime import open_runtime
from kgrag.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    if settings.llm_provider == "vllm":
        raise ConfigError(
            "llm_provider 'vllm' (in-process) is for batch ingest; the API talks to a vLLM "
            "server: run `vllm serve <model>` and set llm_provider 'openai' and llm_base_url"
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_runtime(settings, check_llm_now=False) as runtime:
            app.state.runtime = runtime
            app.state.jobs = IngestJobs(runtime)
            try:
                yield
            finally:
                app.state.jobs.shutdown()

    app = FastAPI(title="kgrag", version="0.1.0", lifespan=lifespan)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        """413 before reading a body over the limit (uploads: max_upload_mb + form overhead)."""
        is_upload = request.url.path.startswith("/documents")
        limit = (
            int(settings.max_upload_mb * 1024 * 1024) + 64 * 1024
            if is_upload
            else settings.max_request_kb * 1024
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return JSONResponse(
                {"detail": f"request body of {declared} bytes is over the {limit}-byte limit"},
                status_code=413,
            )
        return await call_next(request)

    @app.middleware("http")
    async def count_requests(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")  # the route template, not the raw URL
        observe_request(request.method, path, response.status_code, time.perf_counter() - start)
        return response

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(require_api_key)])
    def metrics() -> Response:
        """Prometheus metrics (text exposition format)."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    protected = [Depends(require_api_key)]
    app.include_router(chat.router, dependencies=protected)
    app.include_router(openai_chat.router, dependencies=protected)
    app.include_router(documents.router, dependencies=protected)
    app.include_router(health.router)

    @app.exception_handler(KgragError)
    async def kgrag_error(_: Request, exc: KgragError) -> JSONResponse:
        if isinstance(exc, ServiceUnavailableError):
            code = 503
        elif isinstance(exc, LLMOutputError):
            code = 502
        else:
            code = 400
        return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=code)

    return app
