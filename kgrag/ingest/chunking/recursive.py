"""Recursive chunker (the default): paragraphs, then lines, then words, up to chunk_size."""

from __future__ import annotations

from kgrag.ingest.chunking.spans import make_chunk, recursive_spans
from kgrag.types import Chunk, Document


def recursive_chunks(doc: Document, *, size: int, overlap: int) -> list[Chunk]:
    """Each page on its own, so every chunk has one page and exact page offsets."""
    return [
        make_chunk(doc, page, span)
        for page in doc.pages
        for span in recursive_spans(page.text, size, overlap)
    ]
