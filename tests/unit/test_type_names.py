"""Type-name keys: spellings of one node type or relationship type compare equal."""

import csv
from pathlib import Path

import pytest

from kgrag.schema import GraphSchema
from kgrag.type_names import node_type_key, relationship_key

DATA = Path(__file__).parents[1] / "data"
CASES = [
    row
    for row in csv.DictReader(
        line
        for line in (DATA / "type_names.csv").open(encoding="utf-8")
        if not line.startswith("#")
    )
]
SCHEMA = GraphSchema.from_file(Path(__file__).parents[2] / "schemas" / "default.yaml")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['kind']}:{c['name']}")
def test_type_name_key(case):
    key = node_type_key if case["kind"] == "node" else relationship_key
    assert key(case["name"]) == case["key"]


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("worked for", "WORKS_FOR"), ("is located in", "LOCATED_IN"), ("Founded", "FOUNDED")],
)
def test_schema_maps_relationship_spellings_to_its_type(name, canonical):
    assert SCHEMA.canonical_relationship_type(name) == canonical


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("companies", "Organization"), ("Cities", "Location"), ("PERSON", "Person")],
)
def test_schema_maps_node_type_spellings_and_aliases(name, canonical):
    assert SCHEMA.canonical_node_type(name) == canonical


def test_unknown_types_are_not_mapped():
    assert SCHEMA.canonical_node_type("Colour") is None
    assert SCHEMA.canonical_relationship_type("ADMIRES") is None
