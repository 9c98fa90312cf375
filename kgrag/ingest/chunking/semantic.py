"""Semantic chunker: cut where the embeddings of consecutive sentences differ most.

Sentences come from kgrag.sentences (English and Korean); a sentence longer than chunk_size is
split recursively first. The cut threshold is a percentile of the document's distances
(1 - cosine) between consecutive sentences, so it adapts to the embedding model. A run of
sentences still longer than chunk_size is cut again at its largest distance until it fits.
"""

from __future__ import annotations

import numpy as np

from kgrag.ingest.chunking.spans import make_chunk, recursive_spans
from kgrag.ports import Embedder
from kgrag.sentences import Span, split_sentences
from kgrag.types import Chunk, Document


def semantic_chunks(
    doc: Document, *, size: int, embedder: Embedder, percentile: float
) -> list[Chunk]:
    units = [_units(page.text, size) for page in doc.pages]
    texts = [page.text[s:e] for page, spans in zip(doc.pages, units, strict=True) for s, e in spans]
    vectors = embedder.embed(texts)
    distances, row = [], 0
    for spans in units:
        v = vectors[row : row + len(spans)]
        distances.append(1.0 - np.sum(v[:-1] * v[1:], axis=1))
        row += len(spans)
    every = np.concatenate(distances)
    threshold = float(np.percentile(every, percentile)) if len(every) else 0.0
    chunks = []
    for page, spans, dist in zip(doc.pages, units, distances, strict=True):
        if not spans:
            continue  # a blank page
        cuts = [i + 1 for i, d in enumerate(dist) if d > threshold]
        for first, last in zip([0, *cuts], [*cuts, len(spans)], strict=True):
            for a, b in _fit(spans, dist, first, last, size):
                chunks.append(make_chunk(doc, page, (spans[a][0], spans[b - 1][1])))
    return chunks


def _units(text: str, size: int) -> list[Span]:
    """The page's sentences; one longer than `size` becomes its recursive pieces."""
    units: list[Span] = []
    for start, end in split_sentences(text):
        if end - start <= size:
            units.append((start, end))
        else:
            units += recursive_spans(text[start:end], size, 0, start)
    return units


def _fit(spans: list[Span], dist: np.ndarray, first: int, last: int, size: int) -> list[Span]:
    """Unit ranges [a, b) covering [first, last), each at most `size` characters long, cut at
    the largest distance inside a range that is too long."""
    if last - first == 1 or spans[last - 1][1] - spans[first][0] <= size:
        return [(first, last)]
    cut = first + 1 + int(np.argmax(dist[first : last - 1]))
    return _fit(spans, dist, first, cut, size) + _fit(spans, dist, cut, last, size)
