"""Which OpenAI `response_format` each LLM endpoint gets, and the step down when one is refused.

kgrag asks for `json_schema` (vLLM guided decoding, llama-server grammars). A server that only
knows `json_object`, or no response_format at all, answers HTTP 400/422 naming it; the call is
then repeated one step down (json_schema → json_object → none) with the JSON schema spelled out
in the prompt, and that endpoint keeps the lower format for the rest of the process (logged
once). `llm_response_format` sets where an endpoint starts.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import openai
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage, HumanMessage, convert_to_messages
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable
from pydantic import BaseModel

from kgrag.prompts import Prompts
from kgrag.settings import ResponseFormat

log = logging.getLogger(__name__)

STEPS: tuple[ResponseFormat, ...] = ("json_schema", "json_object", "none")
REFUSAL_STATUS = (400, 422)
REFUSAL_WORDS = ("response_format", "json_schema", "json_object")


def json_schema_format(schema: type[BaseModel]) -> dict[str, Any]:
    """The OpenAI `response_format` for a pydantic model (non-strict: llama.cpp and vLLM)."""
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
    }


def endpoint_of(chat_model: Any) -> str:
    """The base URL of a chat model (what formats are remembered by)."""
    return str(getattr(chat_model, "openai_api_base", None) or "LLM endpoint")


def refuses_response_format(error: BaseException) -> bool:
    """An HTTP 400/422 whose message names the response_format (not any other bad request)."""
    if not isinstance(error, openai.APIStatusError) or error.status_code not in REFUSAL_STATUS:
        return False
    text = f"{error.message} {error.body}".lower()
    return any(word in text for word in REFUSAL_WORDS)


@dataclass
class _Endpoint:
    configured: ResponseFormat
    current: ResponseFormat
    prompts: Prompts


class ResponseFormats:
    """Per base URL: the configured format, the one in use, and the prompts that spell out a
    schema. Thread-safe: extraction calls the same endpoint from several threads."""

    def __init__(self) -> None:
        self._endpoints: dict[str, _Endpoint] = {}
        self._lock = threading.Lock()

    def configure(self, base_url: str, configured: ResponseFormat, prompts: Prompts) -> None:
        """Start `base_url` at `configured`; configuring the same format again keeps a step down."""
        with self._lock:
            known = self._endpoints.get(base_url)
            if known is not None and known.configured == configured:
                known.prompts = prompts
            else:
                self._endpoints[base_url] = _Endpoint(configured, configured, prompts)

    def current(self, base_url: str) -> ResponseFormat:
        with self._lock:
            known = self._endpoints.get(base_url)
            return known.current if known else "json_schema"

    def step_down(
        self, base_url: str, refused: ResponseFormat, error: BaseException
    ) -> ResponseFormat | None:
        """The format to ask again with after `error` answered a request in `refused`; None when
        the error is not about the response_format, nothing is lower, or kgrag did not configure
        this endpoint (no prompts to spell the schema out with)."""
        if not refuses_response_format(error):
            return None
        with self._lock:
            known = self._endpoints.get(base_url)
            if known is None:
                return None
            if STEPS.index(known.current) > STEPS.index(refused):  # another call stepped down
                return known.current
            if refused == STEPS[-1]:
                return None
            known.current = lower = STEPS[STEPS.index(refused) + 1]
        log.warning(
            "LLM server %s refused response_format %s (%s); using %s with the JSON schema in the "
            "prompt from now on (set llm_response_format=%s to skip the first try)",
            base_url,
            refused,
            getattr(error, "message", error),
            lower,
            lower,
        )
        return lower

    def request(
        self,
        base_url: str,
        fmt: ResponseFormat,
        chat_model: BaseChatModel,
        messages: LanguageModelInput,
        schema: type[BaseModel],
    ) -> tuple[Runnable, LanguageModelInput]:
        """The model bound to `fmt` and the messages to send it (plus the schema when the server
        does not enforce it)."""
        if fmt == "json_schema":
            return chat_model.bind(response_format=json_schema_format(schema)), messages
        with self._lock:
            prompts = self._endpoints[base_url].prompts
        schema_json = json.dumps(schema.model_json_schema(), ensure_ascii=False)
        prompt = _append(messages, prompts.render("json_schema_instruction", schema=schema_json))
        if fmt == "json_object":
            return chat_model.bind(response_format={"type": "json_object"}), prompt
        return chat_model, prompt


def _append(messages: LanguageModelInput, instruction: str) -> list[BaseMessage]:
    """The messages with `instruction` added to the last user message (or as a new one)."""
    if isinstance(messages, PromptValue):
        listed = messages.to_messages()
    elif isinstance(messages, str):
        listed = [HumanMessage(messages)]
    else:
        listed = convert_to_messages(messages)
    last = listed[-1] if listed else None
    if isinstance(last, HumanMessage) and isinstance(last.content, str):
        return [*listed[:-1], HumanMessage(f"{last.content}\n\n{instruction}")]
    return [*listed, HumanMessage(instruction)]


RESPONSE_FORMATS = ResponseFormats()
