"""Fixed-size chunker: windows of `size` characters or embedding-model tokens, `overlap` shared."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from kgrag.errors import ConfigError
from kgrag.ingest.chunking.spans import make_chunk, trim
from kgrag.sentences import Span
from kgrag.types import Chunk, Document

# text -> (start, end) character offsets of each token, in order
Tokenize = Callable[[str], list[Span]]


def fixed_chunks(
    doc: Document, *, size: int, overlap: int, tokenize: Tokenize | None = None
) -> list[Chunk]:
    """Character windows, or with `tokenize` windows of at most `size` tokens, never cutting
    inside a character that several tokens share (a Hangul syllable split into jamo)."""
    chunks = []
    for page in doc.pages:
        edges = tokenize(page.text) if tokenize else [(i, i + 1) for i in range(len(page.text))]
        for first, stop in _windows(edges, size, overlap):
            span = trim(page.text, edges[first][0], edges[stop - 1][1])
            if span:
                chunks.append(make_chunk(doc, page, span))
    return chunks


def _windows(edges: list[Span], size: int, overlap: int) -> list[tuple[int, int]]:
    """[first, stop) token ranges of at most `size`, sharing about `overlap` with the last."""

    def clean(k: int) -> bool:  # a cut before token k splits no character
        return k in (0, len(edges)) or edges[k][0] >= edges[k - 1][1]

    windows: list[tuple[int, int]] = []
    first = 0
    while first < len(edges):
        stop = min(first + size, len(edges))
        while stop > first + 1 and not clean(stop):
            stop -= 1
        windows.append((first, stop))
        if stop == len(edges):
            break
        first = max(stop - overlap, first + 1)
        while first < stop and not clean(first):
            first += 1
    return windows


@lru_cache(maxsize=4)
def embedder_tokenizer(model_dir: Path) -> Tokenize:
    """Token offsets from the embedding model's own `tokenizer.json` (no truncation)."""
    from tokenizers import Tokenizer

    path = model_dir / "tokenizer.json"
    if not path.is_file():
        raise ConfigError(
            f"chunk_unit tokens: {path} is missing (the embedding model has no fast tokenizer)"
        )
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def tokenize(text: str) -> list[Span]:
        return list(tokenizer.encode(text, add_special_tokens=False).offsets)

    return tokenize
