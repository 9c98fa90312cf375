"""Flat FAISS search time by batch size: FAISS's default path vs `VectorIndex.search` (a matrix
product from BLAS_MIN_QUERIES queries on). Entity linking searches a question's spans at once.

    python benchmarks/vector_search.py [--vectors 100000] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from kgrag.retrieve.link import question_spans
from kgrag.vectors import BLAS_MIN_QUERIES, VectorIndex

QUESTION = "Who founded the Northern Lantern Shipping Company of Bergen in 1921?"


def ms_per_search(search: Callable[[np.ndarray], object], queries: np.ndarray, runs: int) -> float:
    search(queries)  # warm
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        search(queries)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((args.vectors, args.dimension), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    faiss_default = faiss.cvar.distance_compute_blas_threshold
    ours = VectorIndex(Path(tempfile.gettempdir()) / "unused", args.dimension)
    ours.add([str(i) for i in range(args.vectors)], vectors)

    def plain(queries: np.ndarray) -> object:
        faiss.cvar.distance_compute_blas_threshold = faiss_default
        return ours.index.search(queries, 1)

    spans = len(question_spans(QUESTION, 4))
    print(f"{args.vectors:,} vectors, dim {args.dimension}, {args.threads} thread(s); k = 1")
    print(f"({spans} spans in {QUESTION!r})")
    header = f"VectorIndex.search ms (product from {BLAS_MIN_QUERIES})"
    print(f"| queries | FAISS default ms | {header} |")
    print("|---|---|---|")
    for n in sorted({1, 2, 4, 8, spans, 32}):
        queries = np.ascontiguousarray(vectors[:n])
        default = ms_per_search(plain, queries, args.runs)
        kgrag = ms_per_search(lambda q: ours.search(q, 1), queries, args.runs)
        print(f"| {n} | {default:.1f} | {kgrag:.1f} |")


if __name__ == "__main__":
    main()
