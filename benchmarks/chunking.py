"""The four chunkers compared: chunk count, mean/max length, extraction calls, recall@k.

    python benchmarks/chunking.py                        # MuSiQue dev corpus + Korean sample
    python benchmarks/chunking.py --group 10 --sizes 800 400 --questions 50

Dev corpus: MuSiQue-100 (../shared/data/musique-100). Its passages become documents the way
`kgrag eval` writes them (one Markdown document per title: `# title`, then its passages);
`--group N` puts N titles in one document (one `# title` section each), closer to real
multi-topic files, where the chunkers differ more. Korean sample: samples/korean (no
questions, so counts and lengths only).

Per chunker and chunk size: chunks (= extraction calls: one LLM call per chunk), mean and max
chunk length in characters, and retrieval recall@5/@10 on the dev questions: each question's
MiniLM vector searches a FAISS index of the chunk vectors (kgrag's VectorIndex and embedder);
a supporting paragraph is found when one of the top-k chunks overlaps its character span;
recall is the share of a question's supporting paragraphs found, averaged over questions.
R½ counts a paragraph only when one chunk holds at least half of it (any overlap favours long
chunks that graze many paragraphs). `chunk s` for semantic includes embedding the sentences.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kgrag.embed import SentenceEmbedder
from kgrag.ingest.chunking import CHUNKERS, chunk_document
from kgrag.settings import REPO_ROOT, Settings
from kgrag.types import Chunk, Document, Page
from kgrag.vectors import VectorIndex

MUSIQUE = REPO_ROOT.parent / "shared" / "data" / "musique-100"
KOREAN = REPO_ROOT / "samples" / "korean"
KS = (5, 10)
HALF = 0.5  # the strict hit: the chunk holds at least half of the paragraph's characters

Key = tuple[str, str]  # (title, passage text): one paragraph of the corpus


@dataclass
class Corpus:
    docs: list[Document]
    spans: dict[Key, tuple[str, int, int]]  # paragraph -> (document id, start, end)


class CachedEmbedder:
    """kgrag's embedder, remembering texts already embedded (chunkers share many chunks)."""

    def __init__(self, embedder: SentenceEmbedder) -> None:
        self.embedder = embedder
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        fresh = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if fresh:
            self.cache.update(zip(fresh, self.embedder.embed(fresh), strict=True))
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype="float32")
        return np.stack([self.cache[t] for t in texts])


def musique_corpus(folder: Path, group: int) -> Corpus:
    """Documents of `group` titles each, and where every paragraph lies in them."""
    by_title: dict[str, dict[str, None]] = {}
    for p in json.loads((folder / "corpus.json").read_text("utf-8")):
        by_title.setdefault(p["title"], {})[p["text"].strip()] = None
    titles = list(by_title)
    docs, spans = [], {}
    for n in range(0, len(titles), group):
        doc_id, text = f"m{n // group}", ""
        for title in titles[n : n + group]:
            text += f"# {title}\n\n"
            for passage in by_title[title]:
                spans[(title, passage)] = (doc_id, len(text), len(text) + len(passage))
                text += passage + "\n\n"
        page = Page(number=1, text=text)
        docs.append(Document(id=doc_id, title=doc_id, source=doc_id, sha256=doc_id, pages=[page]))
    return Corpus(docs, spans)


def questions(folder: Path, limit: int | None) -> list[tuple[str, list[Key]]]:
    rows = json.loads((folder / "qa.json").read_text("utf-8"))[:limit]
    return [
        (
            row["question"],
            [
                (p["title"], p["paragraph_text"].strip())
                for p in row["paragraphs"]
                if p["is_supporting"]
            ],
        )
        for row in rows
    ]


def korean_docs(folder: Path) -> list[Document]:
    return [
        Document(
            id=f"ko{i}", title=p.stem, source=p.name, sha256=str(i), pages=[Page(number=1, text=t)]
        )
        for i, p in enumerate(sorted(folder.glob("*.md")))
        for t in [p.read_text("utf-8")]
    ]


def chunk_all(docs: list[Document], settings: Settings, embedder: CachedEmbedder) -> list[Chunk]:
    return [c for doc in docs for c in chunk_document(doc, settings, embedder)]  # type: ignore[arg-type]


def recall(
    chunks: list[Chunk],
    corpus: Corpus,
    asked: list[tuple[str, list[Key]]],
    embedder: CachedEmbedder,
) -> dict[tuple[int, float], float]:
    """Recall@k for any overlap (0.0) and for chunks holding half the paragraph (HALF)."""
    with tempfile.TemporaryDirectory() as tmp:
        index = VectorIndex.empty(Path(tmp) / "chunks", embedder.embedder.dimension)
        index.add([c.id for c in chunks], embedder.embed([c.text for c in chunks]))
        hits = index.search(embedder.embed([q for q, _ in asked]), max(KS))
    by_id = {c.id: c for c in chunks}
    scores: dict[tuple[int, float], list[float]] = {(k, m): [] for k in KS for m in (0.0, HALF)}
    for (_, gold), found in zip(asked, hits, strict=True):
        for k, least in scores:
            top = [by_id[i] for i, _ in found[:k]]
            covered = sum(any(_covers(c, corpus.spans[key], least) for c in top) for key in gold)
            scores[(k, least)].append(covered / len(gold))
    return {key: statistics.mean(v) for key, v in scores.items()}


def _covers(chunk: Chunk, span: tuple[str, int, int], least: float) -> bool:
    """The chunk overlaps the paragraph by more than `least` of its length."""
    doc_id, start, end = span
    shared = min(chunk.end, end) - max(chunk.start, start)
    return chunk.document_id == doc_id and shared > 0 and shared >= least * (end - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=MUSIQUE)
    parser.add_argument("--korean", type=Path, default=KOREAN)
    parser.add_argument("--questions", type=int, default=None, help="first N (default all)")
    parser.add_argument("--group", type=int, default=1, help="titles per dev document")
    parser.add_argument("--sizes", type=int, nargs="+", default=[800])
    parser.add_argument("--overlap", type=int, default=100)
    parser.add_argument("--chunkers", nargs="+", default=list(CHUNKERS), choices=CHUNKERS)
    args = parser.parse_args()

    embedder = CachedEmbedder(SentenceEmbedder())
    corpus = musique_corpus(args.dataset, args.group)
    asked = questions(args.dataset, args.questions)
    missing = {key for _, gold in asked for key in gold} - corpus.spans.keys()
    if missing:
        raise SystemExit(f"{len(missing)} supporting paragraphs are not in the corpus")
    ko = korean_docs(args.korean)
    chars = sum(len(p.text) for d in corpus.docs for p in d.pages)
    print(
        f"dev: {args.dataset.name}, {len(corpus.docs)} documents ({args.group} title(s) each, "
        f"{chars:,} chars), {len(asked)} questions, "
        f"{sum(len(g) for _, g in asked)} supporting paragraphs; embedder MiniLM-L6-v2"
    )
    print(f"korean: {len(ko)} documents, {sum(len(p.text) for d in ko for p in d.pages):,} chars")
    print(f"overlap {args.overlap} (fixed, recursive, markdown); semantic percentile 90\n")
    header = (
        f"{'chunker':<10}{'size':>6} | {'chunks':>7}{'mean':>7}{'max':>6}{'calls':>7}"
        f"{'R@5':>7}{'R@10':>7}{'R½@5':>7}{'R½@10':>7}{'chunk s':>9} | "
        f"{'ko chunks':>9}{'mean':>6}{'max':>5}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        for name in args.chunkers:
            settings = Settings(chunker=name, chunk_size=size, chunk_overlap=args.overlap)
            start = time.perf_counter()
            chunks = chunk_all(corpus.docs, settings, embedder)
            seconds = time.perf_counter() - start
            r = recall(chunks, corpus, asked, embedder)
            lengths = [len(c.text) for c in chunks]
            ko_lengths = [len(c.text) for c in chunk_all(ko, settings, embedder)]
            print(
                f"{name:<10}{size:>6} | {len(chunks):>7}{statistics.mean(lengths):>7.0f}"
                f"{max(lengths):>6}{len(chunks):>7}{r[5, 0.0]:>7.3f}{r[10, 0.0]:>7.3f}"
                f"{r[5, HALF]:>7.3f}{r[10, HALF]:>7.3f}{seconds:>9.1f} | "
                f"{len(ko_lengths):>9}{statistics.mean(ko_lengths):>6.0f}{max(ko_lengths):>5}",
                flush=True,
            )


if __name__ == "__main__":
    main()
