"""QA items from document structure (MISSION.md step 7), for `kgrag eval` on your own files:

- a section title becomes a question whose answer context is the section ("How to X" titles
  become "How do I x?", others "What does <document> say about <title>?");
- a definition sentence ("A buoy is a floating device …") becomes "What is a buoy?";
- a numbered procedure under a title becomes "How do I <title>?" with its steps as the answer.

Each item keeps its document title and page, so retrieval recall can be scored. Rules only,
no LLM: the questions are plain but reproducible.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel

from kgrag.sentences import split_sentences
from kgrag.types import Document

_HEADER = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_STEP = re.compile(r"^\s*\d+[.)]\s+\S")
_DEFINITION = re.compile(
    r"^(?P<term>(?:(?:An?|The)\s+)?[A-Z\uac00-\ud7a3][\w\-’' ]{0,60}?)\s+(?:is|are)\s+"
    r"(?P<what>(?:a|an|the|one of)\s.+)$"
)
_HOW_TO = re.compile(r"^how\s+to\s+(?P<rest>.+)$", re.IGNORECASE)
MIN_SECTION_CHARS = 40


class GeneratedQA(BaseModel):
    """One generated item, in the JSONL shape `kgrag eval` reads (plus where it came from)."""

    question: str
    answers: list[str]
    supporting_titles: list[str]
    kind: str  # "section" | "definition" | "procedure"
    document: str
    page: int


def generate(doc: Document) -> list[GeneratedQA]:
    """Every section, definition and procedure item of one document, in reading order."""
    items: list[GeneratedQA] = []
    for page in doc.pages:
        for title, body in _sections(page.text):
            items.extend(_from_section(doc, page.number, title, body))
        for sentence in _sentences(page.text):
            match = _DEFINITION.match(sentence)
            if match:
                term = match.group("term").strip()
                items.append(
                    _item(
                        doc, page.number, f"What is {_lower_article(term)}?", sentence, "definition"
                    )  # fmt: skip
                )
    return list({i.question: i for i in items}.values())  # one item per question


def _from_section(doc: Document, page: int, title: str, body: str) -> Iterator[GeneratedQA]:
    steps = [line.strip() for line in body.splitlines() if _STEP.match(line)]
    how_to = _HOW_TO.match(title)
    if len(steps) >= 2:
        task = how_to.group("rest") if how_to else title
        yield _item(doc, page, f"How do I {_lower_first(task)}?", "\n".join(steps), "procedure")
    elif len(body) >= MIN_SECTION_CHARS:
        question = (
            f"How do I {_lower_first(how_to.group('rest'))}?"
            if how_to
            else f"What does {doc.title} say about {title}?"
        )
        yield _item(doc, page, question, body, "section")


def _sections(text: str) -> Iterator[tuple[str, str]]:
    """(title, body) of every Markdown section; the body stops at the next header."""
    title, body = None, []
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            if title is not None:
                yield title, "\n".join(body).strip()
            title, body = header.group(2), []
        elif title is not None:
            body.append(line)
    if title is not None:
        yield title, "\n".join(body).strip()


def _sentences(text: str) -> Iterator[str]:
    prose = "\n".join(line for line in text.splitlines() if not _HEADER.match(line))
    for start, end in split_sentences(prose):
        yield prose[start:end].strip()


def _item(doc: Document, page: int, question: str, answer: str, kind: str) -> GeneratedQA:
    return GeneratedQA(
        question=question,
        answers=[answer],
        supporting_titles=[doc.title],
        kind=kind,
        document=doc.title,
        page=page,
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _lower_article(term: str) -> str:
    return re.sub(r"^(An?|The)\b", lambda m: m.group(1).lower(), term)
