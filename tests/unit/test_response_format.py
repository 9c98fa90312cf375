"""Structured output fallback: a server that refuses json_schema gets json_object, then none."""

from __future__ import annotations

import json
import logging

import openai
import pytest
from pydantic import BaseModel

from kgrag.errors import LLMOutputError
from kgrag.llm.response_format import RESPONSE_FORMATS, ResponseFormats
from kgrag.llm.structured import invoke_structured
from kgrag.prompts import Prompts
from kgrag.settings import REPO_ROOT
from tests.unit.fake_openai import Reply, ScriptedOpenAI

PROMPTS = Prompts.load(REPO_ROOT / "prompts")
ADA = '{"name": "Ada", "age": 36}'
NO_JSON_SCHEMA = Reply(status=400, error="response_format type 'json_schema' is not supported")
NO_JSON_OBJECT = Reply(status=400, error="'json_object' is not one of ['text']: response_format")


class Person(BaseModel):
    name: str
    age: int


def _configured(replies: list, start: str = "json_schema") -> ScriptedOpenAI:
    llm = ScriptedOpenAI(replies)
    RESPONSE_FORMATS.configure(llm.base_url, start, PROMPTS)  # what make_chat_model does
    return llm


def _last_text(request: dict) -> str:
    return request["messages"][-1]["content"]


def test_refused_json_schema_is_asked_again_as_json_object_and_remembered(caplog):
    llm = _configured([NO_JSON_SCHEMA, ADA, ADA])
    model = llm.chat_model()
    with caplog.at_level(logging.WARNING, logger="kgrag.llm.response_format"):
        first = invoke_structured(model, "who?", Person)
        second = invoke_structured(model, "who else?", Person)
    assert first.value == second.value == Person(name="Ada", age=36) and not first.repaired
    formats = [r.get("response_format", {}).get("type") for r in llm.requests]
    assert formats == ["json_schema", "json_object", "json_object"]
    assert _last_text(llm.requests[0]) == "who?"
    assert _last_text(llm.requests[1]).startswith("who?\n\nReply with one JSON object")
    assert '"age"' in _last_text(llm.requests[1])  # the schema itself is spelled out
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert llm.base_url in warnings[0] and "using json_object" in warnings[0]


def test_a_server_that_refuses_json_object_too_gets_no_response_format():
    llm = _configured([NO_JSON_SCHEMA, NO_JSON_OBJECT, ADA])
    result = invoke_structured(
        llm.chat_model(), [("system", "Be brief."), ("user", "who?")], Person
    )
    assert result.value.name == "Ada"
    assert "response_format" not in llm.requests[2]
    assert "JSON schema" in _last_text(llm.requests[2])
    assert RESPONSE_FORMATS.current(llm.base_url) == "none"


def test_pinned_json_object_never_sends_json_schema():
    llm = _configured([ADA], start="json_object")
    assert invoke_structured(llm.chat_model(), "who?", Person).value.age == 36
    assert llm.requests[0]["response_format"] == {"type": "json_object"}
    assert "json_schema" not in json.dumps(llm.requests[0]["response_format"])


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=400, error="This model's maximum context length is 8192 tokens"),
        Reply(status=401, error="response_format: invalid API key"),  # not a 400/422
    ],
)
def test_other_refusals_are_not_retried(reply):
    llm = _configured([reply, ADA])
    with pytest.raises(LLMOutputError, match=f"HTTP {reply.status}"):
        invoke_structured(llm.chat_model(), "who?", Person)
    assert len(llm.requests) == 1
    assert RESPONSE_FORMATS.current(llm.base_url) == "json_schema"


def test_concurrent_refusals_step_down_once(caplog):
    formats = ResponseFormats()
    formats.configure("http://x/v1", "json_schema", PROMPTS)
    error = _api_error(NO_JSON_SCHEMA)
    with caplog.at_level(logging.WARNING, logger="kgrag.llm.response_format"):
        assert formats.step_down("http://x/v1", "json_schema", error) == "json_object"
        assert formats.step_down("http://x/v1", "json_schema", error) == "json_object"
    assert len(caplog.records) == 1
    formats.configure("http://x/v1", "json_schema", PROMPTS)  # the same setting: remembered
    assert formats.current("http://x/v1") == "json_object"
    formats.configure("http://x/v1", "none", PROMPTS)  # another setting: start there
    assert formats.current("http://x/v1") == "none"


def _api_error(reply: Reply) -> openai.APIStatusError:
    """The openai exception a scripted reply raises."""
    with pytest.raises(openai.APIStatusError) as err:
        ScriptedOpenAI([reply]).chat_model().invoke("x")
    return err.value
