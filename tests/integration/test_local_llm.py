"""The real local llama-server: lifecycle, attach, json_schema output, response cache."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import BaseModel

from kgrag.errors import ConfigError
from kgrag.llm.local_server import LocalLLMServer
from kgrag.llm.openai_compat import CACHE_FILENAME, check_llm, make_chat_model
from kgrag.llm.structured import invoke_structured
from kgrag.settings import Settings

pytestmark = pytest.mark.integration


class City(BaseModel):
    city: str
    country: str


MESSAGES = [
    ("system", "You extract facts as JSON."),
    ("user", "Text: 'Lyon is a large city in France.' Return the city and its country."),
]


def _metric(base_url: str, name: str) -> float:
    text = httpx.get(base_url.removesuffix("/v1") + "/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def _cache_rows(settings: Settings) -> int:
    with sqlite3.connect(settings.data_dir / CACHE_FILENAME) as db:
        return db.execute("SELECT count(*) FROM full_llm_cache").fetchone()[0]


def test_server_is_up_and_serves_the_alias(llm_server, llm_settings):
    check_llm(llm_server, timeout=10)
    models = httpx.get(llm_server + "/models", timeout=10).json()
    assert llm_settings.llm_model in [m["id"] for m in models["data"]]
    state = json.loads((llm_settings.data_dir / "llm" / "server.json").read_text())
    assert state["port"] == int(llm_server.rsplit(":", 1)[1].split("/")[0])


def test_structured_call_returns_a_valid_object(llm_server, llm_settings):
    model = make_chat_model(llm_settings, llm_server, max_tokens=64, cache=False)
    result = invoke_structured(model, MESSAGES, City)
    assert isinstance(result.value, City)
    assert not result.repaired, result.raw  # json_schema constrains decoding
    assert result.value.city.strip().lower() == "lyon"
    assert "france" in result.value.country.lower()


def test_response_cache_skips_the_server_on_a_repeat(llm_server, llm_settings):
    model = make_chat_model(llm_settings, llm_server, max_tokens=64)
    question = [*MESSAGES[:1], ("user", "Text: 'Graz is a city in Austria.' City and country?")]
    before = _metric(llm_server, "llamacpp:tokens_predicted_total")
    first = invoke_structured(model, question, City)
    generated = _metric(llm_server, "llamacpp:tokens_predicted_total")
    assert generated > before
    rows = _cache_rows(llm_settings)
    fresh_model = make_chat_model(llm_settings, llm_server, max_tokens=64)
    second = invoke_structured(fresh_model, question, City)
    assert second.raw == first.raw and second.value == first.value
    assert _metric(llm_server, "llamacpp:tokens_predicted_total") == generated  # no new tokens
    assert _cache_rows(llm_settings) == rows >= 1


def test_second_manager_attaches_instead_of_starting(llm_server, llm_settings):
    owner_pid = json.loads((llm_settings.data_dir / "llm" / "server.json").read_text())["pid"]
    other = LocalLLMServer(llm_settings)
    assert other.start() == llm_server
    assert not other.owner and other.status()["pid"] == owner_pid
    other.stop()  # an attached manager only detaches
    assert httpx.get(llm_server.removesuffix("/v1") + "/health", timeout=5).status_code == 200


def test_another_process_attaches(llm_server, llm_settings):
    code = (
        "import json, sys; from kgrag.settings import Settings; "
        "from kgrag.llm.local_server import LocalLLMServer; "
        "s = LocalLLMServer(Settings(data_dir=sys.argv[1], llm_threads=1)); "
        "url = s.start(); print(json.dumps([url, s.owner])); s.stop()"
    )
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code, str(llm_settings.data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    url, owner = json.loads(out.stdout.strip().splitlines()[-1])
    assert url == llm_server and owner is False
    assert time.monotonic() - started < 30
    assert httpx.get(llm_server.removesuffix("/v1") + "/health", timeout=5).status_code == 200


def test_stale_state_is_discarded(tmp_path):
    manager = LocalLLMServer(Settings(data_dir=tmp_path))
    manager.dir.mkdir(parents=True)
    stale = {"pid": os.getpid(), "port": 9, "model_path": "x", "alias": "x", "started_at": 0}
    manager.state_path.write_text(json.dumps(stale))  # a live pid, but not a llama-server
    assert manager._live_state() is None
    assert not manager.state_path.exists()
    assert manager.status()["running"] is False


def test_unknown_model_without_path_is_a_config_error(tmp_path):
    manager = LocalLLMServer(Settings(data_dir=tmp_path, llm_model="no-such-model"))
    with pytest.raises(ConfigError, match="no-such-model"):
        manager.model_path()
