"""Extraction within an output budget: a cut output keeps its complete items without a second
call, repeats are kept once, and the cut is counted (tokens included)."""

from pathlib import Path

import pytest
import yaml

from kgrag.errors import LLMOutputError
from kgrag.ingest.extract import GraphExtractor, extraction_budget
from kgrag.llm.response_format import RESPONSE_FORMATS
from kgrag.llm.salvage import complete_arrays
from kgrag.llm.usage import LLMUsage
from kgrag.prompts import Prompts
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT, Settings
from kgrag.types import Chunk, ExtractedGraph
from tests.unit.fake_openai import Reply, ScriptedOpenAI

SCHEMA = GraphSchema.from_file(REPO_ROOT / "schemas" / "default.yaml")
PROMPTS = Prompts.load(REPO_ROOT / "prompts")
CHUNK = Chunk(id="d:p1:0", document_id="d", page=1, start=0, end=9, text="Ingrid Voss...")
CASES = yaml.safe_load((Path(__file__).parents[1] / "data" / "cut_outputs.yaml").read_text("utf-8"))


def _facts(graph: ExtractedGraph) -> tuple[list[str], list[str]]:
    nodes = [f"{n.name.lower()}|{n.type}" for n in graph.nodes]
    rels = [f"{r.source.lower()}|{r.type}|{r.target.lower()}" for r in graph.relationships]
    return nodes, rels


@pytest.mark.parametrize("fmt", ["json_schema", "json_object"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_kept_items(case, fmt):
    llm = ScriptedOpenAI([Reply(content=case["raw"], finish_reason=case["finish"])])
    RESPONSE_FORMATS.configure(llm.base_url, fmt, PROMPTS)
    graph = GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS).extract(CHUNK)
    assert _facts(graph) == (case["nodes"], case["rels"])
    assert graph.cut is case["cut"]
    assert not graph.repaired or fmt == "json_object"  # json_object outputs are not validated
    assert len(llm.requests) == 1  # a cut output is not asked again


def test_budget_is_the_request_max_tokens_and_a_cut_call_counts_its_tokens():
    cut = next(c for c in CASES if c["name"].startswith("runaway"))
    llm = ScriptedOpenAI([Reply(content=cut["raw"], finish_reason="length", usage=(900, 300))])
    RESPONSE_FORMATS.configure(llm.base_url, "json_schema", PROMPTS)
    usage = LLMUsage()
    extractor = GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS, budget=lambda _: 300)
    graph = extractor.extract(CHUNK, config={"callbacks": [usage]})
    request = llm.requests[0]
    assert request.get("max_completion_tokens", request.get("max_tokens")) == 300
    assert graph.cut
    assert usage.counts() == {
        "llm_calls": 1,
        "cached_calls": 0,
        "prompt_tokens": 900,
        "completion_tokens": 300,
    }


@pytest.mark.parametrize(
    ("overrides", "chars", "budget"),
    [
        ({}, 428, 704),  # 428 + 256, rounded up to 64
        ({}, 800, 1088),
        ({}, 1400, 1536),  # at most llm_max_tokens
        ({"extraction_max_tokens": 128}, 800, 128),
    ],
)
def test_extraction_budget(overrides, chars, budget):
    chunk = CHUNK.model_copy(update={"text": "x" * chars})
    assert extraction_budget(Settings(**overrides), chunk) == budget


def test_each_chunk_is_asked_with_its_own_budget():
    graph = next(c for c in CASES if c["name"] == "complete output unchanged")["raw"]
    llm = ScriptedOpenAI([graph, graph, graph])
    RESPONSE_FORMATS.configure(llm.base_url, "json_schema", PROMPTS)
    extractor = GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS, budget=lambda c: len(c.text))
    for text in ("a" * 100, "b" * 300, "c" * 100):
        extractor.extract(CHUNK.model_copy(update={"text": text}))
    asked = [r.get("max_completion_tokens", r.get("max_tokens")) for r in llm.requests]
    assert asked == [100, 300, 100]


@pytest.mark.parametrize(
    ("raw", "arrays"),
    [
        ('Sure! {"a": [1, 2], "b": "x", "c": [{"d": []}]} bye', {"a": [1, 2], "c": [{"d": []}]}),
        ('{"a": [1, 23', {"a": [1]}),  # "23" may be the start of a longer number
        ('{"a": ["x", "y\\"', {"a": ["x"]}),  # an escaped quote does not close the string
        ('{"a": []', {"a": []}),
        ("no JSON at all", {}),
        ('{"a" "b"', {}),
    ],
)
def test_complete_arrays(raw, arrays):
    assert complete_arrays(raw) == arrays


def test_an_invalid_closed_item_in_a_cut_output_fails_the_chunk_by_name():
    raw = '{"nodes": [{"id": "X"}, {"id": "Y", "ty'  # the closed item has no type
    llm = ScriptedOpenAI([Reply(content=raw, finish_reason="length")])
    RESPONSE_FORMATS.configure(llm.base_url, "json_object", PROMPTS)
    with pytest.raises(LLMOutputError, match=r"chunk d:p1:0: an item of the cut output is invalid"):
        GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS).extract(CHUNK)
