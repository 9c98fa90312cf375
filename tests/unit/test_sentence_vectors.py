"""Sentence vectors made at ingest: one float16 row per sentence, by chunk, removable by
document; windows use them instead of embedding, and embed what is missing or stale."""

import numpy as np
import pytest

from kgrag.embed import SentenceEmbedder
from kgrag.retrieve.windows import SentenceWindows
from kgrag.sentence_vectors import SentenceVectors, sentence_texts
from kgrag.types import Evidence

HARBOUR = (
    "Halden is a coastal town. Its harbour rarely freezes. The buoy was designed by Tomas Reyes. "
    "He tested it in 2019. The weather station records wind speed. Rainfall is measured hourly."
)
FERRY = "The ferry leaves at six. Tickets are sold on board. Dogs travel free."


class _Recording:
    """The real embedder, recording every list of texts it is asked to embed."""

    def __init__(self, inner: SentenceEmbedder) -> None:
        self.inner = inner
        self.dimension = inner.dimension
        self.asked: list[list[str]] = []

    def embed(self, texts):
        self.asked.append(list(texts))
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder()


def _evidence(chunk_id: str, text: str) -> Evidence:
    return Evidence(
        chunk_id=chunk_id, document_id="d", document_title="Notes", page=1, text=text,
        via="vector",
    )  # fmt: skip


def test_rows_follow_the_sentences_and_documents_are_removed_alone(embedder, tmp_path):
    store = SentenceVectors(tmp_path / "s.sqlite", embedder.dimension)
    store.embed_chunks(embedder, "d", [("d:p1:0", HARBOUR), ("d:p2:0", "")])
    store.embed_chunks(embedder, "e", [("e:p1:0", FERRY)])
    kept = store.get(["d:p1:0", "d:p2:0", "e:p1:0", "nope"])
    assert {k: len(v) for k, v in kept.items()} == {"d:p1:0": 6, "d:p2:0": 0, "e:p1:0": 3}
    exact = embedder.embed(sentence_texts(HARBOUR))
    assert kept["d:p1:0"].dtype == np.float32
    np.testing.assert_allclose(kept["d:p1:0"], exact, atol=2e-3)  # float16 storage
    store.remove_documents(["d"])
    assert set(store.get(["d:p1:0", "e:p1:0"])) == {"e:p1:0"}
    reopened = SentenceVectors(tmp_path / "s.sqlite", embedder.dimension)
    assert set(reopened.get(["e:p1:0"])) == {"e:p1:0"}
    assert reopened.get(["e:p1:0"])["e:p1:0"].shape == (3, embedder.dimension)
    other_model = SentenceVectors(tmp_path / "s.sqlite", 512)
    assert other_model.get(["e:p1:0"]) == {}  # another dimension: not used
    store.clear()
    assert store.get(["e:p1:0"]) == {}


def test_windows_use_stored_vectors_and_pick_what_embedding_picks(embedder, tmp_path):
    store = SentenceVectors(tmp_path / "s.sqlite", embedder.dimension)
    store.embed_chunks(embedder, "d", [("d:p1:0", HARBOUR)])
    evidence = [_evidence("d:p1:0", HARBOUR), _evidence("e:p1:0", FERRY)]
    query = embedder.embed(["How often is rainfall measured?"])[0]

    recording = _Recording(embedder)
    with_store = SentenceWindows(recording, {}, 0, store).narrow(evidence, [], [], query)
    assert recording.asked == [sentence_texts(FERRY)]  # only the chunk without stored rows
    without = SentenceWindows(embedder, {}, 0).narrow(evidence, [], [], query)
    assert with_store == without
    assert with_store[0][0].text == "Rainfall is measured hourly."


def test_a_stale_row_is_embedded_again(embedder, tmp_path):
    store = SentenceVectors(tmp_path / "s.sqlite", embedder.dimension)
    store.embed_chunks(embedder, "d", [("d:p1:0", FERRY)])  # 3 rows; the chunk now says more
    recording = _Recording(embedder)
    query = embedder.embed(["How often is rainfall measured?"])[0]
    passages, _ = SentenceWindows(recording, {}, 0, store).narrow(
        [_evidence("d:p1:0", HARBOUR)], [], [], query
    )
    assert recording.asked == [sentence_texts(HARBOUR)]
    assert passages[0].text == "Rainfall is measured hourly."
