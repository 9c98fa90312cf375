"""LangChain chat requests to in-process vLLM inputs (`LLM.chat`) and its outputs back.

Structured output follows the vLLM docs: vLLM >= 0.10.2 takes
`SamplingParams(structured_outputs=StructuredOutputsParams(json=schema))` (0.12 removed the
old names); 0.10.0 and 0.10.1 take `SamplingParams(guided_decoding=GuidedDecodingParams(...))`.
Whichever class `vllm.sampling_params` has is used. `vllm` itself is imported only by
`import_vllm`, on first use of the provider.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ChatMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from kgrag.errors import ConfigError

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def import_vllm() -> ModuleType:
    """The `vllm` package, or a ConfigError saying how to install it."""
    try:
        return importlib.import_module("vllm")
    except ImportError as exc:
        raise ConfigError(
            "llm_provider 'vllm' runs the model in this process and needs the vllm package "
            f"({exc}): pip install 'kgrag[gpu]' on a machine with a CUDA GPU, or use "
            "llm_provider 'openai' with llm_base_url pointing at a `vllm serve` server"
        ) from exc


def conversation(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """OpenAI-style chat messages for `LLM.chat` (text only)."""
    converted = []
    for message in messages:
        role = message.role if isinstance(message, ChatMessage) else _ROLES.get(message.type)
        if role is None:
            raise ValueError(f"the vllm provider cannot send a {message.type!r} message")
        converted.append({"role": role, "content": _text(message.content)})
    return converted


def sampling_params(
    vllm: ModuleType,
    *,
    response_format: dict[str, Any] | None,
    max_tokens: int,
    temperature: float,
    stop: list[str] | None,
) -> Any:
    """`vllm.SamplingParams` for one request, constrained as `response_format` asks (OpenAI
    shape: json_schema, json_object, text or None)."""
    return vllm.SamplingParams(
        max_tokens=max_tokens,
        temperature=temperature,
        stop=stop or None,
        **_structured(vllm, response_format),
    )


def _structured(vllm: ModuleType, response_format: dict[str, Any] | None) -> dict[str, Any]:
    if not response_format or response_format.get("type", "text") == "text":
        return {}
    kind = response_format["type"]
    if kind == "json_schema":
        constraint: dict[str, Any] = {"json": response_format["json_schema"]["schema"]}
    elif kind == "json_object":
        constraint = {"json_object": True}
    else:
        raise ValueError(f"response_format type {kind!r} is not supported by the vllm provider")
    params = importlib.import_module(f"{vllm.__name__}.sampling_params")
    if hasattr(params, "StructuredOutputsParams"):  # vLLM >= 0.10.2
        return {"structured_outputs": params.StructuredOutputsParams(**constraint)}
    return {"guided_decoding": params.GuidedDecodingParams(**constraint)}


def chat_result(model: str, output: Any) -> ChatResult:
    """A vLLM `RequestOutput` as a LangChain result, with the token usage vLLM counted."""
    completion = output.outputs[0]
    usage = {
        "prompt_tokens": len(output.prompt_token_ids or []),
        "completion_tokens": len(completion.token_ids),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    meta = {"finish_reason": completion.finish_reason, "model_name": model}
    message = AIMessage(content=completion.text, response_metadata=meta)
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info=meta)],
        llm_output={"token_usage": usage, "model_name": model},
    )


def _text(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            raise ValueError("the vllm provider sends text only")
    return "".join(parts)
