"""invoke_structured with scripted models; make_chat_model/check_llm against a stub server."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel

from kgrag.errors import LLMOutputError, ServiceUnavailableError
from kgrag.llm.openai_compat import check_llm, make_chat_model
from kgrag.llm.structured import excerpt, invoke_structured, repeated_tail
from kgrag.settings import Settings


class Person(BaseModel):
    name: str
    age: int


class People(BaseModel):
    people: list[Person]


class ScriptedChat(BaseChatModel):
    """Returns scripted (text, finish_reason) pairs and records the request kwargs."""

    script: list[tuple[str, str]]
    calls: list[dict[str, Any]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):
        self.calls.append(kwargs)
        text, finish = self.script.pop(0)
        msg = AIMessage(content=text, response_metadata={"finish_reason": finish})
        return ChatResult(generations=[ChatGeneration(message=msg)])


def scripted(text: str, finish: str = "stop") -> ScriptedChat:
    return ScriptedChat(script=[(text, finish)], calls=[])


def test_valid_json_is_not_repaired_and_schema_is_requested():
    model = scripted('{"name": "Ada", "age": 36}')
    result = invoke_structured(model, "who?", Person)
    assert result.value == Person(name="Ada", age=36)
    assert not result.repaired and not result.truncated
    fmt = model.calls[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["required"] == ["name", "age"]


@pytest.mark.parametrize(
    "text",
    [
        'Sure! Here is the JSON:\n```json\n{"name": "Ada", "age": 36}\n```\nHope this helps.',
        'The answer is {"name": "Ada", "age": 36} as requested.',
        "{'name': 'Ada', 'age': 36,}",
    ],
)
def test_prose_fences_and_sloppy_json_are_repaired(text):
    result = invoke_structured(scripted(text), "who?", Person)
    assert result.value == Person(name="Ada", age=36)
    assert result.repaired
    assert result.raw == text


def test_truncated_json_is_repaired_and_flagged():
    text = '{"people": [{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}, {"name": "Gr'
    result = invoke_structured(scripted(text, "length"), "who?", People)
    assert result.repaired and result.truncated
    assert [p.name for p in result.value.people][:2] == ["Ada", "Alan"]


def test_garbage_raises_with_excerpt():
    with pytest.raises(LLMOutputError) as err:
        invoke_structured(scripted("I cannot help with that."), "who?", Person)
    assert "Person" in str(err.value) and "I cannot help" in str(err.value)


def test_wrong_shape_names_the_field():
    with pytest.raises(LLMOutputError, match="age"):
        invoke_structured(scripted('{"name": "Ada"}'), "who?", Person)


def test_runaway_repetition_and_truncation_are_reported():
    text = '{"name": "' + "ab cd " * 400
    with pytest.raises(LLMOutputError) as err:
        invoke_structured(scripted(text, "length"), "who?", Person)
    message = str(err.value)
    assert "runaway repetition" in message and "finish_reason=length" in message
    assert len(message) < 800


def test_helpers():
    assert repeated_tail("x" + "the cat " * 10) == 8
    assert repeated_tail('{"a": 1, "b": 2}') == 0
    assert len(excerpt("y" * 5000)) < 320


# -- real ChatOpenAI against a stub OpenAI-compatible server ---------------------------------


class StubOpenAI(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.replies: list[tuple[str, str]] = []
        self.requests: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _StubHandler(BaseHTTPRequestHandler):
    server: StubOpenAI

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send({"object": "list", "data": [{"id": "stub", "object": "model"}]})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(request)
        text, finish = self.server.replies.pop(0)
        self._send(
            {
                "id": "c1",
                "object": "chat.completion",
                "created": 0,
                "model": request["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": finish,
                        "message": {"role": "assistant", "content": text},
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
            }
        )


@pytest.fixture
def stub():
    server = StubOpenAI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", llm_max_retries=0, llm_timeout_s=10)


def test_chat_model_sends_json_schema_and_cache_skips_second_request(stub, settings):
    stub.replies = [('{"name": "Ada", "age": 36}', "stop")]
    model = make_chat_model(settings, stub.base_url, max_tokens=123)
    first = invoke_structured(model, "who?", Person)
    second = invoke_structured(model, "who?", Person)
    assert first.value == second.value == Person(name="Ada", age=36)
    assert len(stub.requests) == 1  # the repeat came from the cache
    request = stub.requests[0]
    assert request["model"] == settings.llm_model and request["max_completion_tokens"] == 123
    assert request["response_format"]["json_schema"]["name"] == "Person"
    assert (settings.data_dir / "llm-cache.sqlite").exists()


def test_pinned_response_format_setting_reaches_the_request(stub, tmp_path):
    stub.replies = [('{"name": "Ada", "age": 36}', "stop")]
    settings = Settings(data_dir=tmp_path, llm_max_retries=0, llm_response_format="json_object")
    model = make_chat_model(settings, stub.base_url, cache=False)
    assert invoke_structured(model, "who?", Person).value.name == "Ada"
    assert stub.requests[0]["response_format"] == {"type": "json_object"}
    assert '"age"' in stub.requests[0]["messages"][-1]["content"]


def test_openai_length_error_is_repaired(stub, settings):
    stub.replies = [('{"people": [{"name": "Ada", "age": 36}, {"na', "length")]
    model = make_chat_model(settings, stub.base_url, cache=False)
    result = invoke_structured(model, "who?", People)
    assert result.truncated and result.repaired
    assert result.value.people[0].name == "Ada"


def test_check_llm_ok(stub):
    check_llm(stub.base_url, timeout=5)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_unreachable_endpoint_is_service_unavailable(settings):
    url = _closed_port_url()
    with pytest.raises(ServiceUnavailableError) as err:
        check_llm(url, timeout=2)
    assert err.value.service == "LLM" and url in str(err.value)
    model = make_chat_model(settings, url, cache=False)
    with pytest.raises(ServiceUnavailableError) as err:
        invoke_structured(model, "who?", Person)
    assert url in str(err.value)
