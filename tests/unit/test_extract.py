"""Extraction runs LLMGraphTransformer; malformed output is repaired or refused."""

import json

import pytest

from kgrag.errors import LLMOutputError
from kgrag.ingest.extract import GraphExtractor
from kgrag.prompts import Prompts
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT
from kgrag.types import Chunk
from tests.unit.fake_openai import ScriptedOpenAI

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
