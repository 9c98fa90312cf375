"""The graph store goes away after start-up: questions are still answered from vector search
over the local chunk copy, clearly marked, and the chunk copy follows ingest and deletes."""

from __future__ import annotations

import json

import pytest

from kgrag.ingest.pipeline import IngestPipeline
from kgrag.procs import free_port
from kgrag.prompts import Prompts
from kgrag.qa import answer_question
from kgrag.runtime import Runtime
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from tests.integration.test_graph_store import C1, C2, D1, D2, G1, G2
from tests.integration.test_index_rebuild import _runtime
from tests.unit.fake_openai import ScriptedOpenAI

pytestmark = pytest.mark.integration


def test_answers_come_from_vectors_while_the_graph_is_down(
    graph_store: Neo4jGraphStore, graph_settings: Settings
):
    graph_store.clear()
    graph_store.write_document(D1, C1, G1)
    graph_store.write_document(D2, C2, G2)
    pipeline = IngestPipeline(_runtime(graph_settings, graph_store))
    pipeline.indexes.rebuild()
    pipeline.indexes.remove_documents([D2.id])  # the copy follows deletes too

    gone = Neo4jGraphStore(
        f"bolt://127.0.0.1:{free_port()}", "root", "x", connection_timeout_s=1, retry_s=1
    )
    rt = Runtime(
        graph_settings,
        GraphSchema.from_file(graph_settings.schema_path),
        Prompts.load(graph_settings.prompts_dir),
        gone,
        llm_base_url=None,
    )
    llm = ScriptedOpenAI(
        [
            json.dumps({"answer": "Berlin", "evidence": [1], "supported": True}),
            json.dumps({"supported": True}),
        ]
    )
    rt.__dict__["chat_model"] = llm.chat_model()

    answer = answer_question(rt, "Where is Acme located?")
    assert answer.degraded and "graph store unavailable" in answer.degraded
    assert answer.trace["strategies"] == ["vector"] and answer.triples == []
    assert answer.text == "Berlin" and answer.citations[0].chunk_id == "doc1:p2:0"
    assert {e.document_id for e in answer.evidence} == {"doc1"}  # doc2 was deleted
    prompt = llm.requests[0]["messages"][-1]["content"]
    assert "Acme is located in Berlin." in prompt
