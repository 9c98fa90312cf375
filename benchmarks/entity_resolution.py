"""Merge precision/recall of entity resolution on the labelled alias fixture.

Every fixture name becomes one mention in its own chunk; `resolve` merges them; a pair of
names counts as merged when they end on the same entity. Prints P/R/F1 over name pairs for
string evidence only and with embeddings at several thresholds.

    python benchmarks/entity_resolution.py [--fixture tests/data/entity_aliases.yaml]
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import yaml

from kgrag.embed import SentenceEmbedder
from kgrag.ingest.resolve import resolve
from kgrag.types import ExtractedGraph, ExtractedNode

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "data" / "entity_aliases.yaml"


def gold_pairs(groups: list[dict]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in itertools.combinations(g["names"], 2)}


def merged_pairs(groups: list[dict], embed, threshold: float) -> set[frozenset[str]]:
    graphs = [
        ExtractedGraph(chunk_id=f"c{i}", nodes=[ExtractedNode(name=name, type=g["type"])])
        for i, (g, name) in enumerate((g, n) for g in groups for n in g["names"])
    ]
    entities = resolve(graphs, embed=embed, threshold=threshold).entities
    return {
        frozenset(p)
        for e in entities
        for p in itertools.combinations(sorted({e.name, *e.aliases}), 2)
    }


def scores(predicted: set, gold: set) -> tuple[float, float, float]:
    hits = len(predicted & gold)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(gold) if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    args = parser.parse_args()
    groups = yaml.safe_load(args.fixture.read_text(encoding="utf-8"))
    gold = gold_pairs(groups)
    names = sum(len(g["names"]) for g in groups)
    print(f"fixture: {len(groups)} entities, {names} names, {len(gold)} alias pairs")
    embedder = SentenceEmbedder()
    print(f"{'evidence':28} {'P':>6} {'R':>6} {'F1':>6} {'merged':>7} {'wrong':>6} {'sec':>6}")
    for label, embed, threshold in [
        ("strings only", None, 1.0),
        ("strings + embeddings 0.95", embedder.embed, 0.95),
        ("strings + embeddings 0.90", embedder.embed, 0.90),
        ("strings + embeddings 0.85", embedder.embed, 0.85),
    ]:
        start = time.perf_counter()
        predicted = merged_pairs(groups, embed, threshold)
        seconds = time.perf_counter() - start
        p, r, f1 = scores(predicted, gold)
        wrong = sorted(" = ".join(sorted(x)) for x in predicted - gold)
        print(
            f"{label:28} {p:6.3f} {r:6.3f} {f1:6.3f} {len(predicted):7d} {len(wrong):6d} "
            f"{seconds:6.2f}"
        )
        for pair in wrong:
            print(f"{'':30}wrong: {pair}")


if __name__ == "__main__":
    main()
