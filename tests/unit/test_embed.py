"""The bundled embedder: small inputs on one torch thread, same vectors; remembered texts."""

import numpy as np
import torch

from kgrag.embed import SMALL_INPUT, RememberingEmbedder, SentenceEmbedder


def test_small_inputs_use_one_thread_and_embed_as_in_a_batch():
    embedder = SentenceEmbedder()
    embedder.threads = 2
    texts = [f"Sentence number {i} is about the harbour of Halden." for i in range(SMALL_INPUT + 4)]
    batch = embedder.embed(texts)
    assert torch.get_num_threads() == 2
    one = embedder.embed(texts[:1])
    assert torch.get_num_threads() == 1
    np.testing.assert_allclose(one[0], batch[0], atol=1e-5)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


class _Counting:
    """Embeds text i as a vector of its length; records what it was asked."""

    dimension = 2

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def embed(self, texts):
        self.asked.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype="float32")


def test_remembering_embedder_asks_only_for_unseen_texts_and_forgets_the_oldest():
    inner = _Counting()
    embedder = RememberingEmbedder(inner, size=3)
    first = embedder.embed(["a", "bb", "a"])
    assert inner.asked == [["a", "bb"]]
    np.testing.assert_array_equal(first, [[1, 1], [2, 1], [1, 1]])
    np.testing.assert_array_equal(embedder.embed(["bb", "ccc"]), [[2, 1], [3, 1]])
    assert inner.asked[-1] == ["ccc"]
    embedder.embed(["dddd"])  # holds bb, ccc, dddd now: "a" was the least recently used
    embedder.embed(["a", "bb"])
    assert inner.asked[-1] == ["a"]
    assert embedder.embed([]).shape == (0, 2)
