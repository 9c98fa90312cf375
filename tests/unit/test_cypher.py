"""Identifier validation and quoting of labels / relationship types."""

from __future__ import annotations

import pytest

from kgrag.store import cypher


@pytest.mark.parametrize("name", ["Person", "WORKS_AT", "a", "Type2", "x_1_y"])
def test_valid_identifiers_are_backtick_quoted(name: str) -> None:
    assert cypher.identifier(name) == name
    assert cypher.quote(name) == f"`{name}`"


@pytest.mark.parametrize(
    "name",
    ["", "1Person", "_x", "Works At", "A`B", "A-B", "Person)", "a:b", "Ä", "X\n", None, 3],
)
def test_invalid_identifiers_raise(name: object) -> None:
    with pytest.raises(ValueError):
        cypher.quote(name)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Entity", "Chunk", "MENTIONS", "HAS_PAGE"])
def test_lexical_names_are_reserved_for_domain_types(name: str) -> None:
    assert cypher.quote(name) == f"`{name}`"
    with pytest.raises(ValueError, match="reserved"):
        cypher.create_entities(name)


def test_builders_embed_only_the_quoted_name() -> None:
    ent = cypher.create_entities("Person")
    assert "CREATE (:Entity:`Person` {id: row.id," in ent
    assert "WHERE x IS NULL" in ent  # created only where missing, unless the caller knows
    assert "OPTIONAL MATCH" not in cypher.create_entities("Person", known_missing=True)
    assert "SET e:`Person`" in cypher.add_entity_label("Person")
    rel = cypher.merge_relations("WORKS_AT")
    assert "MERGE (a)-[r:`WORKS_AT`]->(b)" in rel
    with pytest.raises(ValueError):
        cypher.merge_relations("WORKS_AT]->(b) DETACH DELETE b //")
    with pytest.raises(ValueError):
        cypher.create_entities("Person SET e.x = 1")


def test_all_statements_are_parameterised() -> None:
    # values only ever arrive as $parameters: no string literals inside the statements
    statements = [getattr(cypher, n) for n in dir(cypher) if n.isupper()]
    flat = [s for s in statements if isinstance(s, str)]
    flat += list(cypher.SCHEMA) + list(cypher.COUNTS.values())
    flat += [
        cypher.create_entities("Person"),
        cypher.merge_relations("WORKS_AT"),
        cypher.add_entity_label("Person"),
    ]
    for stmt in flat:
        assert "'" not in stmt and '"' not in stmt, stmt


def test_chained_builders_read_their_own_parameter() -> None:
    stmt = cypher.chain(
        [cypher.create_entities("Person", "rows0"), cypher.merge_relations("WORKS_AT", "rows1")]
    )
    assert stmt.count("WITH count(*) AS done") == 1
    assert "UNWIND $rows0 AS row" in stmt and "UNWIND $rows1 AS row" in stmt
    assert "$rows " not in stmt
    with pytest.raises(ValueError):
        cypher.add_entity_label("Person", "rows AS row DETACH DELETE e //")
