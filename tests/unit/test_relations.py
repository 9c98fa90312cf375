"""Relationship linking: question phrases find the relationship types of the default schema."""

from __future__ import annotations

import pytest

from kgrag.embed import SentenceEmbedder
from kgrag.retrieve.relations import RelationLinker, relation_words
from kgrag.schema import GraphSchema
from kgrag.settings import Settings

CASES = [
    ("Who is the founder of Acme?", "FOUNDED"),
    ("Who founded the Nordic Ocean Fund?", "FOUNDED"),
    ("Where was Ann born?", "BORN_IN"),
    ("What is the birthplace of Ann?", "BORN_IN"),
    ("Where is Acme headquartered?", "LOCATED_IN"),
    ("Where did she study?", "STUDIED_AT"),
    ("Who financed the buoy project?", "FUNDS"),
    ("Which company makes the Kelvin-7?", "PRODUCES"),
    ("Who works for Acme?", "WORKS_FOR"),
]


@pytest.fixture(scope="module")
def linker() -> RelationLinker:
    settings = Settings()
    schema = GraphSchema.from_file(settings.schema_path)
    names = {r.name: list(r.aliases) for r in schema.relationship_types}
    return RelationLinker(names, SentenceEmbedder(), threshold=settings.relation_link_threshold)


@pytest.mark.parametrize(("question", "expected"), CASES)
def test_question_links_the_relationship_it_asks_about(linker, question, expected):
    linked = linker.link(question)
    assert linked and linked[0].type == expected, [r.model_dump() for r in linked]


@pytest.mark.parametrize("question", ["What is Acme?", "Tell me about Berlin.", "When?"])
def test_questions_naming_no_relationship_link_none(linker, question):
    assert linker.link(question) == []


def test_aliases_link_to_their_type():
    linker = RelationLinker({"LEADS": ["CEO_OF"]}, SentenceEmbedder(), threshold=0.6)
    assert [r.type for r in linker.link("Who is the CEO of Acme?")] == ["LEADS"]
    assert relation_words("CEO_OF") == "ceo of"
