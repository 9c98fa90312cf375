"""The Neo4j Browser kit in neo4j/: every saved query runs on the real embedded store and finds
what it promises; the style colours every entity type and keeps lexical nodes small."""

from __future__ import annotations

import re

import pytest

from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT, Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from kgrag.types import Chunk, Document, Entity, Page, ResolvedGraph
from tests.integration.test_graph_store import C1, C2, D1, D2, G1, G2

pytestmark = pytest.mark.integration

KIT = REPO_ROOT / "neo4j"
PARAMS = {
    "01_document_entities.cypher": {"document_id": "doc1"},
    "02_entity_neighbourhood.cypher": {"name": "acme"},
    "03_relationships_of_type.cypher": {"type": "WORKS_AT"},
    "04_low_confidence_pages.cypher": {"threshold": 0.8},
    "05_duplicate_candidates.cypher": {},
}
D3 = Document(
    id="doc3",
    title="Acme Corp",
    source="c.txt",
    sha256="c" * 64,
    pages=[Page(number=1, text="Acme Corp sells buoys.")],
)
C3 = [Chunk(id="doc3:p1:0", document_id="doc3", page=1, start=0, end=22, text=D3.pages[0].text)]
G3 = ResolvedGraph(
    entities=[
        Entity(id="acme-corp", name="Acme Corp", type="Organization", chunk_ids=["doc3:p1:0"])
    ],
    relations=[],
)


@pytest.fixture(scope="module")
def results(graph_store: Neo4jGraphStore) -> dict[str, list[dict]]:
    graph_store.clear()
    for doc, chunks, graph in ((D1, C1, G1), (D2, C2, G2), (D3, C3, G3)):
        graph_store.write_document(doc, chunks, graph)
    graph_store.write_all(
        [
            (
                "MATCH (p:Page {id: $id}) SET p.ocr_confidence = 0.42, p.ocr_engine = 'tesseract'",
                {"id": f"{D3.id}:p1"},
            )
        ]
    )
    found = {}
    for path in sorted((KIT / "queries").glob("*.cypher")):
        query = path.read_text(encoding="utf-8")
        used = set(re.findall(r"\$(\w+)", query))
        documented = set(re.findall(r":param (\w+) =>", query))
        assert used == documented == set(PARAMS[path.name]), path.name
        found[path.name] = graph_store.run_read(query, PARAMS[path.name])
    return found


def test_every_saved_query_is_covered(results):
    assert set(results) == set(PARAMS)


def test_saved_queries_find_what_they_promise(results):
    assert {(r["entity"], r["chunks"]) for r in results["01_document_entities.cypher"]} == {
        ("Ann", 2),
        ("Acme", 3),
        ("Berlin", 1),
    }
    neighbourhood = results["02_entity_neighbourhood.cypher"]
    assert {(r["relationship"], r["other"], r["outgoing"]) for r in neighbourhood} == {
        ("WORKS_AT", "Ann", False),
        ("WORKS_AT", "Bob", False),
        ("LOCATED_IN", "Berlin", True),
    }
    assert all(r["source_chunks"] for r in neighbourhood)
    assert {r["source"] for r in results["03_relationships_of_type.cypher"]} == {"Ann", "Bob"}
    assert [(r["document"], r["page"]) for r in results["04_low_confidence_pages.cypher"]] == [
        ("Acme Corp", 1)
    ]
    assert [(r["name"], r["other_name"]) for r in results["05_duplicate_candidates.cypher"]] == [
        ("Acme", "Acme Corp")
    ]


def test_style_colours_entity_types_and_greys_the_lexical_graph():
    style = (KIT / "style.grass").read_text(encoding="utf-8")
    rules = dict(re.findall(r"^node\.(\w+) \{(.*)\}$", style, flags=re.M))
    schema = GraphSchema.from_file(Settings().schema_path)
    for node_type in schema.node_types:
        assert 'caption: "{name}"' in rules[node_type.name], node_type.name
    for lexical in ("Document", "Page", "Chunk"):
        diameter = int(re.search(r"diameter: (\d+)px", rules[lexical]).group(1))
        colour = re.search(r"\bcolor: #(\w\w)(\w\w)(\w\w)", rules[lexical]).groups()
        assert diameter < 50 and len(set(colour)) == 1, lexical  # small and grey


def test_readme_tells_how_to_use_the_kit():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "neo4j/style.grass" in readme and "neo4j/queries/" in readme
