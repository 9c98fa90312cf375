"""Extraction runs LLMGraphTransformer; malformed output is repaired or refused."""

import json

import pytest

from kgrag.errors import LLMOutputError
from kgrag.ingest.extract import GraphExtractor
from kgrag.llm.response_format import RESPONSE_FORMATS
from kgrag.prompts import Prompts
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT
from kgrag.types import Chunk
from tests.unit.fake_openai import Reply, ScriptedOpenAI

SCHEMA = GraphSchema.from_file(REPO_ROOT / "schemas" / "default.yaml")
PROMPTS = Prompts.load(REPO_ROOT / "prompts")
CHUNK = Chunk(
    id="d:p1:0", document_id="d", page=1, start=0, end=10, text="Ingrid Voss founded Halden."
)
GRAPH = {
    "nodes": [{"id": "Ingrid Voss", "type": "Person"}, {"id": "Halden", "type": "Organization"}],
    "relationships": [
        {
            "source_node_id": "Ingrid Voss",
            "source_node_type": "Person",
            "target_node_id": "Halden",
            "target_node_type": "Organization",
            "type": "FOUNDED",
        }
    ],
}


def _extract(content: str) -> tuple:
    llm = ScriptedOpenAI([content, content])  # a parse failure is re-asked once, then repaired
    graph = GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS).extract(CHUNK)
    return graph, llm.requests[0]


def test_request_is_schema_constrained_and_carries_prompt_and_text():
    graph, request = _extract(json.dumps(GRAPH))
    assert request["response_format"]["type"] == "json_schema"
    schema_text = json.dumps(request["response_format"])
    assert "Organization" in schema_text and "FOUNDED" in schema_text
    assert "Ingrid Voss founded Halden." in request["messages"][-1]["content"]
    assert "Relationship types:" in request["messages"][0]["content"]
    assert not graph.repaired
    assert [(r.source.lower(), r.type, r.target.lower()) for r in graph.relationships] == [
        ("ingrid voss", "FOUNDED", "halden")
    ]


@pytest.mark.parametrize(
    "content",
    [
        "Here is the graph:\n```json\n" + json.dumps(GRAPH) + "\n```",
        json.dumps(GRAPH)[:-3],  # truncated
    ],
)
def test_malformed_output_is_repaired_and_counted(content):
    graph, _ = _extract(content)
    assert graph.repaired
    assert {n.name.lower() for n in graph.nodes} == {"ingrid voss", "halden"}


def test_unrepairable_output_names_the_chunk():
    with pytest.raises(LLMOutputError, match="d:p1:0"):
        _extract("I cannot help with that.")


def test_refused_json_schema_falls_back_for_extraction_too():
    llm = ScriptedOpenAI(
        [
            Reply(status=400, error="Invalid value for response_format: json_schema"),
            json.dumps(GRAPH),
            json.dumps(GRAPH),
        ]
    )
    RESPONSE_FORMATS.configure(llm.base_url, "json_schema", PROMPTS)
    extractor = GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS)
    first, second = extractor.extract(CHUNK), extractor.extract(CHUNK)
    formats = [r.get("response_format", {}).get("type") for r in llm.requests]
    assert formats == ["json_schema", "json_object", "json_object"]
    assert "FOUNDED" in llm.requests[1]["messages"][-1]["content"]  # the schema, in the prompt
    assert not first.repaired and first == second
    assert [r.type for r in first.relationships] == ["FOUNDED"]


def test_extraction_with_pinned_json_object_sends_no_json_schema():
    llm = ScriptedOpenAI([json.dumps(GRAPH)])
    RESPONSE_FORMATS.configure(llm.base_url, "json_object", PROMPTS)
    graph = GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS).extract(CHUNK)
    assert llm.requests[0]["response_format"] == {"type": "json_object"}
    assert {n.name.lower() for n in graph.nodes} == {"ingrid voss", "halden"}


def test_other_bad_requests_fail_the_chunk_without_a_retry():
    llm = ScriptedOpenAI([Reply(status=400, error="maximum context length exceeded")])
    RESPONSE_FORMATS.configure(llm.base_url, "json_schema", PROMPTS)
    with pytest.raises(LLMOutputError, match="HTTP 400"):
        GraphExtractor(llm.chat_model(), SCHEMA, PROMPTS).extract(CHUNK)
    assert len(llm.requests) == 1
