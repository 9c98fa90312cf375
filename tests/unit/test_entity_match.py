"""Entity resolution: which names of one type are merged, into what, and with what record."""

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml

from kgrag.ingest.entity_match import entity_key, find_matches, match_names
from kgrag.ingest.resolve import resolve
from kgrag.types import Entity, ExtractedGraph, ExtractedNode, ExtractedRelationship

DATA = Path(__file__).parents[1] / "data"
PAIRS = list(
    csv.DictReader(
        line
        for line in (DATA / "entity_pairs.csv").open(encoding="utf-8")
        if not line.startswith("#")
    )
)


@pytest.mark.parametrize("case", PAIRS, ids=lambda c: f"{c['a']}|{c['b']}")
def test_string_evidence_for_a_pair(case):
    found = match_names(case["a"], case["b"])
    assert (found[0] if found else "none") == case["evidence"]
    assert match_names(case["b"], case["a"]) == found  # symmetric


def _mentions(*names_and_types: tuple[str, str]) -> list[ExtractedGraph]:
    return [
        ExtractedGraph(chunk_id=f"c{i}", nodes=[ExtractedNode(name=n, type=t)])
        for i, (n, t) in enumerate(names_and_types)
    ]


def test_variants_merge_into_the_most_mentioned_name_with_provenance():
    graphs = _mentions(
        ("Halden Robotics", "Organization"),
        ("Halden Robotics", "Organization"),
        ("Halden Robotics AS", "Organization"),
        ("Halden Marine", "Organization"),
    )
    entities = {e.id: e for e in resolve(graphs).entities}
    assert set(entities) == {"halden robotics", "halden marine"}
    robotics = entities["halden robotics"]
    assert robotics.aliases == ["Halden Robotics AS"]
    assert robotics.chunk_ids == ["c0", "c1", "c2"]
    assert robotics.merges and "variant" in robotics.merges[0]


def test_names_of_different_types_never_merge():
    graphs = _mentions(("Kelvin", "Person"), ("Kelvin", "Product"), ("IBM", "Organization"))
    graphs += _mentions(("International Business Machines", "Product"))
    assert len(resolve(graphs).entities) == 3  # "Kelvin" keys collide; the acronym's types differ


def test_new_mentions_join_stored_entities_which_keep_their_id_and_name():
    stored = Entity(id="united states of america", name="United States of America", type="Location")
    graphs = _mentions(("USA", "Location"), ("USA", "Location"))
    graphs[0].relationships.append(
        ExtractedRelationship(
            source="Ingrid Voss",
            source_type="Person",
            type="BORN_IN",
            target="USA",
            target_type="Location",
        )  # fmt: skip
    )
    graphs[0].nodes.append(ExtractedNode(name="Ingrid Voss", type="Person"))
    result = resolve(graphs, known=[stored])
    us = next(e for e in result.entities if e.type == "Location")
    assert (us.id, us.name, us.aliases) == ("united states of america", stored.name, ["USA"])
    assert [(r.source_id, r.target_id) for r in result.relations] == [
        ("ingrid voss", "united states of america")
    ]


def test_two_stored_entities_are_never_merged_by_an_ingest():
    known = [
        Entity(id="ibm", name="IBM", type="Organization"),
        Entity(id="international business machines", name="International Business Machines",
               type="Organization"),
    ]  # fmt: skip
    graphs = _mentions(("IBM Corp.", "Organization"))
    ids = {e.id for e in resolve(graphs, known=known).entities}
    assert len(ids) == 1 and ids <= {"ibm", "international business machines"}


def test_embedding_evidence_merges_only_above_the_threshold():
    vectors = {"Big Apple": [1.0, 0.0], "New York City": [0.96, 0.28], "Boston": [0.0, 1.0]}

    def embed(texts):
        return np.array([vectors[t] for t in texts], dtype="float32")

    names = list(vectors)
    assert [(m.a, m.b, m.method) for m in find_matches("Location", names, embed=embed)] == [
        ("Big Apple", "New York City", "embedding")
    ]
    assert find_matches("Location", names, embed=embed, threshold=0.97) == []


def test_string_evidence_alone_makes_no_wrong_merge_on_the_alias_fixture():
    """Regression guard on the labelled fixture (benchmarks/entity_resolution.py reports P/R)."""
    groups = yaml.safe_load((DATA / "entity_aliases.yaml").read_text(encoding="utf-8"))
    owner = {(g["type"], n): i for i, g in enumerate(groups) for n in g["names"]}
    graphs = _mentions(*((n, g["type"]) for g in groups for n in g["names"]))
    merged = 0
    for entity in resolve(graphs).entities:
        names = {entity.name, *entity.aliases}
        for a, b in itertools.combinations(sorted(names), 2):
            merged += 1
            assert owner[(entity.type, a)] == owner[(entity.type, b)], f"{a} merged with {b}"
    assert merged >= 15  # acronyms and variants do merge


def test_a_mention_spelled_like_a_stored_alias_joins_that_entity():
    stored = Entity(id="halden instruments", name="Halden Instruments", type="Organization",
                    aliases=["Halden Buoys"])  # fmt: skip
    graphs = _mentions(("Halden Buoys", "Organization"))
    [entity] = resolve(graphs, known=[stored]).entities
    assert (entity.id, entity.name) == ("halden instruments", "Halden Instruments")
    assert entity.merges == ["Halden Buoys = alias of Halden Instruments"]


def _all_pairs(names, against, embed, threshold):
    """The definition find_matches must meet: every pair compared (new x new, new x against)."""
    pool = names + against
    vectors = embed(pool)
    pairs = list(itertools.combinations(range(len(names)), 2))
    pairs += list(itertools.product(range(len(names)), range(len(names), len(pool))))
    found = []
    for i, j in pairs:
        if entity_key(pool[i]) == entity_key(pool[j]):
            continue
        hit = match_names(pool[i], pool[j])
        if hit is None and float(vectors[i] @ vectors[j]) >= threshold:
            hit = ("embedding", round(float(vectors[i] @ vectors[j]), 3))
        if hit:
            found.append((pool[i], pool[j], *hit))
    return found


@pytest.mark.parametrize("threshold", [0.9, 0.5])
def test_find_matches_finds_what_comparing_every_pair_finds(threshold: float):
    """Candidate pairs (lookups, cdist, blocked matrix products) lose no match and keep the
    order of comparing every pair."""
    groups = yaml.safe_load((DATA / "entity_aliases.yaml").read_text(encoding="utf-8"))
    names = [n for g in groups for n in g["names"]]
    names += [f"Dr. {n}" for n in names[:5]] + [n[:-1] + "q" for n in names if len(n) > 9]
    names = list(dict.fromkeys(names))
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(names), 8))
    table = {n: v / np.linalg.norm(v) for n, v in zip(names, vectors, strict=True)}

    def embed(texts):
        return np.array([table[t] for t in texts], dtype="float32")

    half = len(names) // 2
    for new, against in ((names, []), (names[:half], names[half:])):
        expected = _all_pairs(new, against, embed, threshold)
        found = find_matches("T", new, against=against, embed=embed, threshold=threshold)
        assert [(m.a, m.b, m.method, m.score) for m in found] == expected
        assert expected  # the fixture does match
