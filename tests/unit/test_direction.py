"""Relationship directions fixed from the schema (table: tests/data/cypher_direction.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kgrag.retrieve.direction import fix_directions
from kgrag.retrieve.guard import guard_cypher
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT

DEFAULT = GraphSchema.from_file(REPO_ROOT / "schemas" / "default.yaml")
SCHEMAS = {
    "default": DEFAULT,
    "symmetric": GraphSchema(
        name="symmetric",
        node_types=[{"name": "Person"}, {"name": "Organization"}],
        relationship_types=[{"name": "FUNDS"}],
        patterns=[("Person", "FUNDS", "Organization"), ("Organization", "FUNDS", "Person")],
    ),
    "none": DEFAULT.model_copy(update={"patterns": []}),
}
CASES = yaml.safe_load(
    (Path(__file__).parents[1] / "data" / "cypher_direction.yaml").read_text(encoding="utf-8")
)


def test_table_covers_both_outcomes():
    flips = [case for case in CASES if case.get("flips", 0)]
    assert len(flips) >= 10 and len(CASES) - len(flips) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_fix_directions(case: dict):
    query = case["query"]
    fixed, fixes = fix_directions(query, SCHEMAS[case.get("schema", "default")])
    assert fixed == case.get("fixed", query)
    assert len(fixes) == case.get("flips", 0)
    guard_cypher(fixed, max_rows=50)  # a fixed query still passes the guard


def test_a_fix_says_what_was_reversed_and_why():
    _, fixes = fix_directions("MATCH (o:Organization)-[:FOUNDED]->(p:Person) RETURN p", DEFAULT)
    assert fixes == [
        "FOUNDED: (Organization)->(Person) reversed to match schema pattern "
        "(Person, FOUNDED, Organization)"
    ]
