"""Embedding time by torch thread count: one chunk (a question, a small document) and a batch.

    python benchmarks/embedding.py [--runs 10] [--batch 64]

Prints ms per call of the bundled MiniLM for 1 text and for `--batch` texts at 1 thread and at
torch's default, then what `SentenceEmbedder.embed` does (one thread up to SMALL_INPUT texts).
Run it beside a busy llama-server to see the oversubscription cost.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from kgrag.embed import SMALL_INPUT, SentenceEmbedder

CHUNK = (
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
    "It is named after the engineer Gustave Eiffel, whose company designed and built it. "
) * 3


def ms_per_call(embedder: SentenceEmbedder | _Fixed, texts: list[str], runs: int) -> float:
    embedder.embed(texts)  # warm
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        embedder.embed(texts)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    embedder = SentenceEmbedder()
    default = embedder.threads
    print(f"torch default threads: {default}; SMALL_INPUT = {SMALL_INPUT}")
    print("| texts | 1 thread ms | default ms | embed() ms |")
    print("|---|---|---|---|")
    for n in (1, args.batch):
        texts = [CHUNK] * n
        row = []
        for threads in (1, default):
            row.append(ms_per_call(_Fixed(embedder, threads), texts, args.runs))
        row.append(ms_per_call(embedder, texts, args.runs))
        print(f"| {n} | " + " | ".join(f"{v:.0f}" for v in row) + " |")


class _Fixed:
    """The embedder at a fixed thread count, whatever the input size."""

    def __init__(self, embedder: SentenceEmbedder, threads: int) -> None:
        self.embedder, self.threads = embedder, threads

    def embed(self, texts: list[str]):
        torch.set_num_threads(self.threads)
        return self.embedder.model.encode(texts, batch_size=64, normalize_embeddings=True)


if __name__ == "__main__":
    main()
