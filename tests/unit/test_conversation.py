"""Follow-ups are rewritten from the conversation; SSE pieces and message parts are exact."""

from __future__ import annotations

import json

from kgrag.api.openai_chat import Message
from kgrag.api.sse import event, word_pieces
from kgrag.conversation import Turn, standalone_question
from kgrag.prompts import Prompts
from kgrag.settings import Settings
from tests.unit.fake_openai import ScriptedOpenAI

PROMPTS = Prompts.load(Settings().prompts_dir)


def test_first_question_is_used_as_is_without_an_llm_call():
    llm = ScriptedOpenAI([])
    assert standalone_question(llm.chat_model(), PROMPTS, [], "Who founded Acme?") == (
        "Who founded Acme?"
    )
    assert llm.requests == []


def test_follow_up_is_rewritten_from_the_earlier_turns():
    llm = ScriptedOpenAI([json.dumps({"question": "Where is Acme located?"})])
    history = [
        Turn(role="system", content="be nice"),
        Turn(role="user", content="Who founded Acme?"),
        Turn(role="assistant", content="Ann founded Acme."),
    ]
    rewritten = standalone_question(llm.chat_model(), PROMPTS, history, "And where is it?")
    assert rewritten == "Where is Acme located?"
    prompt = llm.requests[0]["messages"][-1]["content"]
    assert "user: Who founded Acme?" in prompt and "assistant: Ann founded Acme." in prompt
    assert "And where is it?" in prompt and "be nice" not in prompt


def test_word_pieces_join_back_exactly():
    for text in ["Bergen", "the University of Bergen.", "a  b", " lead", "서울에서 태어났다."]:
        assert "".join(word_pieces(text)) == text
    assert word_pieces("the University of Bergen") == ["the", " University", " of", " Bergen"]


def test_sse_event_format():
    assert event({"a": "서울"}, "token") == 'event: token\ndata: {"a": "서울"}\n\n'
    assert event([1]) == "data: [1]\n\n"


def test_message_text_from_content_parts():
    parts = [{"type": "text", "text": "Who "}, {"type": "image_url"}, {"type": "text", "text": "?"}]
    assert Message(role="user", content=parts).text() == "Who ?"
    assert Message(role="user", content=None).text() == ""
