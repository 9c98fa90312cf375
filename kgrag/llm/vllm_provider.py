"""The in-process vLLM provider (`llm_provider: vllm`, `pip install kgrag[gpu]`): a LangChain
chat model on one `vllm.LLM` for offline batch extraction on a GPU box.

Requests that arrive together (extraction runs `llm_parallel` chunks at once) go to the engine
as one `LLM.chat` call: whoever takes the engine sends every request waiting at that moment,
and the others find theirs answered (group commit; no timers). vLLM schedules that batch on
the GPU. `vllm` is imported when the model is built and the engine loads on the first call;
a CPU install never imports it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, Field, PrivateAttr

from kgrag.llm.openai_compat import response_cache
from kgrag.llm.response_format import json_schema_format
from kgrag.llm.vllm_io import chat_result, conversation, import_vllm, sampling_params
from kgrag.metrics import LLM_METRICS
from kgrag.settings import Settings

VLLM_IN_PROCESS = "in-process vllm"  # Runtime.llm_base_url of `llm_provider: vllm`


@dataclass
class _Pending:
    conversation: list[dict[str, str]]
    params: Any
    done: bool = False
    output: Any = None
    error: BaseException | None = None


class GroupBatcher:
    """Serialises calls to one engine and sends every request queued meanwhile in one batch."""

    def __init__(self, run_batch: Callable[[list[list[dict[str, str]]], list[Any]], list[Any]]):
        self._run_batch = run_batch
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._engine_lock = threading.Lock()

    def submit(self, messages: list[dict[str, str]], params: Any) -> Any:
        """The engine's output for one request (run in whichever batch picked it up)."""
        pending = _Pending(messages, params)
        with self._queue_lock:
            self._queue.append(pending)
        with self._engine_lock:
            if not pending.done:  # nobody took it yet: run it with everything waiting
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._run(batch)
        if pending.error is not None:
            raise pending.error
        return pending.output

    def _run(self, batch: list[_Pending]) -> None:
        try:
            outputs = self._run_batch([p.conversation for p in batch], [p.params for p in batch])
            if len(outputs) != len(batch):
                raise RuntimeError(f"vLLM returned {len(outputs)} outputs for {len(batch)}")
        except Exception as exc:  # every request of the batch fails with the engine's error
            for p in batch:
                p.error, p.done = exc, True
            return
        for p, output in zip(batch, outputs, strict=True):
            p.output, p.done = output, True


class VLLMChatModel(BaseChatModel):
    """Chat model on an in-process `vllm.LLM`; honours `response_format` (json_schema,
    json_object) with vLLM structured outputs, and reports token usage like an OpenAI server."""

    model: str
    max_tokens: int
    temperature: float = 0.0
    engine_args: dict[str, Any] = Field(default_factory=dict)
    _vllm: ModuleType = PrivateAttr()
    _engine: Any = PrivateAttr(default=None)
    _batcher: GroupBatcher = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        self._vllm = import_vllm()  # ConfigError without vllm, before any work starts
        self._batcher = GroupBatcher(self._chat)

    @property
    def _llm_type(self) -> str:
        return "vllm-in-process"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "max_tokens": self.max_tokens, "temperature": self.temperature}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        *,
        response_format: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if kwargs:
            raise TypeError(f"the vllm provider does not take {sorted(kwargs)}")
        params = sampling_params(
            self._vllm,
            response_format=response_format,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            stop=stop,
        )
        return chat_result(self.model, self._batcher.submit(conversation(messages), params))

    def _chat(self, conversations: list[list[dict[str, str]]], params: list[Any]) -> list[Any]:
        """One `LLM.chat` call for a batch (the engine loads on the first one)."""
        if self._engine is None:
            self._engine = self._vllm.LLM(model=self.model, **self.engine_args)
        return list(self._engine.chat(conversations, params, use_tqdm=False))

    def with_structured_output(
        self, schema: Any, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable:
        """JSON-schema constrained decoding into a pydantic model. A reply that does not
        validate raises pydantic's ValidationError, with `include_raw` too (never a silent
        `parsed: None`), so extraction re-asks and repairs it."""
        if kwargs or not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            raise TypeError("the vllm provider structures output into pydantic models only")

        def parse(message: AIMessage) -> Any:
            parsed = schema.model_validate_json(str(message.content))
            if include_raw:
                return {"raw": message, "parsed": parsed, "parsing_error": None}
            return parsed

        return self.bind(response_format=json_schema_format(schema)) | RunnableLambda(parse)


def make_vllm_chat_model(settings: Settings) -> VLLMChatModel:
    """The in-process model from settings: `llm_model` is the Hugging Face id or path;
    `llm_context` the engine's max_model_len unless `llm_vllm_args` says otherwise."""
    return VLLMChatModel(
        model=settings.llm_model,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        engine_args={"max_model_len": settings.llm_context, **settings.llm_vllm_args},
        cache=response_cache(settings.data_dir) if settings.llm_cache else False,
        callbacks=[LLM_METRICS],
    )
