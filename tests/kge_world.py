"""A small world with a rule a KGE model can learn: a person is a citizen of the country of
the city they were born in. Some CITIZEN_OF facts are held out to test generalisation."""

from __future__ import annotations

from kgrag.types import Edge

COUNTRIES, CITIES_PER_COUNTRY, PEOPLE_PER_CITY = 8, 4, 5


def name(entity_id: str) -> str:
    """`person-3-1-0` -> `Person 3 1 0`."""
    return entity_id.replace("-", " ").capitalize()


def _edge(head: str, relation: str, tail: str, head_type: str, tail_type: str) -> Edge:
    return Edge(
        head=head,
        relation=relation,
        tail=tail,
        head_type=head_type,
        tail_type=tail_type,
        head_name=name(head),
        tail_name=name(tail),
    )


def world() -> tuple[list[Edge], list[Edge]]:
    """(training edges, held-out CITIZEN_OF edges): one held-out person per city."""
    edges: list[Edge] = []
    held_out: list[Edge] = []
    for c in range(COUNTRIES):
        country = f"country-{c}"
        for k in range(CITIES_PER_COUNTRY):
            city = f"city-{c}-{k}"
            edges.append(_edge(city, "LOCATED_IN", country, "City", "Country"))
            for p in range(PEOPLE_PER_CITY):
                person = f"person-{c}-{k}-{p}"
                edges.append(_edge(person, "BORN_IN", city, "Person", "City"))
                citizen = _edge(person, "CITIZEN_OF", country, "Person", "Country")
                (held_out if p == 0 else edges).append(citizen)
    return edges, held_out


def wrong_country(edge: Edge) -> str:
    """A country the person is not a citizen of (deterministic)."""
    c = int(edge.tail.split("-")[1])
    return f"country-{(c + 3) % COUNTRIES}"
