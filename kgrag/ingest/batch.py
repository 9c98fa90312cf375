"""Many documents at once: their LLM extraction requests share one bounded pool, so documents
with fewer chunks than the server has slots still keep every slot busy, while each document is
finished (resolved against the graph, written, indexed) one at a time, in input order.
"""

from __future__ import annotations

import hashlib
import sys
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol, TypeVar

from langchain_core.runnables import RunnableConfig

from kgrag.errors import ServiceUnavailableError
from kgrag.ingest.state import Extraction
from kgrag.llm.usage import LLMUsage
from kgrag.page_images import StagedPages
from kgrag.types import Chunk, Document, ExtractedGraph, IngestResult, IngestStage

ExtractFn = Callable[[Chunk, RunnableConfig | None], ExtractedGraph]
Item = TypeVar("Item")
J = TypeVar("J", bound="Weighted")
Result = TypeVar("Result")


class Weighted(Protocol):
    def weight(self) -> int:
        """How much of the read-ahead window this prepared document still takes."""
        ...


class Pending:
    """One document's extraction requests, submitted to the pool."""

    def __init__(self, futures: list[Future[ExtractedGraph]]) -> None:
        self.futures = futures

    def waiting(self) -> int:
        """Requests not answered yet (running or queued)."""
        return sum(not f.done() for f in self.futures)

    def results(self) -> list[ExtractedGraph]:
        """Every chunk's graph in chunk order; the first error is raised once all ended."""
        wait(self.futures)
        return [f.result() for f in self.futures]


class ExtractionPool:
    """`in_flight` threads sending extraction requests, for the documents of one batch, and
    one thread embedding documents' texts ahead while the LLM answers."""

    def __init__(self, in_flight: int) -> None:
        self._pool = ThreadPoolExecutor(max(1, in_flight), thread_name_prefix="kgrag-extract")
        self._embedder = ThreadPoolExecutor(1, thread_name_prefix="kgrag-embed-ahead")

    def embed_ahead(self, embed: Callable[[list[str]], object], texts: list[str]) -> Future:
        """Embed `texts` in the background (an embedder that remembers them makes the later
        indexing of the document a lookup)."""
        return self._embedder.submit(embed, texts)

    def submit(
        self,
        extract: ExtractFn,
        chunks: list[Chunk],
        config: RunnableConfig | None,
        on_done: Callable[[Chunk], None] | None = None,
    ) -> Pending:
        def run(chunk: Chunk) -> ExtractedGraph:
            try:
                return extract(chunk, config)
            finally:
                if on_done:
                    on_done(chunk)

        return Pending([self._pool.submit(run, chunk) for chunk in chunks])

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *_: object) -> None:
        """Queued requests are dropped (the batch stopped); running ones end first."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._embedder.shutdown(wait=True, cancel_futures=True)


def in_order(
    items: Iterable[Item],
    prepare: Callable[[Item], J],
    finish: Callable[[J], Result],
    *,
    window: int,
    key: Callable[[Item], Hashable | None],
) -> Iterator[Result]:
    """`finish(prepare(item))` for each item, in order, preparing later items ahead while the
    prepared-but-unfinished jobs weigh less than `window`. An item whose `key` equals that of
    an unfinished job waits until that job is finished (the same bytes twice)."""
    queue: deque[tuple[Hashable | None, J]] = deque()
    source = iter(items)
    upcoming: list[Item] = []  # at most one item taken from `source` and not yet prepared
    while True:
        while sum(job.weight() for _, job in queue) < max(1, window):
            if not upcoming:
                try:
                    upcoming.append(next(source))
                except StopIteration:
                    break
            item_key = key(upcoming[0])
            if item_key is not None and any(k == item_key for k, _ in queue):
                break
            queue.append((item_key, prepare(upcoming.pop())))
        if not queue:
            return
        yield finish(queue.popleft()[1])


@dataclass
class FileInput:
    """One file of a batch: its bytes, or why they could not be read."""

    name: str
    data: bytes = b""
    error: str | None = None

    @cached_property
    def sha(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_file(path: Path) -> FileInput:
    try:
        return FileInput(str(path), path.read_bytes())
    except OSError as exc:
        return FileInput(str(path), error=f"cannot read file ({exc.strerror or exc})")


@dataclass
class Done:
    """A document whose result was decided while reading ahead (unchanged, failed)."""

    result: IngestResult

    def weight(self) -> int:
        return 1


@dataclass
class Unavailable:
    """The LLM or graph store could not be reached while reading this document ahead."""

    name: str
    error: ServiceUnavailableError

    def weight(self) -> int:
        return sys.maxsize  # read no further: the batch stops at this document


@dataclass
class Prepared:
    """A document read and chunked (stages committed), its extraction requests sent or its
    extraction saved by a killed run."""

    name: str
    usage: LLMUsage
    doc: Document
    chunks: list[Chunk]
    images: StagedPages
    resumed_from: IngestStage | None
    stored: bool  # already in the graph (killed before indexing)
    timings: dict[str, float]
    extraction: Extraction | None = None
    pending: Pending | None = None
    embedded: Future | None = None  # the chunks' texts embedded ahead (`embed_ahead`)
    sent_at: float = 0.0

    def weight(self) -> int:
        return max(1, self.pending.waiting()) if self.pending is not None else 1


Job = Done | Unavailable | Prepared
