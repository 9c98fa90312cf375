"""Prune keeps what the schema allows and says why it dropped the rest; resolve merges aliases."""

from pathlib import Path

import pytest

from kgrag.ingest.entity_match import entity_key
from kgrag.ingest.prune import prune
from kgrag.ingest.resolve import resolve
from kgrag.schema import GraphSchema
from kgrag.types import DropReason, ExtractedGraph, ExtractedNode, ExtractedRelationship

SCHEMA = GraphSchema.from_file(Path(__file__).parents[2] / "schemas" / "default.yaml")


def _rel(s, st, t, tt, typ):
    return ExtractedRelationship(source=s, source_type=st, type=typ, target=t, target_type=tt)


def test_alias_types_map_to_canonical_and_invalid_items_are_reported():
    graph = ExtractedGraph(
        chunk_id="c1",
        nodes=[
            ExtractedNode(name="Halden", type="company"),  # alias of Organization
            ExtractedNode(name="", type="Person"),
            ExtractedNode(name="blue", type="Colour"),
        ],
        relationships=[
            _rel("Ingrid", "Person", "Halden", "Company", "founded"),
            _rel("Halden", "Organization", "Ingrid", "Person", "BORN_IN"),
            _rel("Ingrid", "Person", "Halden", "Organization", "ADMIRES"),
            _rel("", "Person", "Halden", "Organization", "FOUNDED"),
        ],
    )
    [kept], report = prune([graph], SCHEMA)
    assert ("Halden", "Organization") in {(n.name, n.type) for n in kept.nodes}
    assert ("Ingrid", "Person") in {(n.name, n.type) for n in kept.nodes}  # endpoint-only entity
    assert [(r.source, r.type, r.target) for r in kept.relationships] == [
        ("Ingrid", "FOUNDED", "Halden")
    ]
    reasons = sorted(d.reason for d in report.dropped)
    assert reasons == sorted(
        [
            DropReason.MISSING_ID,
            DropReason.NOT_IN_SCHEMA,
            DropReason.INVALID_PATTERN,
            DropReason.NOT_IN_SCHEMA,
            DropReason.MISSING_ID,
        ]
    )
    assert report.kept_relationships == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Nordic Ocean Fund", "nordic ocean fund"),
        ("Tromsø.", "TROMSØ"),
        ("Kelvin-7  buoy", "kelvin-7 buoy"),
    ],
)
def test_entity_key_merges_surface_variants(a, b):
    assert entity_key(a) == entity_key(b)


def test_resolve_merges_mentions_across_chunks_and_keeps_provenance():
    graphs = [
        ExtractedGraph(
            chunk_id="c1",
            nodes=[
                ExtractedNode(name="Tomas Reyes", type="Person"),
                ExtractedNode(name="Kelvin-7", type="Product"),
            ],
            relationships=[_rel("Tomas Reyes", "Person", "Kelvin-7", "Product", "CREATED")],
        ),
        ExtractedGraph(
            chunk_id="c2",
            nodes=[
                ExtractedNode(name="tomas reyes", type="Person"),
                ExtractedNode(name="Tomas Reyes", type="Person"),
            ],
            relationships=[_rel("Tomas Reyes", "Person", "Kelvin-7", "Product", "CREATED")],
        ),
    ]
    resolved = resolve(graphs)
    tomas = next(e for e in resolved.entities if e.id == "tomas reyes")
    assert tomas.name == "Tomas Reyes" and tomas.aliases == ["tomas reyes"]
    assert tomas.chunk_ids == ["c1", "c2"]
    assert {(r.source_id, r.type, r.target_id, r.chunk_id) for r in resolved.relations} == {
        ("tomas reyes", "CREATED", "kelvin-7", "c1"),
        ("tomas reyes", "CREATED", "kelvin-7", "c2"),
    }
