"""Sentence splitting with exact character offsets, for English and Korean text.

Rule-based, no model: a sentence ends at `.`, `!`, `?`, `…` (then optional closing quotes or
brackets) followed by whitespace, at a CJK full stop `。！？` with or without a space, after a
Hangul syllable (`다.`, `요?`, `니다.`) even with no space, at a blank line, and before a line
that starts a list item or heading. When in doubt it does not split (abbreviations such as
"Dr." or "e.g.", initials, decimals like "3.5", list numbers, a lowercase or digit after the
period): a merged sentence only widens a window, a wrong split would cut one.
"""

from __future__ import annotations

import re

Span = tuple[int, int]  # [start, end) character offsets; text[start:end] is the sentence

_CLOSERS = "\"'”’)]」』"
_END = re.compile(rf"[.!?。！？…]+[{re.escape(_CLOSERS)}]*")
_BREAK = re.compile(r"\n[ \t]*\n|\n(?=[ \t]*(?:[-*•·▪◦]|#{1,6}|\d{1,3}[.)])[ \t])")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_WORD_BEFORE = re.compile(r"[\w.]*$")
_DOTTED = re.compile(r"(?:[A-Za-z]{1,3}\.)+[A-Za-z]{1,3}")  # U.S, e.g, Ph.D, a.m
_NEVER_ENDS = frozenset(
    "mr mrs ms dr prof sr jr st mt rev gen col capt lt sgt gov sen hon "
    "cf vs fig figs eq ch sec vol pp approx ca al".split()
)


def split_sentences(text: str) -> list[Span]:
    """Spans of the sentences of `text`, in order, without surrounding whitespace."""
    cuts = {m.end() for m in _END.finditer(text) if _ends_sentence(text, m)}
    cuts |= {m.start() for m in _BREAK.finditer(text)}
    spans: list[Span] = []
    start = 0
    for cut in [*sorted(cuts), len(text)]:
        piece = text[start:cut]
        if piece.strip():
            begin = start + len(piece) - len(piece.lstrip())
            spans.append((begin, start + len(piece.rstrip())))
        start = cut
    return spans


def _ends_sentence(text: str, mark: re.Match[str]) -> bool:
    end = mark.end()
    if end == len(text) or any(c in "。！？" for c in mark.group()):
        return True
    if not text[end].isspace() and mark.group()[-1] in _CLOSERS:
        return False  # a quotation the sentence goes on after: “출발한다.”라고 말했다
    before = text[max(0, mark.start() - 64) : mark.start()]  # enough for the word and line
    if before and _is_hangul(before[-1]) and mark.group()[0] in ".?!":
        return True  # Korean endings, spaced or not: 다. 요? 니다.
    if not text[end].isspace():
        return False  # 3.5, e.g, example.com
    word = _WORD_BEFORE.search(before).group()  # type: ignore[union-attr]
    if word.lower() in _NEVER_ENDS or _DOTTED.fullmatch(word):
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: J. K. Rowling
    if (word.isdigit() or len(word) == 1) and not before[: -len(word)].split("\n")[-1].strip():
        return False  # a list number at the start of a line: "1. Install"
    following = text[end:].lstrip()[:1]
    return not (following.islower() or following.isdigit())


def _is_hangul(char: str) -> bool:
    return bool(_HANGUL.match(char))
