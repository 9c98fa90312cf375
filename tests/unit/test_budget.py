"""Context budget: conservative token estimates, best items kept whole, every drop traced."""

import pytest

from kgrag.errors import ConfigError
from kgrag.prompts import Prompts
from kgrag.retrieve.budget import answer_budget, estimate_tokens, fit
from kgrag.settings import REPO_ROOT
from kgrag.types import Evidence, RetrievedContext, Triple

PROMPTS = Prompts.load(REPO_ROOT / "prompts")


def _evidence(chunk_id: str, score: float, text: str = "Ann works at Acme in Berlin. " * 4):
    return Evidence(
        chunk_id=chunk_id, document_id="d", document_title="Doc", page=1, text=text,
        score=score, via="graph",
    )  # fmt: skip


def _context(evidence: list[Evidence], triples: int = 5, rows: int = 0) -> RetrievedContext:
    return RetrievedContext(
        question="Where does Ann work?",
        triples=[Triple(subject=f"S{i}", predicate="P", object=f"O{i}") for i in range(triples)],
        cypher_rows=[{"name": f"row {i}"} for i in range(rows)],
        evidence=evidence,
        trace={"strategies": ["graph"]},
    )


def _cost(context: RetrievedContext) -> int:
    """Tokens of everything in the context (a limit this size keeps it all)."""
    return fit(context, 10**6).trace["budget"]["estimated_tokens"]


@pytest.mark.parametrize(
    ("text", "at_least"),
    [
        ("", 0),
        ("Ann works at Acme.", 18 / 4),  # English: about 4 characters per token
        ("서울은 한국의 수도이다.", 10),  # every Hangul syllable at least one token
        ("東京は日本の首都です。", 11),
        ("2024-03-15", 8),  # every digit one token
    ],
)
def test_estimates_are_conservative(text, at_least):
    assert estimate_tokens(text) >= at_least


def test_a_tiny_budget_keeps_the_best_items_whole():
    evidence = [_evidence("a", 0.9), _evidence("b", 0.2), _evidence("c", 0.6)]
    context = _context(evidence)
    everything = _cost(context)
    one_passage = _cost(_context([_evidence("x", 0.0)], triples=0)) - estimate_tokens(
        context.question
    )
    fitted = fit(context, everything - one_passage)
    assert [e.chunk_id for e in fitted.evidence] == ["a", "c"]
    assert [e.text for e in fitted.evidence] == [e.text for e in evidence if e.chunk_id != "b"]
    assert [t.subject for t in fitted.triples] == ["S0", "S1", "S2"]  # the first few outrank "b"
    budget = fitted.trace["budget"]
    assert [(d["kind"], d.get("chunk_id") or d.get("fact")) for d in budget["dropped"]] == [
        ("evidence", "b"),
        ("triple", "S3 -[P]-> O3"),
        ("triple", "S4 -[P]-> O4"),
    ]
    assert budget["estimated_tokens"] <= budget["limit_tokens"] == everything - one_passage
    assert fitted.trace["strategies"] == ["graph"]  # the rest of the trace is kept


def test_korean_passages_are_budgeted_by_the_syllable():
    english = _evidence("en", 0.9, "Ann works at Acme. " * 6)  # 114 characters
    korean = _evidence("ko", 0.9, "앤은 베를린 에이크미에서 일한다. " * 6)  # 114 characters
    assert len(english.text) == len(korean.text)
    assert _cost(_context([korean], 0)) > 1.5 * _cost(_context([english], 0))
    limit = _cost(_context([english], 0))
    assert [e.chunk_id for e in fit(_context([english], 0), limit).evidence] == ["en"]
    assert fit(_context([korean], 0), limit).evidence == []


@pytest.mark.parametrize("limit", [0, 10, 40, 80, 120, 200, 400, 10**6])
def test_every_item_is_kept_or_traced_as_dropped(limit):
    evidence = [_evidence(c, s) for c, s in (("a", 0.3), ("b", 0.8), ("c", 0.5), ("d", 0.1))]
    context = _context(evidence, triples=6, rows=5)
    fitted = fit(context, limit)
    dropped = fitted.trace["budget"]["dropped"]
    kinds = [d["kind"] for d in dropped]
    assert len(fitted.evidence) + kinds.count("evidence") == 4
    assert len(fitted.triples) + kinds.count("triple") == 6
    assert len(fitted.cypher_rows) + kinds.count("cypher_row") == 5
    kept = {e.chunk_id for e in fitted.evidence}
    assert kept | {d["chunk_id"] for d in dropped if d["kind"] == "evidence"} == set("abcd")
    # passages go lowest score first: a kept passage outscores every dropped one
    dropped_scores = [d["score"] for d in dropped if d["kind"] == "evidence"]
    assert all(e.score > s for e in fitted.evidence for s in dropped_scores)
    question = estimate_tokens(context.question)  # counted even when nothing else fits
    assert fitted.trace["budget"]["estimated_tokens"] <= max(limit, question)


def test_the_answer_budget_leaves_room_for_the_prompt_and_the_answer():
    budget = answer_budget(PROMPTS, context_tokens=8192, answer_tokens=1536)
    template = PROMPTS.render("answer_system") + PROMPTS.render(
        "answer_user", question="", facts="", evidence=""
    )
    assert 0 < budget <= 8192 - 1536 - estimate_tokens(template)
    with pytest.raises(ConfigError, match="llm_context \\(1024\\) leaves no room"):
        answer_budget(PROMPTS, context_tokens=1024, answer_tokens=1024)
