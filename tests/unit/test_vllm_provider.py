"""The in-process vLLM provider without vLLM: vllm cannot run here (no GPU, the package is not
installed), so a fake `vllm` module injected into sys.modules stands in for it. These tests
check the import guard, the request building (messages → LLM.chat input, response_format →
SamplingParams, for the vLLM >= 0.10.2 and the 0.10.0/0.10.1 API), the batching and the
wiring into extraction and accounting; the real engine runs only on a GPU box."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from types import ModuleType, SimpleNamespace

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, ValidationError

from kgrag.errors import ConfigError
from kgrag.ingest.extract import GraphExtractor
from kgrag.llm.structured import invoke_structured
from kgrag.llm.usage import LLMUsage
from kgrag.llm.vllm_io import conversation, sampling_params
from kgrag.llm.vllm_provider import VLLM_IN_PROCESS, GroupBatcher, make_vllm_chat_model
from kgrag.prompts import Prompts
from kgrag.runtime import Runtime, llm_endpoint
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT, Settings
from kgrag.types import Chunk

SCHEMA = GraphSchema.from_file(REPO_ROOT / "schemas" / "default.yaml")
PROMPTS = Prompts.load(REPO_ROOT / "prompts")


class Person(BaseModel):
    name: str
    age: int


class Recorded:
    """Stands in for a vLLM params class: keeps its keyword arguments."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs


def _fake_vllm(structured_class: str) -> SimpleNamespace:
    """Modules `vllm` and `vllm.sampling_params` whose LLM answers from `replies` (text,
    prompt tokens, completion tokens) and records every engine and chat call."""
    state = SimpleNamespace(replies=[], engines=[])

    class LLM:
        def __init__(self, **kwargs):
            self.kwargs, self.calls = kwargs, []
            state.engines.append(self)

        def chat(self, conversations, params, use_tqdm=True):
            self.calls.append((conversations, params))
            outputs = []
            for _ in conversations:
                text, prompt, completion = state.replies.pop(0)
                done = SimpleNamespace(text=text, token_ids=[0] * completion, finish_reason="stop")
                outputs.append(SimpleNamespace(prompt_token_ids=[0] * prompt, outputs=[done]))
            return outputs

    vllm = ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = LLM, type("SamplingParams", (Recorded,), {})
    params = ModuleType("vllm.sampling_params")
    setattr(params, structured_class, type(structured_class, (Recorded,), {}))
    vllm.sampling_params = params
    state.modules = {"vllm": vllm, "vllm.sampling_params": params}
    state.keyword = {  # the SamplingParams argument that carries it
        "StructuredOutputsParams": "structured_outputs",
        "GuidedDecodingParams": "guided_decoding",
    }[structured_class]
    return state


@pytest.fixture(params=["StructuredOutputsParams", "GuidedDecodingParams"], ids=["new", "0.10.0"])
def fake_vllm(request, monkeypatch) -> SimpleNamespace:
    state = _fake_vllm(request.param)
    for name, module in state.modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return state


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        llm_provider="vllm",
        llm_model="Qwen/Qwen2.5-7B-Instruct",
        llm_max_tokens=512,
        llm_vllm_args={"gpu_memory_utilization": 0.8},
    )


def test_the_default_path_never_imports_vllm():
    script = (
        "import sys, json\n"
        "import kgrag, kgrag.cli.main, kgrag.api.app, kgrag.runtime\n"
        "from kgrag.ingest.extract import GraphExtractor\n"
        "from kgrag.prompts import Prompts\n"
        "from kgrag.schema import GraphSchema\n"
        "from kgrag.settings import REPO_ROOT\n"
        "from kgrag.types import Chunk\n"
        "from tests.unit.fake_openai import ScriptedOpenAI\n"
        "graph = json.dumps({'nodes': [{'id': 'A', 'type': 'Person'}], 'relationships': []})\n"
        "llm = ScriptedOpenAI([graph])\n"
        "extractor = GraphExtractor(llm.chat_model(),\n"
        "    GraphSchema.from_file(REPO_ROOT / 'schemas' / 'default.yaml'),\n"
        "    Prompts.load(REPO_ROOT / 'prompts'))\n"
        "extractor.extract(Chunk(id='d:p1:0', document_id='d', page=1, start=0, end=1, text='A'))\n"
        "print(sorted(m for m in sys.modules if m == 'vllm' or m.startswith('vllm.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_selecting_vllm_without_it_installed_names_the_extra(monkeypatch, settings):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm now fails, installed or not
    with llm_endpoint(settings) as endpoint:  # nothing to start or check
        assert endpoint == VLLM_IN_PROCESS
    runtime = Runtime(settings, SCHEMA, PROMPTS, store=None, llm_base_url=endpoint)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"pip install 'kgrag\[gpu\]'"):
        runtime.chat_model  # noqa: B018


def test_vllm_provider_and_a_base_url_conflict():
    with pytest.raises(ValidationError, match="set one of them"):
        Settings(llm_provider="vllm", llm_base_url="http://vllm:8000/v1")


def test_the_api_refuses_the_in_process_provider(settings):
    from kgrag.api.app import create_app

    with pytest.raises(ConfigError, match="vllm serve"):
        create_app(settings)


def test_messages_become_chat_input():
    messages = [
        SystemMessage("You extract."),
        HumanMessage([{"type": "text", "text": "Ada "}, "Lovelace?"]),
        AIMessage("{}"),
        HumanMessage("again"),
    ]
    assert conversation(messages) == [
        {"role": "system", "content": "You extract."},
        {"role": "user", "content": "Ada Lovelace?"},
        {"role": "assistant", "content": "{}"},
        {"role": "user", "content": "again"},
    ]
    with pytest.raises(ValueError, match="'tool' message"):
        conversation([ToolMessage("x", tool_call_id="1")])


def test_response_format_becomes_structured_sampling_params(fake_vllm):
    vllm = fake_vllm.modules["vllm"]
    schema = Person.model_json_schema()
    fmt = {"type": "json_schema", "json_schema": {"name": "Person", "schema": schema}}
    params = sampling_params(
        vllm, response_format=fmt, max_tokens=64, temperature=0.0, stop=["\n\n"]
    )
    constraint = params.kwargs.pop(fake_vllm.keyword)
    assert params.kwargs == {"max_tokens": 64, "temperature": 0.0, "stop": ["\n\n"]}
    assert constraint.kwargs == {"json": schema}
    as_object = sampling_params(
        vllm, response_format={"type": "json_object"}, max_tokens=8, temperature=0.2, stop=None
    )
    assert as_object.kwargs[fake_vllm.keyword].kwargs == {"json_object": True}
    plain = sampling_params(vllm, response_format=None, max_tokens=8, temperature=0.2, stop=None)
    assert plain.kwargs == {"max_tokens": 8, "temperature": 0.2, "stop": None}


def test_structured_call_runs_one_engine_with_usage_and_cache(fake_vllm, settings):
    fake_vllm.replies = [('{"name": "Ada", "age": 36}', 12, 9)]
    model = make_vllm_chat_model(settings)
    assert fake_vllm.engines == []  # the engine loads on the first call
    usage = LLMUsage()
    for _ in range(2):  # the repeat comes from the response cache
        result = invoke_structured(model, [("user", "who?")], Person, config={"callbacks": [usage]})
        assert result.value == Person(name="Ada", age=36) and not result.repaired
    (engine,) = fake_vllm.engines
    assert engine.kwargs == {
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "max_model_len": settings.llm_context,
        "gpu_memory_utilization": 0.8,
    }
    ((conversations, params),) = engine.calls
    assert conversations == [[{"role": "user", "content": "who?"}]]
    assert params[0].kwargs["max_tokens"] == 512
    assert params[0].kwargs[fake_vllm.keyword].kwargs["json"]["title"] == "Person"
    assert usage.counts() == {
        "llm_calls": 1,
        "cached_calls": 1,
        "prompt_tokens": 12,
        "completion_tokens": 9,
    }


def test_extraction_goes_through_llm_graph_transformer(fake_vllm, settings):
    graph = {
        "nodes": [{"id": "Ada", "type": "Person"}, {"id": "Analytical Engine", "type": "Product"}],
        "relationships": [
            {
                "source_node_id": "Ada",
                "source_node_type": "Person",
                "target_node_id": "Analytical Engine",
                "target_node_type": "Product",
                "type": "WORKED_ON",
            }
        ],
    }
    fake_vllm.replies = [(json.dumps(graph), 100, 40)]
    settings = settings.model_copy(update={"llm_cache": False})
    chunk = Chunk(id="d:p1:0", document_id="d", page=1, start=0, end=9, text="Ada wrote.")
    extracted = GraphExtractor(make_vllm_chat_model(settings), SCHEMA, PROMPTS).extract(chunk)
    assert [(r.source, r.type, r.target) for r in extracted.relationships] == [
        ("Ada", "WORKED_ON", "Analytical Engine")
    ]
    ((conversations, params),) = fake_vllm.engines[0].calls
    assert conversations[0][-1] == {"role": "user", "content": PROMPTS.render(
        "extract_user", input="Ada wrote."
    )}  # fmt: skip
    json_schema = params[0].kwargs[fake_vllm.keyword].kwargs["json"]
    assert {"nodes", "relationships"} <= set(json_schema["properties"])


def test_requests_waiting_together_go_to_the_engine_as_one_batch():
    release, batches = threading.Event(), []

    def run_batch(conversations, params):
        batches.append([c[0]["content"] for c in conversations])
        if len(batches) == 1:
            release.wait(timeout=60)  # hold the engine while the others queue up
        return [f"out:{c[0]['content']}" for c in conversations]

    batcher = GroupBatcher(run_batch)
    results: dict[str, str] = {}

    def ask(text: str) -> None:
        results[text] = batcher.submit([{"role": "user", "content": text}], None)

    threads = [threading.Thread(target=ask, args=(f"q{i}",)) for i in range(4)]
    threads[0].start()
    _wait_until(lambda: len(batches) == 1)
    for t in threads[1:]:
        t.start()
    _wait_until(lambda: len(batcher._queue) == 3)
    release.set()
    for t in threads:
        t.join(timeout=60)
    assert len(batches) == 2 and batches[0] == ["q0"]
    assert sorted(batches[1]) == ["q1", "q2", "q3"]  # queued meanwhile: one LLM.chat call
    assert results == {f"q{i}": f"out:q{i}" for i in range(4)}


def test_an_engine_error_fails_every_request_of_its_batch():
    def run_batch(conversations, params):
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        GroupBatcher(run_batch).submit([{"role": "user", "content": "q"}], None)


def _wait_until(condition, limit_s: float = 60.0) -> None:
    """Poll until `condition()` holds (threads are scheduling); fail after `limit_s`."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)
