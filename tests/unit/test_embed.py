"""The bundled embedder: small inputs run on one torch thread, with the same vectors."""

import numpy as np
import torch

from kgrag.embed import SMALL_INPUT, SentenceEmbedder


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
