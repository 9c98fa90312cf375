"""Entity linking at scale: FAISS over 1M entity-name vectors, ms/query and recall@1/@10 of
approximate indexes (IVF, HNSW) against exact search with `IndexFlatIP`, VectorIndex's exact
mode (kgrag's entity index is IVF from `entity_index_approximate_min` names on, nprobe 16).

    python benchmarks/entity_linking.py                          # 1M names: flat, IVF, HNSW
    python benchmarks/entity_linking.py --names 200000 --indexes flat hnsw --queries 100

Vectors: MiniLM cannot embed 1M names on this CPU in time. `--sample` real names (the titles
of the MuSiQue dev corpus in ../shared/data when it is there, else made-up two-word names from
synthetic_graph.py) are embedded with kgrag's embedder, and the 1M vectors are drawn from a
Gaussian with their mean and covariance, then normalised: random, but with the anisotropy of
real name embeddings (isotropic random vectors are an unrealistically hard case for ANN).
Queries: stored vectors plus noise to cosine ~0.9 with the original (a mention spelled
differently); recall@k is the share of the exact top-k (same query, flat index) that the
index returns. ms/query: one query per search call (a linker's latency), median over the
queries; `--threads` sets FAISS's OpenMP threads (kgrag leaves FAISS's default, all cores).
recall@10 is a pessimistic floor here: the fitted Gaussian has no local cluster structure, so
ranks 2-10 of a query are near-ties that an approximate index easily swaps.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

import faiss
import numpy as np
from synthetic_graph import made_up_names

from kgrag.embed import SentenceEmbedder
from kgrag.settings import REPO_ROOT

MUSIQUE = REPO_ROOT.parent / "shared" / "data" / "musique-100" / "corpus.json"
QUERY_COSINE = 0.9
SEARCH_SETTINGS = {"flat": [None], "ivf": [8, 16, 32], "hnsw": [32, 128]}  # nprobe, efSearch


def sample_names(n: int) -> tuple[list[str], str]:
    if MUSIQUE.exists():
        titles = sorted({p["title"] for p in json.loads(MUSIQUE.read_text(encoding="utf-8"))})
        return titles[:n], "MuSiQue dev corpus titles"
    return made_up_names(n, random.Random(0)), "made-up two-word names"


def name_like_vectors(sample: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` unit vectors from a Gaussian fitted to the embedded sample (mean, covariance)."""
    mean = sample.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(sample, rowvar=False))
    transform = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))).T.astype(np.float32)
    out = np.empty((n, sample.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        rows = min(100_000, n - start)
        block = rng.standard_normal((rows, sample.shape[1]), dtype=np.float32) @ transform + mean
        out[start : start + rows] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def noisy_queries(vectors: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Stored vectors moved to cosine ~QUERY_COSINE with themselves."""
    picked = vectors[rng.choice(len(vectors), n, replace=False)]
    sigma = np.sqrt(1 / QUERY_COSINE**2 - 1)
    noise = rng.standard_normal(picked.shape, dtype=np.float32) / np.sqrt(picked.shape[1])
    queries = picked + sigma * noise
    return queries / np.linalg.norm(queries, axis=1, keepdims=True)


def build(kind: str, vectors: np.ndarray, nlist: int) -> faiss.Index:
    d = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "ivf":
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        rows = np.random.default_rng(1).choice(len(vectors), min(len(vectors), 40 * nlist), False)
        index.train(vectors[rows])  # 40 training points per list, FAISS's lower bound
    else:
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
    index.add(vectors)
    return index


def measure(index: faiss.Index, queries: np.ndarray, truth: np.ndarray) -> tuple[float, ...]:
    """Median ms per single-query search, recall@1, recall@10 against `truth` (exact top 10)."""
    ms, found = [], []
    for q in queries:
        start = time.perf_counter()
        _, ids = index.search(q[None, :], 10)
        ms.append((time.perf_counter() - start) * 1000)
        found.append(ids[0])
    found_ids = np.array(found)
    recall1 = float(np.mean(found_ids[:, 0] == truth[:, 0]))
    overlap = [len(set(f) & set(t)) / 10 for f, t in zip(found_ids, truth, strict=True)]
    recall10 = float(np.mean(overlap))
    return statistics.median(ms), recall1, recall10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1_000_000, help="vectors in the index")
    parser.add_argument("--sample", type=int, default=2000, help="real names embedded")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--indexes", nargs="+", default=list(SEARCH_SETTINGS), choices=list(SEARCH_SETTINGS)
    )
    parser.add_argument("--nlist", type=int, default=1024, help="IVF lists")
    parser.add_argument("--threads", type=int, help="FAISS OpenMP threads (default: FAISS's)")
    args = parser.parse_args()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)

    names, source = sample_names(args.sample)
    sample = SentenceEmbedder().embed(names)
    rng = np.random.default_rng(0)
    vectors = name_like_vectors(sample, args.names, rng)
    queries = noisy_queries(vectors, args.queries, rng)
    print(
        f"{args.names} vectors (dim {vectors.shape[1]}) shaped like {len(names)} embedded "
        f"{source}; {args.queries} queries at cosine ~{QUERY_COSINE}; "
        f"FAISS threads {faiss.omp_get_max_threads()}"
    )

    start = time.perf_counter()
    exact = build("flat", vectors, args.nlist)
    built = {"flat": time.perf_counter() - start}
    _, truth = exact.search(queries, 10)
    print(f"{'index':<24} {'build s':>8} {'ms/query':>9} {'recall@1':>9} {'recall@10':>10}")
    for kind in args.indexes:
        start = time.perf_counter()
        index = exact if kind == "flat" else build(kind, vectors, args.nlist)
        build_s = built.get(kind, time.perf_counter() - start)
        for setting in SEARCH_SETTINGS[kind]:
            label = "flat (exact)"
            if kind == "ivf":
                index.nprobe = setting
                label = f"IVF{args.nlist} nprobe={setting}"
            elif kind == "hnsw":
                index.hnsw.efSearch = setting
                label = f"HNSW32 efSearch={setting}"
            ms, recall1, recall10 = measure(index, queries, truth)
            print(
                f"{label:<24} {build_s:>8.1f} {ms:>9.2f} {recall1:>9.3f} {recall10:>10.3f}",
                flush=True,
            )
        del index


if __name__ == "__main__":
    main()
