"""Schema discovery: what types does the LLM find when no schema constrains it?

`build_report` turns schema-free extractions into a DiscoveryReport: every node and
relationship type with counts, examples and their source chunks, observed patterns, and
near-duplicate type names (same normalised key, similar spelling, similar meaning).
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel
from rapidfuzz import fuzz

from kgrag.errors import ConfigError
from kgrag.ingest.extract import GraphExtractor, extraction_budget
from kgrag.ingest.pipeline import IngestPipeline, expand_paths
from kgrag.runtime import Runtime
from kgrag.type_names import node_type_key, relationship_key, upper_snake, words
from kgrag.types import Chunk, ExtractedGraph, IngestResult

EmbedFn = Callable[[list[str]], np.ndarray]
Kind = Literal["node", "relationship"]
MAX_EXAMPLES = 5
SPELLING_THRESHOLD = 88.0  # rapidfuzz ratio of the lower-case words


class Example(BaseModel):
    text: str  # an entity name, or "(source)-[TYPE]->(target)"
    chunk_id: str


class TypeStat(BaseModel):
    name: str  # as the LLM wrote it
    count: int
    examples: list[Example] = []


class PatternStat(BaseModel):
    source_type: str
    type: str
    target_type: str
    count: int


class NearDuplicate(BaseModel):
    """Two type names that may mean the same. `inverse`: one is the passive of the other
    (FOUNDED / FOUNDED_BY), listed but never merged since their directions differ."""

    kind: Kind
    a: str
    b: str
    method: Literal["same_key", "inverse", "spelling", "embedding"]
    score: float  # 1.0 for same_key/inverse, spelling ratio or cosine otherwise
    cosine: float | None = None  # meaning similarity of the names, when embeddings were used


class DiscoveryReport(BaseModel):
    sources: list[str]
    chunks_total: int
    chunks_sampled: int
    node_types: list[TypeStat]
    relationship_types: list[TypeStat]
    patterns: list[PatternStat]
    near_duplicates: list[NearDuplicate]
    similarity_threshold: float

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> DiscoveryReport:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


def sample_chunks(chunks: list[Chunk], n: int | None, seed: int = 0) -> list[Chunk]:
    """Up to `n` chunks drawn at random (reproducibly), kept in document order."""
    if n is None or n >= len(chunks):
        return list(chunks)
    picked = set(random.Random(seed).sample(range(len(chunks)), n))
    return [c for i, c in enumerate(chunks) if i in picked]


def build_report(
    graphs: list[ExtractedGraph],
    *,
    sources: list[str],
    chunks_total: int,
    embed: EmbedFn | None,
    similarity_threshold: float,
) -> DiscoveryReport:
    node_counts: Counter[str] = Counter()
    rel_counts: Counter[str] = Counter()
    pattern_counts: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[Kind, str], list[Example]] = defaultdict(list)

    def note(kind: Kind, name: str, text: str, chunk_id: str) -> None:
        found = examples[(kind, name)]
        if len(found) < MAX_EXAMPLES and all(e.text != text for e in found):
            found.append(Example(text=text, chunk_id=chunk_id))

    for graph in graphs:
        listed = {(n.name, n.type) for n in graph.nodes}
        endpoints = [
            (name, type_)
            for r in graph.relationships
            for name, type_ in ((r.source, r.source_type), (r.target, r.target_type))
            if (name, type_) not in listed
        ]
        for name, type_ in [(n.name, n.type) for n in graph.nodes] + list(dict.fromkeys(endpoints)):
            if type_.strip():
                node_counts[type_] += 1
                note("node", type_, name, graph.chunk_id)
        for rel in graph.relationships:
            if not rel.type.strip():
                continue
            rel_type = upper_snake(rel.type)
            rel_counts[rel_type] += 1
            pattern_counts[(rel.source_type, rel_type, rel.target_type)] += 1
            note(
                "relationship",
                rel_type,
                f"({rel.source})-[{rel_type}]->({rel.target})",
                graph.chunk_id,
            )

    def stats(kind: Kind, counts: Counter[str]) -> list[TypeStat]:
        return [
            TypeStat(name=name, count=count, examples=examples[(kind, name)])
            for name, count in counts.most_common()
        ]

    return DiscoveryReport(
        sources=sources,
        chunks_total=chunks_total,
        chunks_sampled=len(graphs),
        node_types=stats("node", node_counts),
        relationship_types=stats("relationship", rel_counts),
        patterns=[
            PatternStat(source_type=s, type=r, target_type=t, count=n)
            for (s, r, t), n in pattern_counts.most_common()
        ],
        near_duplicates=near_duplicates("node", list(node_counts), embed, similarity_threshold)
        + near_duplicates("relationship", list(rel_counts), embed, similarity_threshold),
        similarity_threshold=similarity_threshold,
    )


def near_duplicates(
    kind: Kind, names: list[str], embed: EmbedFn | None, threshold: float
) -> list[NearDuplicate]:
    """Pairs of type names that probably mean the same, strongest evidence first."""
    key = node_type_key if kind == "node" else relationship_key
    phrases = [" ".join(words(n)) for n in names]
    vectors = embed(phrases) if embed and len(names) > 1 else None
    found: list[NearDuplicate] = []
    for i, j in itertools.combinations(range(len(names)), 2):
        a, b = names[i], names[j]
        cosine = round(float(vectors[i] @ vectors[j]), 3) if vectors is not None else None
        method, score = _evidence(kind, a, b, phrases[i], phrases[j], key, cosine, threshold)
        if method:
            found.append(
                NearDuplicate(kind=kind, a=a, b=b, method=method, score=score, cosine=cosine)
            )
    order = {"same_key": 0, "inverse": 1, "spelling": 2, "embedding": 3}
    return sorted(found, key=lambda d: (order[d.method], -d.score))


def _evidence(
    kind: Kind,
    a: str,
    b: str,
    phrase_a: str,
    phrase_b: str,
    key: Callable[[str], str],
    cosine: float | None,
    threshold: float,
) -> tuple[str | None, float]:
    ka, kb = key(a), key(b)
    if ka == kb:
        return "same_key", 1.0
    if kind == "relationship" and (ka == f"{kb}_BY" or kb == f"{ka}_BY"):
        return "inverse", 1.0
    spelling = fuzz.ratio(phrase_a, phrase_b)
    if spelling >= SPELLING_THRESHOLD:
        return "spelling", round(spelling / 100, 3)
    if cosine is not None and cosine >= threshold:
        return "embedding", cosine
    return None, 0.0


def run_discovery(
    rt: Runtime,
    paths: list[Path],
    *,
    sample: int | None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[DiscoveryReport, list[IngestResult]]:
    """Schema-free extraction over a sample of the files' chunks; nothing is stored."""
    pipeline = IngestPipeline(rt)
    chunks, failed = pipeline.read_chunks(paths)
    if not chunks:
        reasons = "".join(f"\n  - {f.source}: {f.error}" for f in failed)
        raise ConfigError(f"no readable text in the given paths: nothing to discover from{reasons}")
    picked = sample_chunks(chunks, sample, seed)
    extractor = GraphExtractor(
        rt.chat_model, None, rt.prompts, budget=partial(extraction_budget, rt.settings)
    )
    done = 0

    def on_done(_: Chunk) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(picked))

    graphs = extractor.extract_all(picked, concurrency=rt.settings.llm_parallel, on_done=on_done)
    report = build_report(
        graphs,
        sources=[str(p) for p in expand_paths(paths) if str(p) not in {f.source for f in failed}],
        chunks_total=len(chunks),
        embed=rt.embedder.embed,
        similarity_threshold=rt.settings.schema_similar_threshold,
    )
    return report, failed
