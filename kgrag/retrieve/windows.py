"""Sentence windows: narrow each evidence chunk to its anchor sentences ± n neighbours.

Anchors are the sentences naming a linked entity, or (for a chunk a triple cites) the triple's
subject or object, by name or alias. A vector-found chunk also anchors on the sentence most
similar to the question; a chunk whose text names none of them falls back to that sentence
alone. Overlapping or adjacent windows of one chunk merge into one passage; every passage keeps
its chunk id and its offsets within the chunk, so its text is the chunk's text[start:end].
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from kgrag.ports import Embedder
from kgrag.sentence_vectors import SentenceVectors
from kgrag.sentences import Span, split_sentences
from kgrag.types import Evidence, LinkedEntity, Triple


class SentenceWindows:
    """Cuts evidence chunks down to windows of `n` sentences around their anchors."""

    def __init__(
        self,
        embedder: Embedder,
        surfaces: Mapping[str, Collection[str]],
        n: int,
        stored: SentenceVectors | None = None,
    ) -> None:
        """`surfaces`: entity id -> its names and aliases (`EntityLinker.surfaces`);
        `stored`: sentence vectors made at ingest (a chunk without them is embedded here)."""
        if n < 0:
            raise ValueError(f"sentence window must be >= 0, not {n}")
        self.embedder = embedder
        self.surfaces = surfaces
        self.n = n
        self.stored = stored

    def narrow(
        self,
        evidence: list[Evidence],
        linked: list[LinkedEntity],
        triples: list[Triple],
        query: np.ndarray,
    ) -> tuple[list[Evidence], list[dict[str, Any]]]:
        """The windows of every chunk (best chunk first) and a trace entry per chunk."""
        names = self._names(evidence, linked, triples)
        sentences = {e.chunk_id: split_sentences(e.text) for e in evidence}
        anchors = {
            e.chunk_id: mentions(e.text, sentences[e.chunk_id], names[e.chunk_id]) for e in evidence
        }
        need = [e for e in evidence if e.via == "vector" or not anchors[e.chunk_id]]
        similar = self._most_similar(need, sentences, query)
        passages: list[Evidence] = []
        trace: list[dict[str, Any]] = []
        for item in evidence:
            spans = sentences[item.chunk_id]
            chosen = set(anchors[item.chunk_id])
            if item.chunk_id in similar:
                chosen.add(similar[item.chunk_id])
            windows = merge_windows(spans, chosen, self.n)
            passages += [
                item.model_copy(
                    update={"text": item.text[s:e], "start": item.start + s, "end": item.start + e}
                )
                for s, e in windows
            ]
            trace.append(
                {
                    "chunk_id": item.chunk_id,
                    "sentences": len(spans),
                    "named": sorted(anchors[item.chunk_id]),
                    "similar": similar.get(item.chunk_id),
                    "windows": [[item.start + s, item.start + e] for s, e in windows],
                }
            )
        return passages, trace

    def _names(
        self, evidence: list[Evidence], linked: list[LinkedEntity], triples: list[Triple]
    ) -> dict[str, set[str]]:
        """Names and aliases to look for, per chunk id."""
        cited: dict[str, set[str]] = defaultdict(set)
        for t in triples:
            for chunk_id in t.source_chunks:
                cited[chunk_id] |= {t.subject_id, t.object_id}
        ids = {e.entity_id for e in linked} | {i for ids in cited.values() for i in ids}
        surfaces: dict[str, set[str]] = defaultdict(set)
        for entity_id in ids:
            surfaces[entity_id].update(self.surfaces.get(entity_id, ()))
        for e in linked:
            surfaces[e.entity_id].add(e.name)
        for t in triples:
            surfaces[t.subject_id].add(t.subject)
            surfaces[t.object_id].add(t.object)
        everywhere = {s for e in linked for s in surfaces[e.entity_id]}
        return {
            item.chunk_id: everywhere | {s for i in cited[item.chunk_id] for s in surfaces[i]}
            for item in evidence
        }

    def _most_similar(
        self, evidence: list[Evidence], sentences: dict[str, list[Span]], query: np.ndarray
    ) -> dict[str, int]:
        """Index of the sentence most similar to the question, per chunk: stored vectors where
        they match the chunk's sentences, the rest embedded in one call."""
        kept = self.stored.get([e.chunk_id for e in evidence]) if self.stored else {}
        owners: list[tuple[str, int]] = []
        blocks: list[np.ndarray | None] = []  # None: that chunk's rows come from `texts`
        texts: list[str] = []
        for item in evidence:
            spans = sentences[item.chunk_id]
            owners += [(item.chunk_id, i) for i in range(len(spans))]
            block = kept.get(item.chunk_id)
            if block is not None and len(block) == len(spans):
                blocks.append(block)
            else:
                blocks.append(None)
                texts += [item.text[s:e] for s, e in spans]
        if not owners:
            return {}
        fresh = self.embedder.embed(texts) if texts else None
        used = 0
        for k, item in enumerate(evidence):
            if blocks[k] is None:
                count = len(sentences[item.chunk_id])
                blocks[k], used = fresh[used : used + count], used + count  # type: ignore[index]
        scores = np.concatenate(blocks) @ query  # type: ignore[arg-type]
        best: dict[str, int] = {}
        for k in np.argsort(-scores, kind="stable"):
            chunk_id, i = owners[k]
            best.setdefault(chunk_id, i)
        return best


def mentions(text: str, sentences: list[Span], names: set[str]) -> set[int]:
    """Indices of the sentences naming any of `names` (case-insensitive, whole words; a Korean
    particle may follow a name: 서울에서)."""
    names = {n for n in names if n.strip()}
    if not names:
        return set()
    pattern = re.compile(
        r"(?<!\w)(?:"
        + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        + r")(?![^\W\uac00-\ud7a3])",
        flags=re.IGNORECASE,
    )
    return {i for i, (s, e) in enumerate(sentences) if pattern.search(text, s, e)}


def merge_windows(sentences: list[Span], anchors: set[int], n: int) -> list[Span]:
    """Character spans of the anchors' windows (± n sentences), overlapping or adjacent merged."""
    ranges: list[list[int]] = []
    for a in sorted(anchors):
        lo, hi = max(0, a - n), min(len(sentences) - 1, a + n)
        if ranges and lo <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], hi)
        else:
            ranges.append([lo, hi])
    return [(sentences[lo][0], sentences[hi][1]) for lo, hi in ranges]
