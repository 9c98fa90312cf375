"""A scripted OpenAI-compatible endpoint on httpx.MockTransport, for parsing/repair tests."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

import httpx
from langchain_core.caches import BaseCache
from langchain_openai import ChatOpenAI

_hosts = itertools.count()


@dataclass
class Reply:
    """One scripted answer: a chat completion with `usage` and `finish_reason`, an HTTP error
    with `error` as its message (`status` >= 400), or a read timeout."""

    content: str = ""
    status: int = 200
    error: str = ""
    usage: tuple[int, int] = (1, 1)  # prompt_tokens, completion_tokens
    headers: dict[str, str] = field(default_factory=dict)
    timeout: bool = False
    finish_reason: str = "stop"  # "length": the output was cut at max_tokens


class ScriptedOpenAI:
    """Answers each chat completion with the next scripted reply (a string is a completion with
    that content); records request bodies. Each instance has its own base URL."""

    def __init__(self, contents: list[str | Reply]) -> None:
        self.contents = list(contents)
        self.requests: list[dict] = []
        self.base_url = f"http://llm-{next(_hosts)}.test/v1"

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        item = self.contents.pop(0)
        reply = Reply(content=item) if isinstance(item, str) else item
        if reply.timeout:
            raise httpx.ReadTimeout("scripted timeout", request=request)
        if reply.status >= 400:
            body = {"error": {"message": reply.error, "type": "invalid_request_error"}}
            return httpx.Response(reply.status, json=body, headers=reply.headers)
        prompt_tokens, completion_tokens = reply.usage
        return httpx.Response(
            200,
            headers=reply.headers,
            json={
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": reply.finish_reason,
                        "message": {"role": "assistant", "content": reply.content},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )

    def chat_model(self, max_retries: int = 0, cache: BaseCache | None = None) -> ChatOpenAI:
        return ChatOpenAI(
            model="m",
            base_url=self.base_url,
            api_key="k",
            max_retries=max_retries,
            cache=cache,
            http_client=httpx.Client(transport=httpx.MockTransport(self.handler)),
        )
