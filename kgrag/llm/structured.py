"""Structured output: request a JSON schema, repair what comes back, fail with a readable error.

The request is OpenAI `response_format: json_schema` (vLLM guided decoding; llama-server turns
it into a grammar), or a lower format for servers that refuse it (see response_format.py).
Small models still return prose, fences or truncated JSON at times, so the raw text is repaired
with json_repair and validated with pydantic before giving up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import json_repair
import openai
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, ValidationError

from kgrag.errors import KgragError, LLMOutputError, ServiceUnavailableError, redact
from kgrag.llm.response_format import RESPONSE_FORMATS, endpoint_of

T = TypeVar("T", bound=BaseModel)

EXCERPT_CHARS = 300
MAX_TRUNCATION_CUTS = 20


@dataclass(frozen=True)
class StructuredResult(Generic[T]):
    """A validated value, whether it needed repair, and the raw model text."""

    value: T
    repaired: bool
    raw: str
    truncated: bool = False  # finish_reason == "length" but the repaired prefix validated


def invoke_structured(
    chat_model: BaseChatModel,
    messages: LanguageModelInput,
    schema: type[T],
    *,
    config: RunnableConfig | None = None,
    on_cut: Callable[[str], T] | None = None,
) -> StructuredResult[T]:
    """Ask for `schema` as JSON; validate, else repair and validate, else raise LLMOutputError.

    Connection failures and 5xx raise ServiceUnavailableError("LLM", ...). `config` reaches the
    model call (callbacks such as per-document token accounting). `on_cut` builds the value from
    an output cut at max_tokens instead of the repair (which completes a cut string).
    """
    raw, finish_reason = _call(chat_model, messages, schema, config)
    if finish_reason == "length" and on_cut is not None:
        return StructuredResult(on_cut(raw), repaired=False, raw=raw, truncated=True)
    try:
        return StructuredResult(schema.model_validate_json(raw), repaired=False, raw=raw)
    except ValidationError:
        pass
    truncated = finish_reason == "length"
    value, problem = _repair(raw, schema, truncated)
    if value is not None:
        return StructuredResult(value, repaired=True, raw=raw, truncated=truncated)
    reasons = [problem]
    if truncated:
        reasons.insert(0, "output truncated at max_tokens (finish_reason=length)")
    period = repeated_tail(raw)
    if period:
        reasons.insert(0, f"runaway repetition (a {period}-char pattern repeats at the end)")
    raise LLMOutputError(
        f"LLM output is not a valid {schema.__name__}: {'; '.join(reasons)}. "
        f"Raw output ({len(raw)} chars): {excerpt(raw)}"
    )


def _call(
    chat_model: BaseChatModel,
    messages: LanguageModelInput,
    schema: type[BaseModel],
    config: RunnableConfig | None,
) -> tuple[str, str | None]:
    """Invoke in the endpoint's response format, one step lower after a refusal of it; return
    (raw text, finish_reason)."""
    endpoint = endpoint_of(chat_model)
    fmt = RESPONSE_FORMATS.current(endpoint)
    while True:
        model, prompt = RESPONSE_FORMATS.request(endpoint, fmt, chat_model, messages, schema)
        try:
            msg = model.invoke(prompt, config=config)
        except openai.LengthFinishReasonError as exc:  # the openai client refuses truncated output
            choice = exc.completion.choices[0]
            return choice.message.content or "", "length"
        except openai.APIStatusError as exc:
            lower = RESPONSE_FORMATS.step_down(endpoint, fmt, exc)
            if lower is None:
                raise llm_error(chat_model, exc) from exc
            fmt = lower
            continue
        except (openai.APIConnectionError, httpx.HTTPError) as exc:
            raise llm_error(chat_model, exc) from exc
        return _text(msg), _finish_reason(msg)


def llm_error(chat_model: Any, exc: Exception) -> KgragError:
    """The kgrag error for a failed LLM request: unreachable or 5xx → ServiceUnavailableError,
    any other refusal → LLMOutputError."""
    endpoint = endpoint_of(chat_model)
    key = getattr(chat_model, "openai_api_key", None)
    secret = key.get_secret_value() if key is not None else None
    if not isinstance(exc, openai.APIStatusError):
        return ServiceUnavailableError("LLM", f"{endpoint}: {redact(_reason(exc), secret)}")
    detail = f"{endpoint}: HTTP {exc.status_code}: {excerpt(redact(str(exc.message), secret))}"
    if exc.status_code >= 500:
        return ServiceUnavailableError("LLM", detail)
    return LLMOutputError(f"LLM rejected the request: {detail}")


def _repair(raw: str, schema: type[T], truncated: bool) -> tuple[T | None, str]:
    """json_repair the text and validate it; for truncated text also try shorter prefixes."""
    if not raw.strip():
        return None, "empty output"
    value, problem = _repair_once(raw, schema)
    if value is not None or not truncated:
        return value, problem
    # drop the unfinished tail: cut after one of the last closing braces/brackets and retry
    cuts = [i + 1 for i, ch in enumerate(raw) if ch in "}]"][::-1][:MAX_TRUNCATION_CUTS]
    for cut in cuts:
        shorter, _ = _repair_once(raw[:cut], schema)
        if shorter is not None:
            return shorter, ""
    return None, problem


def _repair_once(raw: str, schema: type[T]) -> tuple[T | None, str]:
    """json_repair (which also drops surrounding prose) and pydantic validation."""
    try:
        data = json_repair.loads(_strip_fences(raw))
    except Exception as exc:  # json_repair is lenient; guard against its rare crashes
        return None, f"unrepairable JSON ({type(exc).__name__})"
    if data is None or data == "":
        return None, "no JSON found"
    candidates = [data]
    if isinstance(data, list):  # prose around several JSON blobs: try each object
        candidates += [d for d in data if isinstance(d, dict)]
    error: ValidationError | None = None
    for cand in candidates:
        try:
            return schema.model_validate(cand), ""
        except ValidationError as exc:
            error = error or exc
    return None, f"schema validation failed: {_short_validation(error)}"


def _strip_fences(raw: str) -> str:
    """Keep the inside of the first ``` fence when there is one."""
    start = raw.find("```")
    if start < 0:
        return raw
    body = raw[start + 3 :]
    newline = body.find("\n")
    if newline >= 0 and body[:newline].strip().isalpha():  # ```json
        body = body[newline + 1 :]
    end = body.find("```")
    return body if end < 0 else body[:end]


def repeated_tail(text: str, min_repeats: int = 4, max_period: int = 200) -> int:
    """Length of a pattern repeated at least `min_repeats` times at the end of text, else 0."""
    stripped = text.rstrip()
    for period in range(4, max_period + 1):
        span = period * min_repeats
        if span > len(stripped):
            break
        tail = stripped[-span:]
        unit = tail[-period:]
        if tail == unit * min_repeats and len(set(unit.strip())) > 1:
            return period
    return 0


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """First and last characters of a long text, as one line."""
    flat = json.dumps(text, ensure_ascii=False)[1:-1]
    if len(flat) <= limit:
        return flat
    half = limit // 2
    return f"{flat[:half]} … {flat[-half:]}"


def _text(msg: Any) -> str:
    if isinstance(msg, AIMessage):
        content = msg.content
        if isinstance(content, list):  # content blocks
            return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content)
        return str(content)
    return str(msg)


def _finish_reason(msg: Any) -> str | None:
    meta = getattr(msg, "response_metadata", None) or {}
    return meta.get("finish_reason")


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    text = f"{type(exc).__name__}: {exc}"
    if cause is not None and str(cause) and str(cause) not in text:
        text += f" ({type(cause).__name__}: {cause})"
    return text


def _short_validation(error: ValidationError | None) -> str:
    if error is None:
        return "unknown"
    parts = [f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in error.errors()[:3]]
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")
