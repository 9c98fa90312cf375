"""Query path without the LLM: p50/p95 of question -> RetrievedContext (strategies graph +
vector) on a synthetic graph written through kgrag's store, with FAISS entity and chunk indexes.

    python benchmarks/query_path.py                    # 100k entities / 500k relationships
    python benchmarks/query_path.py --entities 5000 --relationships 25000 --questions 40

The graph comes from synthetic_graph.py (uniformly random relationships between made-up names,
kgrag's default schema), written with `Neo4jGraphStore.write_document`; the write time is
printed too. The FAISS indexes hold random unit vectors under the real keys (one per entity
name, one per chunk), and so do the chunks' sentence vectors that sentence windows read:
embedding 100k names with MiniLM on this CPU takes longer than the benchmark may, and a flat
index or a stored-vector lookup costs the same whatever the vectors are, so vector linking
finds nothing and entities are linked by their exact names. Questions and their spans are
embedded with the real MiniLM (`--threads 1` shows what thread oversubscription costs on a
shared machine). Two timings: `Retriever.retrieve` on one retriever, and
`Runtime.retriever(...).retrieve(...)` per question, which is what `answer_question` does
(kgrag/qa.py).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import torch
from synthetic_graph import Batch, synthetic_documents

from kgrag.retrieve.link import entity_index_key
from kgrag.runtime import Runtime, open_runtime
from kgrag.settings import Settings

QUESTIONS = (
    "Who founded {}?",
    "Where is {} located?",
    "What did {} create?",
    "Who works for {}?",
    "What is {} part of?",
)


def random_unit_vectors(n: int, dimension: int, rng: np.random.Generator) -> np.ndarray:
    vectors = rng.standard_normal((n, dimension), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class RandomEmbedder:
    """Random unit vectors for any text (filling the indexes as fast as the CPU allows)."""

    def __init__(self, dimension: int, rng: np.random.Generator) -> None:
        self.dimension = dimension
        self.rng = rng

    def embed(self, texts: list[str]) -> np.ndarray:
        return random_unit_vectors(len(texts), self.dimension, self.rng)


def fill_indexes(rt: Runtime, entity_keys: list[str], batches: list[Batch]) -> None:
    """The entity and chunk indexes, and each chunk's sentence vectors, with random vectors."""
    random_embedder = RandomEmbedder(rt.embedder.dimension, np.random.default_rng(0))
    chunks = [c for _, doc_chunks, _ in batches for c in doc_chunks]
    rt.index("entities").add(entity_keys, random_embedder.embed(entity_keys))
    rt.index("chunks").add([c.id for c in chunks], random_embedder.embed([c.text for c in chunks]))
    for doc, doc_chunks, _ in batches:
        rt.sentence_vectors.embed_chunks(
            random_embedder, doc.id, [(c.id, c.text) for c in doc_chunks]
        )


def percentiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{statistics.median(ms):>8.1f} {p95:>8.1f} {ms[-1]:>8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=500_000)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--heap", default="2g", help="ArcadeDB JVM heap")
    parser.add_argument("--threads", type=int, help="torch and FAISS threads (default: theirs)")
    args = parser.parse_args()
    if args.threads:  # kgrag leaves both at their defaults (all cores)
        torch.set_num_threads(args.threads)
        faiss.omp_set_num_threads(args.threads)

    batches = synthetic_documents(args.relationships, args.entities)
    entities = {e.id: e for _, _, g in batches for e in g.entities}
    rng = random.Random(1)
    # distinct questions for the warm-up and each pass: the runtime's embedder remembers the
    # texts it embedded, so a repeated question would be served from memory
    n = min(args.questions, (len(entities) - 1) // 2)
    named = rng.sample(sorted(entities), 2 * n + 1)
    asked = [rng.choice(QUESTIONS).format(entities[i].name) for i in named]
    warm_up, questions, other_questions = asked[0], asked[1 : n + 1], asked[n + 1 :]

    with tempfile.TemporaryDirectory(prefix="kgrag-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp), arcadedb_heap=args.heap, strategies=["graph", "vector"]
        )
        with open_runtime(settings, with_llm=False) as rt:
            start = time.perf_counter()
            for doc, chunks, graph in batches:
                rt.store.write_document(doc, chunks, graph)
            write_s = time.perf_counter() - start
            counts = rt.store.counts()
            print(
                f"graph: {counts['entities']} entities, {counts['relationships']} relationships, "
                f"{counts['chunks']} chunks; written in {write_s:.0f} s "
                f"({args.relationships / write_s:.0f} relationships/s)"
            )
            keys = [entity_index_key(e.id, e.name) for e in entities.values()]
            fill_indexes(rt, keys, batches)
            rt.retriever().retrieve(warm_up)  # embedder, driver, JIT

            retriever = rt.retriever()
            once, per_question = [], []
            stages: dict[str, list[float]] = {}  # the trace's timings: link, graph, rank, ...
            triples = evidence = linked = 0
            for question in questions:
                start = time.perf_counter()
                context = retriever.retrieve(question)
                once.append(time.perf_counter() - start)
                for stage, seconds in context.trace["timings_s"].items():
                    stages.setdefault(stage, []).append(seconds)
                triples += len(context.triples)
                evidence += len(context.evidence)
                linked += bool(context.linked)
            for question in other_questions:
                start = time.perf_counter()
                rt.retriever().retrieve(question)
                per_question.append(time.perf_counter() - start)

    print(f"torch threads {torch.get_num_threads()}, FAISS threads {faiss.omp_get_max_threads()}")
    print(
        f"{n} questions: {linked} linked an entity; per question {triples / n:.1f} triples, "
        f"{evidence / n:.1f} evidence chunks"
    )
    print(f"{'ms':<52} {'p50':>8} {'p95':>8} {'max':>8}")
    print(f"{'Retriever.retrieve (one retriever)':<52} {percentiles(once)}")
    for stage, values in stages.items():
        print(f"{'  of which ' + stage.removesuffix('_s') + ' (trace)':<52} {percentiles(values)}")
    print(f"{'Runtime.retriever().retrieve per question (qa.py)':<52} {percentiles(per_question)}")


if __name__ == "__main__":
    main()
