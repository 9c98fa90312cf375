"""The read-only Cypher guard, table-driven (tests/data/cypher_guard.csv)."""

from pathlib import Path

import pytest

from kgrag.retrieve.guard import CypherRejected, guard_cypher

CASES = [
    tuple(line.rstrip("\n").replace("\\n", "\n").rsplit("|", 1))
    for line in (Path(__file__).parents[1] / "data" / "cypher_guard.csv").open(encoding="utf-8")
    if line.strip() and not line.startswith("#") and not line.startswith("query|")
]


def test_table_has_at_least_50_adversarial_cases():
    assert sum(expected != "ok" for _, expected in CASES) >= 50


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q[:60] for q, _ in CASES])
def test_guard(query: str, expected: str):
    if expected == "ok":
        bounded = guard_cypher(query, max_rows=50)
        assert "LIMIT" in bounded.upper()
    else:
        with pytest.raises(CypherRejected) as caught:
            guard_cypher(query, max_rows=50)
        assert expected in caught.value.reason


@pytest.mark.parametrize(
    ("query", "bounded"),
    [
        ("MATCH (n) RETURN n", "MATCH (n) RETURN n\nLIMIT 50"),
        ("MATCH (n) RETURN n LIMIT 7;", "MATCH (n) RETURN n LIMIT 7"),
        ("MATCH (n) RETURN n LIMIT 100000", "MATCH (n) RETURN n LIMIT 50"),
        ("MATCH (n) WITH n LIMIT 3 RETURN n", "MATCH (n) WITH n LIMIT 3 RETURN n\nLIMIT 50"),
    ],
)
def test_results_are_always_bounded(query: str, bounded: str):
    assert guard_cypher(query, max_rows=50) == bounded
