"""Answers cite the passages the LLM used; unsupported questions get 'I don't know'."""

import json

from kgrag.answer import NO_ANSWER, AnswerWriter
from kgrag.prompts import Prompts
from kgrag.settings import REPO_ROOT
from kgrag.types import Evidence, RetrievedContext, Triple
from tests.unit.fake_openai import ScriptedOpenAI

PROMPTS = Prompts.load(REPO_ROOT / "prompts")
CONTEXT = RetrievedContext(
    question="Where was the designer of the buoy born?",
    triples=[
        Triple(
            subject="Tomas Reyes",
            predicate="BORN_IN",
            object="Valparaíso",
            source_chunks=["b:p1:0"],
        )
    ],
    evidence=[
        Evidence(
            chunk_id="a:p2:0",
            document_id="a",
            document_title="Handbook",
            page=2,
            text="The buoy was designed by Tomas Reyes. He leads a project.",
            via="graph",
        ),
        Evidence(
            chunk_id="b:p1:0",
            document_id="b",
            document_title="People",
            page=1,
            text="Intro. Tomas Reyes was born in Valparaíso, Chile.",
            via="graph",
        ),
    ],
)


def _answer(reply: dict, context: RetrievedContext = CONTEXT, *verdicts: bool):
    """`verdicts`: the verifier's replies in turn (one when not given: supported)."""
    replies = [json.dumps({"supported": v}) for v in verdicts or (True,)]
    llm = ScriptedOpenAI([json.dumps(reply), *replies])
    return AnswerWriter(llm.chat_model(), PROMPTS).answer(context), llm.requests


def test_citations_come_from_the_cited_passages_with_a_quote():
    answer, requests = _answer(
        {"answer": "Valparaíso", "evidence": [2, 1, 2, 9], "supported": True}
    )
    assert answer.supported and answer.text == "Valparaíso"
    assert [(c.document, c.page) for c in answer.citations] == [("People", 2 - 1), ("Handbook", 2)]
    assert answer.citations[0].quote == "Tomas Reyes was born in Valparaíso, Chile."
    prompt = requests[0]["messages"][-1]["content"]
    assert "[2] (People, page 1)" in prompt and "Tomas Reyes -[BORN_IN]-> Valparaíso" in prompt


def test_unsupported_answer_becomes_i_dont_know():
    answer, _ = _answer({"answer": "Probably Lima", "evidence": [], "supported": False})
    assert answer.text == NO_ANSWER and not answer.supported and answer.citations == []


def test_no_evidence_does_not_call_the_llm():
    empty = RetrievedContext(question="Anything?")
    answer, requests = _answer({"answer": "x", "evidence": [], "supported": True}, empty)
    assert answer.text == NO_ANSWER and requests == []


def test_answer_the_cited_passages_do_not_state_is_withheld():
    reply = {"answer": "Tomas Reyes runs the fund", "evidence": [1], "supported": True}
    answer, requests = _answer(reply, CONTEXT, False, False)
    assert answer.text == NO_ANSWER and not answer.supported
    assert answer.trace["unverified_answer"] == "Tomas Reyes runs the fund"
    check = requests[1]["messages"][-1]["content"]
    assert "Answer: Tomas Reyes runs the fund" in check and "[1] (Handbook, page 2)" in check
    assert "People" not in check  # first only the cited passage is checked
    recheck = requests[2]["messages"][-1]["content"]  # then those naming Tomas Reyes: refused
    assert "(Handbook, page 2)" in recheck and "(People, page 1)" in recheck


def test_a_multi_hop_answer_citing_one_hop_is_checked_against_the_passages_stating_it():
    reply = {"answer": "Tomas Reyes was born in Valparaíso", "evidence": [1], "supported": True}
    answer, requests = _answer(reply, CONTEXT, False, True)
    assert answer.supported and answer.text == "Tomas Reyes was born in Valparaíso"
    assert [(c.document, c.page) for c in answer.citations] == [("Handbook", 2), ("People", 1)]
    assert answer.trace["verified"] and answer.trace["verified_against"]
    recheck = requests[2]["messages"][-1]["content"]
    assert "(Handbook, page 2)" in recheck and "(People, page 1)" in recheck


def test_no_second_check_when_no_other_passage_states_the_answer():
    reply = {"answer": "Valparaíso, Chile", "evidence": [2], "supported": True}
    answer, requests = _answer(reply, CONTEXT, False)
    assert not answer.supported and len(requests) == 2


def test_quote_from_a_sentence_window_has_the_chunk_offsets():
    chunk = "부표는 바다에 뜬다.레예스는 서울에서 일했다.그는 칠레에서 태어났다.날씨는 맑다."
    start = chunk.index("레예스는")
    end = chunk.index("날씨는")
    window = Evidence(
        chunk_id="k:p1:0", document_id="k", document_title="노트", page=1,
        text=chunk[start:end], start=start, end=end, via="graph",
    )  # fmt: skip
    context = RetrievedContext(question="레예스는 어디에서 태어났나?", evidence=[window])
    answer, requests = _answer(
        {"answer": "칠레에서 태어났다", "evidence": [1], "supported": True}, context
    )
    (citation,) = answer.citations
    assert citation.quote == "그는 칠레에서 태어났다."
    assert chunk[citation.start : citation.end] == citation.quote
    assert (
        "[1] (노트, page 1)\n레예스는 서울에서 일했다.그는 칠레에서 태어났다."
        in requests[0]["messages"][-1]["content"]
    )


def test_short_mode_asks_for_the_bare_answer_span():
    llm = ScriptedOpenAI(
        [json.dumps({"answer": "Valparaíso", "evidence": [2], "supported": True})] * 2
    )
    long_writer = AnswerWriter(llm.chat_model(), PROMPTS, verify=False)
    short_writer = AnswerWriter(llm.chat_model(), PROMPTS, verify=False, short=True)
    long_writer.answer(CONTEXT)
    short_writer.answer(CONTEXT)
    long_system, short_system = (r["messages"][0]["content"] for r in llm.requests)
    assert long_system == PROMPTS.render("answer_system")
    assert short_system == PROMPTS.render("answer_short_system") != long_system
    assert llm.requests[0]["messages"][1:] == llm.requests[1]["messages"][1:]
