"""API keys and graph passwords never appear in settings output, error messages, error bodies
or logs (captured at DEBUG from every logger)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient
from langchain_core.messages import HumanMessage
from langchain_openai import ChatOpenAI

from kgrag.answer import Verdict
from kgrag.api.app import create_app
from kgrag.errors import KgragError
from kgrag.llm.openai_compat import check_llm
from kgrag.llm.structured import invoke_structured
from kgrag.settings import Settings
from kgrag.store.neo4j_store import open_graph_store
from tests.unit.fake_openai import Reply, ScriptedOpenAI

SECRETS = {
    "KGRAG_LLM_API_KEY": "sk-llm-7f3a9c1e",
    "KGRAG_GRAPH_PASSWORD": "graph-pw-51d0b2",
    "KGRAG_GRAPH_READ_PASSWORD": "reader-pw-c9e4aa",
    "KGRAG_API_KEY": "api-write-0b8e6d",
    "KGRAG_API_READ_KEYS": '["api-read-2f61c7"]',
}
VALUES = ["sk-llm-7f3a9c1e", "graph-pw-51d0b2", "reader-pw-c9e4aa", "api-write-0b8e6d"]
VALUES.append("api-read-2f61c7")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Settings:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return Settings(
        data_dir=tmp_path,
        graph_uri=f"bolt://127.0.0.1:{_closed_port()}",
        graph_read_user="reader",
        llm_base_url=f"http://127.0.0.1:{_closed_port()}/v1",
    )


@pytest.fixture(autouse=True)
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    text = "\n".join(
        r.getMessage() + (caplog.handler.format(r) if r.exc_info else "") for r in caplog.records
    )
    assert not [v for v in VALUES if v in text], "a secret was logged"


def _clean(text: str) -> None:
    leaked = [v for v in VALUES if v in text]
    assert not leaked, f"secrets {leaked} in: {text}"


def test_settings_never_print_their_secrets(settings: Settings):
    for value in VALUES:  # they are loaded, and usable
        assert value in {
            settings.llm_api_key.get_secret_value(),
            settings.graph_password.get_secret_value(),  # type: ignore[union-attr]
            settings.graph_read_password.get_secret_value(),  # type: ignore[union-attr]
            settings.api_key.get_secret_value(),  # type: ignore[union-attr]
            *(k.get_secret_value() for k in settings.api_read_keys),
        }
    for text in (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        str(settings.model_dump()),
    ):
        _clean(text)


def test_graph_store_errors_name_the_server_not_the_password(settings: Settings):
    with pytest.raises(KgragError) as caught:
        with open_graph_store(settings):
            pass
    assert settings.graph_uri in str(caught.value)
    _clean(str(caught.value))


class EchoAuth(BaseHTTPRequestHandler):
    """A server that refuses every request and echoes the Authorization header back."""

    def do_GET(self) -> None:  # noqa: N802
        body = f"bad key: {self.headers.get('Authorization')}".encode()
        self.send_response(401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_an_llm_server_echoing_the_key_does_not_put_it_in_our_error(settings: Settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoAuth)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        with pytest.raises(KgragError) as caught:
            check_llm(url, api_key=settings.llm_api_key.get_secret_value())
    finally:
        server.shutdown()
    assert "HTTP 401" in str(caught.value)
    _clean(str(caught.value))


def test_api_error_bodies_do_not_echo_keys(settings: Settings):
    app = create_app(settings)
    app.state.runtime = SimpleNamespace(settings=settings)  # no lifespan: auth needs settings only
    client = TestClient(app)
    for headers in (
        {},
        {"Authorization": "Bearer api-write-0b8e6d-wrong"},
        {"Authorization": "Bearer api-read-2f61c7"},  # read key on a write route: 403
    ):
        reply = client.delete("/documents/x", headers=headers)
        assert reply.status_code in (401, 403)
        _clean(reply.text + str(reply.headers))


@pytest.mark.parametrize("status", [401, 503])
def test_llm_request_errors_echoing_the_key_are_redacted(settings: Settings, status: int):
    key = settings.llm_api_key.get_secret_value()
    fake = ScriptedOpenAI([Reply(status=status, error=f"Incorrect API key provided: {key}")])
    model = ChatOpenAI(
        model="m",
        base_url=fake.base_url,
        api_key=settings.llm_api_key,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(fake.handler)),
    )
    with pytest.raises(KgragError) as caught:
        invoke_structured(model, [HumanMessage("hi")], Verdict)
    assert f"HTTP {status}" in str(caught.value) and "Incorrect API key provided: ***" in str(
        caught.value
    )
    _clean(str(caught.value))
