"""A scripted OpenAI-compatible endpoint on httpx.MockTransport, for parsing/repair tests."""

from __future__ import annotations

import json

import httpx
from langchain_openai import ChatOpenAI


class ScriptedOpenAI:
    """Answers each chat completion with the next scripted content; records request bodies."""

    def __init__(self, contents: list[str]) -> None:
        self.contents = list(contents)
        self.requests: list[dict] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        content = self.contents.pop(0)
        return httpx.Response(
            200,
            json={
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )

    def chat_model(self) -> ChatOpenAI:
        return ChatOpenAI(
            model="m",
            base_url="http://llm.test/v1",
            api_key="k",
            max_retries=0,
            http_client=httpx.Client(transport=httpx.MockTransport(self.handler)),
        )
