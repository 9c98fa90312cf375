"""Helpers every chunker shares: spans of a page become Chunks with exact offsets and ids."""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from kgrag.sentences import Span
from kgrag.types import Chunk, Document, Page


def trim(text: str, start: int, end: int) -> Span | None:
    """The span without surrounding whitespace, or None when nothing but whitespace is left."""
    piece = text[start:end]
    if not piece.strip():
        return None
    return start + len(piece) - len(piece.lstrip()), end - (len(piece) - len(piece.rstrip()))


def recursive_spans(text: str, size: int, overlap: int, offset: int = 0) -> list[Span]:
    """Paragraphs, then lines, then words, then characters, packed up to `size` characters;
    spans are relative to the text `offset` is the start of."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, add_start_index=True
    )
    spans: list[Span] = []
    searched = 0
    for piece in splitter.create_documents([text]):
        start = piece.metadata["start_index"]
        if start < 0:  # the splitter could not locate the piece; find it ourselves
            start = text.find(piece.page_content, searched)
        searched = start + 1
        span = trim(text, start, start + len(piece.page_content))
        if span:
            spans.append((offset + span[0], offset + span[1]))
    return spans


def make_chunk(doc: Document, page: Page, span: Span, section: str | None = None) -> Chunk:
    """A chunk of `page`; its id names document, page and span, so the same id is always the
    same text (a new chunking never leaves a stale vector under an old id)."""
    start, end = span
    return Chunk(
        id=f"{doc.id}:p{page.number}:{start}-{end}",
        document_id=doc.id,
        page=page.number,
        start=start,
        end=end,
        text=page.text[start:end],
        section=section,
    )
