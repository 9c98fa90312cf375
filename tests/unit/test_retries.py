"""Retries are the openai client's (llm_max_retries): connection errors, timeouts, 408/409/429
and 5xx are retried with exponential backoff, or after the server's Retry-After; other 4xx are
final. The scripted 429/5xx replies ask for a 1 ms Retry-After to keep the tests fast; the
timeout case waits the client's own backoff (about half a second)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from kgrag.errors import LLMOutputError, ServiceUnavailableError
from kgrag.llm.openai_compat import make_chat_model
from kgrag.llm.structured import invoke_structured
from kgrag.settings import Settings
from tests.unit.fake_openai import Reply, ScriptedOpenAI

ADA = '{"name": "Ada", "age": 36}'
SOON = {"retry-after-ms": "1"}


class Person(BaseModel):
    name: str
    age: int


@pytest.mark.parametrize(
    "failures",
    [
        [Reply(status=503, error="overloaded", headers=SOON)] * 2,
        [Reply(status=429, error="rate limited", headers=SOON)] * 2,
        [Reply(status=500, error="boom", headers=SOON), Reply(timeout=True)],
    ],
    ids=["503-503", "429-429", "500-timeout"],
)
def test_transient_failures_are_retried_until_an_answer(failures):
    llm = ScriptedOpenAI([*failures, ADA])
    result = invoke_structured(llm.chat_model(max_retries=2), "who?", Person)
    assert result.value == Person(name="Ada", age=36)
    assert len(llm.requests) == 3


def test_exhausted_retries_report_the_llm_unavailable():
    llm = ScriptedOpenAI([Reply(status=503, error="overloaded", headers=SOON)] * 3)
    with pytest.raises(ServiceUnavailableError, match="HTTP 503"):
        invoke_structured(llm.chat_model(max_retries=2), "who?", Person)
    assert len(llm.requests) == 3


def test_a_bad_request_is_not_retried():
    llm = ScriptedOpenAI([Reply(status=400, error="messages: field required"), ADA])
    with pytest.raises(LLMOutputError, match="HTTP 400"):
        invoke_structured(llm.chat_model(max_retries=2), "who?", Person)
    assert len(llm.requests) == 1


def test_the_setting_reaches_the_client(tmp_path):
    settings = Settings(data_dir=tmp_path, llm_max_retries=5)
    assert make_chat_model(settings, "http://llm.test/v1", cache=False).max_retries == 5
