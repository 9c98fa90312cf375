"""Resolution's candidates: every stored entity that any evidence could join to a new name is
found from the entity index, and resolving against the candidates gives what resolving against
the whole graph gives."""

from pathlib import Path

import pytest
import yaml

from kgrag.embed import SentenceEmbedder
from kgrag.ingest.entity_match import entity_key
from kgrag.ingest.known_names import KnownNames
from kgrag.ingest.resolve import resolve
from kgrag.retrieve.link import entity_index_key
from kgrag.types import Entity, ExtractedGraph, ExtractedNode
from kgrag.vectors import VectorIndex

DATA = Path(__file__).parents[1] / "data"
STORED = [
    Entity(id="halden robotics", name="Halden Robotics", type="Organization"),
    Entity(id="international business machines", name="International Business Machines",
           type="Organization"),
    Entity(id="nyc", name="NYC", type="Location"),
    Entity(id="ingrid voss", name="Ingrid Voss", type="Person"),
    Entity(id="halden instruments", name="Halden Instruments", type="Organization",
           aliases=["Halden Buoys"]),
    Entity(id="oslo", name="Oslo", type="Location"),
    Entity(id="anna berg", name="Anna Berg", type="Person"),
]  # fmt: skip


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder()


def _index(tmp_path: Path, embedder: SentenceEmbedder, entities: list[Entity]) -> VectorIndex:
    index = VectorIndex.empty(tmp_path / "entities", embedder.dimension)
    surfaces = {entity_index_key(e.id, s): s for e in entities for s in (e.name, *e.aliases)}
    index.add(list(surfaces), embedder.embed(list(surfaces.values())))
    return index


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Halden Robotics AS", {"halden robotics"}),  # variant
        ("IBM", {"international business machines"}),  # acronym of a stored name
        ("New York City", {"nyc"}),  # a stored acronym of it
        ("Dr. Ingrid Vos", {"ingrid voss"}),  # title stripped, then a typo
        ("Halden Buoys", {"halden instruments"}),  # a stored alias
    ],
)
def test_each_kind_of_string_evidence_finds_its_stored_entity(
    tmp_path: Path, embedder: SentenceEmbedder, name: str, expected: set[str]
):
    index = _index(tmp_path, embedder, STORED)
    assert KnownNames().candidates(index, [name], None, 0.9) == expected


def test_embedding_evidence_finds_names_above_the_threshold_only(
    tmp_path: Path, embedder: SentenceEmbedder
):
    index = _index(tmp_path, embedder, STORED)
    [[(_, cosine)]] = index.search(embedder.embed(["City of Oslo"]), 1)
    known = KnownNames()
    assert "oslo" in known.candidates(index, ["City of Oslo"], embedder.embed, cosine - 0.01)
    assert "oslo" not in known.candidates(index, ["City of Oslo"], embedder.embed, cosine + 0.01)


def test_the_catalogue_follows_the_index(tmp_path: Path, embedder: SentenceEmbedder):
    index = _index(tmp_path, embedder, STORED)
    known = KnownNames()
    assert known.candidates(index, ["Anna Berg"], None, 0.9) == {"anna berg"}
    index.remove([entity_index_key("anna berg", "Anna Berg")])
    index.add([entity_index_key("anna borg", "Anna Borg")], embedder.embed(["Anna Borg"]))
    assert known.candidates(index, ["Anna Berg"], None, 0.9) == set()
    assert known.candidates(index, ["Anna Borg"], None, 0.9) == {"anna borg"}
    other = _index(tmp_path / "other", embedder, STORED[:1])
    assert known.candidates(other, ["Halden Robotics AS", "IBM"], None, 0.9) == {"halden robotics"}


@pytest.mark.parametrize("threshold", [0.9, 0.75])
def test_resolving_against_the_candidates_equals_resolving_against_the_whole_graph(
    tmp_path: Path, embedder: SentenceEmbedder, threshold: float
):
    """The labelled alias fixture: each group's first name is stored, the others are new."""
    groups = yaml.safe_load((DATA / "entity_aliases.yaml").read_text(encoding="utf-8"))
    stored = [Entity(id=entity_key(g["names"][0]), name=g["names"][0], type=g["type"])
              for g in groups]  # fmt: skip
    graphs = [
        ExtractedGraph(chunk_id=f"c{i}", nodes=[ExtractedNode(name=name, type=g["type"])])
        for i, (g, name) in enumerate((g, n) for g in groups for n in g["names"][1:])
    ]
    names = [node.name for g in graphs for node in g.nodes]
    index = _index(tmp_path, embedder, stored)
    ids = KnownNames().candidates(index, names, embedder.embed, threshold)
    candidates = [e for e in stored if e.id in ids]

    def outcome(known: list[Entity]) -> list[tuple]:
        graph = resolve(graphs, known=known, embed=embedder.embed, threshold=threshold)
        return sorted((e.id, e.name, tuple(e.aliases), tuple(e.merges)) for e in graph.entities)

    assert outcome(candidates) == outcome(stored)
    assert len(candidates) < len(stored)  # the lookup did leave stored entities out
    assert any(e.merges for e in resolve(graphs, known=candidates).entities)
