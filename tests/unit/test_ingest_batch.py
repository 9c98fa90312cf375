"""The batch scheduler: later documents prepared ahead within a window, finished in order."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pytest

from kgrag.embed import RememberingEmbedder
from kgrag.errors import LLMOutputError
from kgrag.ingest.batch import ExtractionPool, in_order
from kgrag.ingest.indexes import indexed_texts
from kgrag.sentence_vectors import SentenceVectors
from kgrag.types import Chunk, ExtractedGraph


@dataclass
class FakeJob:
    item: str
    weight_: int = 1

    def weight(self) -> int:
        return self.weight_


def _run(items: list[str], window: int, weights: dict[str, int] | None = None) -> list[str]:
    """The events of one run: 'p x' when x is prepared, 'f x' when x is finished."""
    events: list[str] = []

    def prepare(item: str) -> FakeJob:
        events.append(f"p {item}")
        return FakeJob(item, (weights or {}).get(item, 1))

    def finish(job: FakeJob) -> str:
        events.append(f"f {job.item}")
        return job.item

    results = list(in_order(items, prepare, finish, window=window, key=lambda i: i[0]))
    assert results == items  # input order
    return events


def test_window_one_is_one_document_at_a_time():
    assert _run(["a1", "b1", "c1"], window=1) == ["p a1", "f a1", "p b1", "f b1", "p c1", "f c1"]


def test_later_items_are_prepared_ahead_up_to_the_window():
    events = _run(["a", "b", "c", "d", "e"], window=3)
    assert events == ["p a", "p b", "p c", "f a", "p d", "f b", "p e", "f c", "f d", "f e"]


def test_a_heavy_job_takes_the_whole_window():
    events = _run(["a", "b", "c"], window=3, weights={"a": 5})
    assert events == ["p a", "f a", "p b", "p c", "f b", "f c"]


def test_an_item_with_the_key_of_an_unfinished_job_waits_for_it():
    events = _run(["x1", "y1", "x2", "z1"], window=4)  # key: the first letter
    assert events == ["p x1", "p y1", "f x1", "p x2", "p z1", "f y1", "f x2", "f z1"]


def _chunk(i: int) -> Chunk:
    return Chunk(id=f"d:p1:{i}", document_id="d", page=1, start=0, end=1, text=str(i))


def test_pool_runs_up_to_in_flight_requests_and_keeps_chunk_order():
    lock, in_flight, most = threading.Lock(), [0], [0]
    release = threading.Event()

    def extract(chunk: Chunk, _config: object) -> ExtractedGraph:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            if most[0] == 3:
                release.set()
        release.wait(timeout=5)
        with lock:
            in_flight[0] -= 1
        return ExtractedGraph(chunk_id=chunk.id)

    done: list[str] = []
    with ExtractionPool(3) as pool:
        first = pool.submit(
            extract, [_chunk(0), _chunk(1)], None, on_done=lambda c: done.append(c.id)
        )
        second = pool.submit(extract, [_chunk(2), _chunk(3), _chunk(4)], None)
        assert [g.chunk_id for g in first.results()] == ["d:p1:0", "d:p1:1"]
        assert [g.chunk_id for g in second.results()] == ["d:p1:2", "d:p1:3", "d:p1:4"]
    assert most[0] == 3 and sorted(done) == ["d:p1:0", "d:p1:1"]
    assert first.waiting() == second.waiting() == 0


def test_first_error_in_chunk_order_is_raised_after_all_requests_ended():
    ended: list[int] = []

    def extract(chunk: Chunk, _config: object) -> ExtractedGraph:
        ended.append(int(chunk.text))
        if chunk.text in ("1", "2"):
            raise LLMOutputError(f"chunk {chunk.text}")
        return ExtractedGraph(chunk_id=chunk.id)

    with ExtractionPool(2) as pool:
        pending = pool.submit(extract, [_chunk(i) for i in range(4)], None)
        with pytest.raises(LLMOutputError, match="chunk 1"):
            pending.results()
        assert sorted(ended) == [0, 1, 2, 3]


class _CountingEmbedder:
    """Vectors of text lengths; records the texts it was asked for and on which thread."""

    dimension = 2

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.threads: set[str] = set()

    def embed(self, texts):
        self.asked += texts
        self.threads.add(threading.current_thread().name)
        return np.array([[len(t), 1.0] for t in texts], dtype="float32")


def test_texts_embedded_ahead_leave_nothing_for_indexing(tmp_path):
    chunks = [
        Chunk(id=f"d:p1:{i}", document_id="d", page=1, start=0, end=len(t), text=t)
        for i, t in enumerate(["Ann works at Acme. She leads a team.", "Acme is in Berlin."])
    ]
    inner = _CountingEmbedder()
    embedder = RememberingEmbedder(inner)
    with ExtractionPool(2) as pool:
        pool.embed_ahead(embedder.embed, indexed_texts(chunks)).result()
    assert inner.threads == {"kgrag-embed-ahead_0"}
    ahead = len(inner.asked)
    # what DocumentIndexes.index_chunks embeds: the chunk texts, then their sentences
    embedder.embed([c.text for c in chunks])
    SentenceVectors(tmp_path / "s.sqlite", 2).embed_chunks(
        embedder, "d", [(c.id, c.text) for c in chunks]
    )
    # 2 chunks + 3 sentences, one of which is a whole chunk: 4 texts, each embedded once
    assert len(inner.asked) == ahead == 4
