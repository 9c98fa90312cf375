"""GET /health: graph store, LLM and vector indexes, each reported; 503 when one is down."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from kgrag.api.deps import RuntimeDep
from kgrag.errors import KgragError
from kgrag.llm.openai_compat import check_llm

router = APIRouter(tags=["health"])


def _probe(rt: Any) -> dict[str, Any]:
    report: dict[str, Any] = {}
    try:
        rt.store.ping()
        report["graph"] = {"ok": True, "counts": rt.store.counts()}
    except KgragError as exc:
        report["graph"] = {"ok": False, "error": str(exc)}
    try:
        check_llm(rt.llm_base_url, timeout=5.0, api_key=rt.settings.llm_api_key.get_secret_value())
        report["llm"] = {"ok": True, "base_url": rt.llm_base_url, "model": rt.settings.llm_model}
    except KgragError as exc:
        report["llm"] = {"ok": False, "error": str(exc)}
    try:
        report["indexes"] = {
            "ok": True,
            "chunks": len(rt.index("chunks")),
            "entities": len(rt.index("entities")),
        }
    except (OSError, KgragError) as exc:
        report["indexes"] = {"ok": False, "error": str(exc)}
    return report


@router.get("/health")
async def health(rt: RuntimeDep) -> JSONResponse:
    report = await run_in_threadpool(_probe, rt)
    ok = all(part["ok"] for part in report.values())
    return JSONResponse(
        {"status": "ok" if ok else "degraded", **report}, status_code=200 if ok else 503
    )
