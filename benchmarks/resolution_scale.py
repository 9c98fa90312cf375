"""Entity resolution per document as the graph grows: against every stored entity (what ingest
did before known_names.py) vs against the candidates `KnownNames` finds in the entity index.

    python benchmarks/resolution_scale.py                    # 1k, 10k, 50k, 100k stored
    python benchmarks/resolution_scale.py --stored 20000 --new 40

Stored entities: made-up two-word names (synthetic_graph.py), the schema's types equally
often. A document: `--new` new names spread over three chunks, plus one variant, one typo
and one acronym-shaped name of stored entities so that merges happen. Vectors are random unit
vectors, one per distinct name (MiniLM cannot embed 100k names here in time); the entity
index is kgrag's `VectorIndex` with its default approximate threshold. Both paths resolve
with the same vectors, and the benchmark checks they produce the same entities. The store
read of the candidates (`entity_names(ids)`, one indexed lookup per id) is not included;
the old path's `entity_names()` of the whole graph is not either (2 s at 100k entities).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np
from synthetic_graph import entity_pool

from kgrag.ingest.known_names import KnownNames
from kgrag.ingest.resolve import resolve
from kgrag.retrieve.link import entity_index_key
from kgrag.settings import Settings
from kgrag.types import Entity, ExtractedGraph, ExtractedNode
from kgrag.vectors import VectorIndex

DIMENSION = 384


class NameVectors:
    """One random unit vector per distinct text, the same on every call."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)
        self.vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        for text in texts:
            if text not in self.vectors:
                v = self.rng.standard_normal(DIMENSION).astype("float32")
                self.vectors[text] = v / np.linalg.norm(v)
        return np.stack([self.vectors[t] for t in texts])


def document(pool: list[Entity], fresh: list[tuple[str, str]], rng: random.Random) -> list:
    """Chunk graphs naming the fresh names and three near-misses of stored ones."""
    a, b, c = rng.sample(pool, 3)
    names = (
        fresh
        + [
            (f"Dr. {a.name}", a.type),  # variant
            (b.name[:-1] + ("x" if b.name[-1] != "x" else "y"), b.type),  # typo
            ("".join(w[0] for w in c.name.split()).upper(), c.type),  # acronym-shaped
        ]
    )
    return [
        ExtractedGraph(
            chunk_id=f"c{k}", nodes=[ExtractedNode(name=n, type=t) for n, t in names[k::3]]
        )
        for k in range(3)
    ]


def outcome(graph) -> list[tuple]:
    return sorted((e.id, e.name, tuple(e.aliases)) for e in graph.entities)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, nargs="+", default=[1000, 10000, 50000, 100000])
    parser.add_argument("--new", type=int, default=80, help="new names per document")
    parser.add_argument("--documents", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    print("| stored entities | all stored, ms/doc | candidates, ms/doc | candidates/doc |"
          " catalogue built, s |")  # fmt: skip
    print("|---|---|---|---|---|")
    for n in args.stored:
        rng = random.Random(n)
        by_type = entity_pool(n + args.new * args.documents, rng)
        labelled = [(i, name, t) for t, items in by_type.items() for i, name in items]
        rng.shuffle(labelled)
        stored = [Entity(id=i, name=name, type=t) for i, name, t in labelled[:n]]
        fresh = [(name, t) for _, name, t in labelled[n:]]
        vectors = NameVectors()
        index = VectorIndex.empty(
            settings.data_dir / "unused",
            DIMENSION,
            approximate_min=settings.entity_index_approximate_min,
            nprobe=settings.entity_index_nprobe,
        )
        keys = [entity_index_key(e.id, e.name) for e in stored]
        index.add(keys, vectors.embed([e.name for e in stored]))
        known = KnownNames()
        start = time.perf_counter()
        known.candidates(index, [], None, settings.entity_merge_threshold)
        built = time.perf_counter() - start
        before, after, counts = [], [], []
        for d in range(args.documents):
            graphs = document(stored, fresh[d * args.new : (d + 1) * args.new], rng)
            threshold = settings.entity_merge_threshold
            start = time.perf_counter()
            old = resolve(graphs, known=stored, embed=vectors.embed, threshold=threshold)
            before.append(time.perf_counter() - start)
            start = time.perf_counter()
            names = [node.name for g in graphs for node in g.nodes]
            ids = known.candidates(index, names, vectors.embed, threshold)
            candidates = [e for e in stored if e.id in ids]  # the order breaks ties
            new = resolve(graphs, known=candidates, embed=vectors.embed, threshold=threshold)
            after.append(time.perf_counter() - start)
            counts.append(len(ids))
            if outcome(old) != outcome(new):
                raise SystemExit(f"{n} stored: the candidates resolve differently")
        print(
            f"| {n:,} | {1000 * statistics.median(before):,.0f} "
            f"| {1000 * statistics.median(after):,.1f} | {statistics.median(counts):.0f} "
            f"| {built:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
