"""Chat models for any OpenAI-compatible server: vLLM in production, the local llama-server here."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any

import httpx
from langchain_openai import ChatOpenAI

from kgrag.errors import ServiceUnavailableError, redact
from kgrag.llm.response_format import RESPONSE_FORMATS
from kgrag.metrics import LLM_METRICS
from kgrag.prompts import Prompts
from kgrag.settings import Settings

CACHE_FILENAME = "llm-cache.sqlite"

_caches: dict[Path, Any] = {}
_caches_lock = threading.Lock()


def response_cache(data_dir: Path) -> Any:
    """One SQLiteCache per project data dir (shared by all chat models of this process)."""
    path = (data_dir / CACHE_FILENAME).resolve()
    with _caches_lock:
        if path not in _caches:
            with warnings.catch_warnings():  # langchain-community warns that it is being sunset
                warnings.simplefilter("ignore", DeprecationWarning)
                from langchain_community.cache import SQLiteCache

            path.parent.mkdir(parents=True, exist_ok=True)
            _caches[path] = SQLiteCache(database_path=str(path))
        return _caches[path]


def make_chat_model(
    settings: Settings,
    base_url: str,
    *,
    prompts: Prompts | None = None,
    max_tokens: int | None = None,
    json_mode: bool = False,
    temperature: float | None = None,
    cache: bool | None = None,
    http_client: httpx.Client | None = None,
) -> ChatOpenAI:
    """A ChatOpenAI on `base_url` (ending in /v1) with kgrag's model, limits and response cache.

    `json_mode` asks for `response_format: json_object`; for a schema use
    `kgrag.llm.structured.invoke_structured`, which starts at `settings.llm_response_format`
    and, below json_schema, spells the schema out with `prompts` (default: loaded from
    `settings.prompts_dir`). `cache` overrides `settings.llm_cache`; `http_client` replaces the
    openai client's transport (benchmarks record raw responses with its event hooks).
    """
    if prompts is None:
        prompts = Prompts.load(settings.prompts_dir)
    RESPONSE_FORMATS.configure(base_url, settings.llm_response_format, prompts)
    use_cache = settings.llm_cache if cache is None else cache
    model_kwargs: dict[str, Any] = {}
    if json_mode:
        model_kwargs["response_format"] = {"type": "json_object"}
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=base_url,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        temperature=settings.llm_temperature if temperature is None else temperature,
        max_tokens=max_tokens or settings.llm_max_tokens,
        model_kwargs=model_kwargs,
        use_responses_api=False,
        cache=response_cache(settings.data_dir) if use_cache else False,
        callbacks=[LLM_METRICS],
        http_client=http_client,
    )


def check_llm(base_url: str, timeout: float = 5.0, api_key: str | None = None) -> None:
    """Raise ServiceUnavailableError("LLM", "<url>: <reason>") unless GET <url>/models answers."""
    url = base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        resp = httpx.get(url, timeout=timeout, headers=headers)
    except httpx.HTTPError as exc:
        reason = redact(f"{type(exc).__name__}: {exc}", api_key)
        raise ServiceUnavailableError("LLM", f"{base_url}: {reason}") from exc
    if resp.status_code != 200:
        body = redact(resp.text, api_key)[:200]
        raise ServiceUnavailableError(
            "LLM", f"{base_url}: GET /models returned HTTP {resp.status_code}: {body}"
        )
