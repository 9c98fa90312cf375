"""Markdown-header chunker: one chunk per heading section, header path kept as `section`.

ATX headings (`#` to `######`) outside fenced code blocks start a section; the path of open
headings ("Guide > Install > Linux") carries over page breaks. A heading with no body joins the
section after it; a section longer than chunk_size is split recursively (same path).
"""

from __future__ import annotations

import re

from kgrag.ingest.chunking.spans import make_chunk, recursive_spans, trim
from kgrag.types import Chunk, Document

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_FENCE = re.compile(r"^ {0,3}(?:```|~~~)", re.MULTILINE)

PATH_SEPARATOR = " > "


def markdown_chunks(doc: Document, *, size: int, overlap: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    path: list[tuple[int, str]] = []  # (level, title) of the open headings
    for page in doc.pages:
        text = page.text
        headings = _headings(text)
        sections: list[tuple[int, str | None]] = [(0, _joined(path))]  # (start, header path)
        joining = False  # the section so far is only headings: the next one joins it
        for i, heading in enumerate(headings):
            level = len(heading.group(1))
            path = [(lvl, title) for lvl, title in path if lvl < level]
            path.append((level, heading.group(2).strip()))
            start = heading.start() if not joining else sections.pop()[0]
            sections.append((start, _joined(path)))
            body_end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
            joining = not text[heading.end() : body_end].strip()
        ends = [start for start, _ in sections[1:]] + [len(text)]
        for (start, section), end in zip(sections, ends, strict=True):
            span = trim(text, start, end)
            if span:
                for piece in recursive_spans(text[span[0] : span[1]], size, overlap, span[0]):
                    chunks.append(make_chunk(doc, page, piece, section))
    return chunks


def _headings(text: str) -> list[re.Match[str]]:
    """Heading lines, in order, skipping those inside fenced code blocks."""
    fences = [m.start() for m in _FENCE.finditer(text)]
    return [m for m in _HEADING.finditer(text) if sum(f < m.start() for f in fences) % 2 == 0]


def _joined(path: list[tuple[int, str]]) -> str | None:
    return PATH_SEPARATOR.join(title for _, title in path) or None
