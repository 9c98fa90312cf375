"""Ingest pipeline: wires read -> chunk -> extract -> prune -> resolve -> write -> embed.

A batch's documents are read, chunked and their extraction requests sent ahead (batch.py), so
the LLM's slots stay busy across small documents; prune, resolve, write and index stay one
document at a time, in input order, so each document resolves against the ones before it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from concurrent.futures import wait
from functools import partial
from pathlib import Path
from typing import TypeVar

from kgrag.embed import RememberingEmbedder
from kgrag.errors import DocumentError, KgragError, ServiceUnavailableError
from kgrag.ingest.batch import (
    Done,
    ExtractionPool,
    FileInput,
    Job,
    Pending,
    Prepared,
    Unavailable,
    in_order,
    read_file,
)
from kgrag.ingest.chunking import chunk_document
from kgrag.ingest.extract import GraphExtractor, extraction_budget
from kgrag.ingest.indexes import DocumentIndexes, indexed_texts
from kgrag.ingest.prune import prune
from kgrag.ingest.prune_log import PruneLog, PruneRecord
from kgrag.ingest.read import SUPPORTED_SUFFIXES, read_document, read_limits
from kgrag.ingest.resolve import resolve
from kgrag.ingest.state import Extraction, IngestStates
from kgrag.llm.usage import LLMUsage
from kgrag.metrics import observe_ingest
from kgrag.ocr.base import OcrEngine
from kgrag.runtime import Runtime
from kgrag.types import Chunk, Document, ExtractedGraph, IngestResult, IngestStage, IngestStatus

# (document name, chunks done, chunks total)
ProgressCallback = Callable[[str, int, int], None]
ResultCallback = Callable[[IngestResult], None]
T = TypeVar("T")


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders expanded recursively to the files kgrag can read."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            files.append(path)
    return files


class IngestPipeline:
    """Ingests files; `reextract=True` extracts unchanged files again (a new schema applied);
    `extract=False` stores documents and chunks without asking the LLM (an evaluation's
    vector-only baseline)."""

    def __init__(
        self,
        runtime: Runtime,
        progress: ProgressCallback | None = None,
        *,
        reextract: bool = False,
        extract: bool = True,
    ) -> None:
        self.rt = runtime
        self.progress = progress
        self.reextract = reextract
        self.extract = extract
        self.prune_log = PruneLog(runtime.settings.data_dir)
        self._extractor: GraphExtractor | None = None
        self._names: RememberingEmbedder | None = None
        self.indexes = DocumentIndexes(
            runtime, self.prune_log, lambda t: self.name_vectors.embed(t)
        )

    def ingest_paths(
        self, paths: Iterable[Path], on_result: ResultCallback | None = None
    ) -> list[IngestResult]:
        """Ingest files in order; `on_result` hears of each document as it is finished."""
        files = expand_paths(paths)
        self.states.pending([str(path) for path in files])
        return self._ingest_all((read_file(path) for path in files), on_result)

    def read_chunks(self, paths: Iterable[Path]) -> tuple[list[Chunk], list[IngestResult]]:
        """Read and chunk files without storing anything (schema discovery); failures apart."""
        s = self.rt.settings
        chunks: list[Chunk] = []
        failed: list[IngestResult] = []
        for path in expand_paths(paths):
            try:
                doc = read_document(
                    str(path), path.read_bytes(), **read_limits(s), ocr=self._ocr_engine
                )
            except OSError as exc:
                failed.append(_failed(str(path), f"cannot read file ({exc.strerror or exc})"))
                continue
            except DocumentError as exc:
                failed.append(_failed(str(path), exc.reason))
                continue
            chunks += self._chunk(doc)
        return chunks, failed

    def ingest_bytes(self, name: str, data: bytes) -> IngestResult:
        """Ingest one file; any error is reported in the result and leaves nothing behind."""
        [result] = self._ingest_all([FileInput(name, data)])
        return result

    def _ingest_all(
        self, inputs: Iterable[FileInput], on_result: ResultCallback | None = None
    ) -> list[IngestResult]:
        """Documents are read, chunked and their extraction requests sent ahead, so that the
        LLM's slots stay busy across documents; each is then finished in input order."""
        in_flight = self.rt.settings.ingest_llm_in_flight or self.rt.settings.llm_parallel
        results = []
        with ExtractionPool(in_flight) as pool:
            for result in in_order(
                inputs,
                lambda item: self._prepare(item, pool),
                self._finish,
                window=2 * in_flight - 1,  # the next request is queued when a slot frees
                key=lambda item: (
                    None if item.error else item.sha
                ),  # same bytes twice: 2nd unchanged
            ):
                results.append(result)
                if on_result:
                    on_result(result)
        return results

    def _prepare(self, item: FileInput, pool: ExtractionPool) -> Job:
        """Read and chunk one file, then send its extraction requests (or decide its result)."""
        if item.error is not None:
            return Done(self._fail(item.name, item.error))
        usage = LLMUsage()
        try:
            job = self._guarded(item.name, usage, lambda: self._read_ahead(item, usage, pool))
        except ServiceUnavailableError as exc:
            return Unavailable(item.name, exc)  # raised in its turn, after the ones before it
        return Done(job) if isinstance(job, IngestResult) else job

    def _finish(self, job: Job) -> IngestResult:
        """Resolve, store and index a prepared document (the graph work, one at a time)."""
        try:
            if isinstance(job, Unavailable):
                raise job.error
            if isinstance(job, Done):
                result = job.result
            else:
                result = self._guarded(job.name, job.usage, lambda: self._ingest(job))
        except ServiceUnavailableError as exc:
            self._fail(job.name, str(exc))
            raise  # not this file's fault: stop the batch, keep what is complete
        observe_ingest(result)
        return result

    def _guarded(self, name: str, usage: LLMUsage, step: Callable[[], T]) -> T | IngestResult:
        """A step of one document; its failure becomes the document's result (an unreachable
        service is raised: it stops the batch)."""
        try:
            return step()
        except DocumentError as exc:
            return self._fail(name, exc.reason)
        except ServiceUnavailableError:
            raise
        except KgragError as exc:
            return self._fail(name, str(exc), usage)

    def _read_ahead(
        self, item: FileInput, usage: LLMUsage, pool: ExtractionPool
    ) -> Prepared | IngestResult:
        """Read and chunk one file, continuing from the stage a killed run recorded for the same
        bytes, and send the extraction requests its chunks need."""
        s, name, sha = self.rt.settings, item.name, item.sha
        timings: dict[str, float] = {}
        saved = self.states.get(name)
        if saved is not None and (saved.sha256 != sha or saved.stage is IngestStage.INDEXED):
            saved = None  # changed bytes start over (and replace the old version at the end)
        if saved is None and not self.reextract and self.rt.store.has_document(sha):
            stored = self.rt.store.document(sha[:16]) or {}  # checked before any OCR
            return _unchanged(name, sha[:16], stored.get("title"))
        start = time.perf_counter()
        if saved is not None and saved.document is not None:
            doc = saved.document  # read before the kill: no second OCR
            images = self.rt.page_images.staged(doc.id)  # and its page images kept
        else:
            with self.rt.page_images.staging(sha[:16]) as images:  # discarded if read fails
                doc = read_document(
                    name, item.data, **read_limits(s), ocr=self._ocr_engine, page_images=images
                )
            self.states.read(name, doc)
            saved = None
        timings["read"] = time.perf_counter() - start

        resumed_from = saved.stage if saved is not None else None
        start = time.perf_counter()
        chunks = self._chunk(doc)
        in_graph = (  # the chunks the graph already holds (killed before indexing)
            saved.chunks
            if saved is not None
            and saved.stage is IngestStage.STORED
            and saved.extraction is not None
            and self.rt.store.has_document(doc.sha256)
            else None
        )
        stored = in_graph is not None
        if in_graph is not None:
            chunks = in_graph
        elif saved is None or saved.chunks != chunks:
            self.states.chunked(doc.source, chunks)
            saved = None  # other chunks: an extraction saved for the old ones does not apply
        timings["chunk"] = time.perf_counter() - start

        job = Prepared(name, usage, doc, chunks, images, resumed_from, stored, timings)
        job.embedded = pool.embed_ahead(self.rt.embedder.embed, indexed_texts(chunks))
        extraction = saved.extraction if saved is not None else None
        if extraction is None or (
            not stored and extraction.schema_fingerprint != self.rt.schema.fingerprint
        ):
            job.sent_at = time.perf_counter()
            job.pending = (
                pool.submit(
                    self.extractor.extract,
                    chunks,
                    {"callbacks": [usage]},
                    on_done=self._chunk_progress(doc.title, len(chunks)),
                )
                if self.extract
                else Pending([])  # documents and chunks only: an empty graph
            )
        else:
            job.extraction = extraction
        return job

    def _chunk_progress(self, title: str, total: int) -> Callable[[Chunk], None] | None:
        """Reports 0 of `total` now and one more with each answered chunk."""
        if self.progress is None:
            return None
        progress, done = self.progress, itertools.count(1)
        progress(title, 0, total)
        return lambda _: progress(title, next(done), total)

    def _ocr_engine(self) -> OcrEngine:
        return self.rt.ocr_engine

    def _fail(self, name: str, reason: str, usage: LLMUsage | None = None) -> IngestResult:
        """Record why this run stopped short; the stage reached (and its work) stays."""
        self.states.failed(name, reason)
        return _failed(name, reason, usage, stage=self.states.stage(name))

    def _chunk(self, doc: Document) -> list[Chunk]:
        s = self.rt.settings
        return chunk_document(doc, s, self.rt.embedder if s.chunker == "semantic" else None)

    def _ingest(self, job: Prepared) -> IngestResult:
        """Resolve the answered extraction, store and index; stages a killed run saved are
        not done again."""
        doc, chunks, timings = job.doc, job.chunks, job.timings
        source, extraction = doc.source, job.extraction
        if job.pending is not None:
            extraction = self._resolve(job.pending.results())
            timings["extract"] = time.perf_counter() - job.sent_at
            self.states.extracted(source, extraction)
        assert extraction is not None  # saved by the killed run, or just made

        with self.rt.lock:
            if not job.stored:
                start = time.perf_counter()
                if self.reextract:
                    self.rt.store.delete_document(doc.id)  # the new extraction replaces the old
                self.rt.store.write_document(doc, chunks, extraction.graph)
                timings["store"] = time.perf_counter() - start
                self.states.stored(source)

            start = time.perf_counter()
            if job.embedded is not None:
                wait([job.embedded])  # its failure is met again, and reported, when indexing
            try:
                # a re-extraction's delete may leave entities orphaned: then sync them all
                touched = None if self.reextract else [e.id for e in extraction.graph.entities]
                self.indexes.index_chunks(doc.id, chunks, touched)
                job.images.commit()
            except Exception as exc:
                self.rt.store.delete_document(doc.id)
                self.rt.index("chunks").remove(c.id for c in chunks)
                self.rt.lexical("chunks").remove(c.id for c in chunks)
                self.rt.sentence_vectors.remove_documents([doc.id])
                self.states.back_to(source, IngestStage.EXTRACTED, f"indexing failed: {exc}")
                raise
            timings["embed"] = time.perf_counter() - start
            self._replace_previous_versions(doc)
            self.prune_log.write(
                PruneRecord(
                    document_id=doc.id,
                    source=doc.source,
                    schema_name=self.rt.schema.name,
                    schema_version=self.rt.schema.version,
                    schema_fingerprint=self.rt.schema.fingerprint,
                    report=extraction.report,
                )
            )
            self.states.indexed(source, doc)
        return IngestResult(
            source=doc.source,
            status=IngestStatus.INGESTED,
            stage=IngestStage.INDEXED,
            resumed_from=job.resumed_from,
            document_id=doc.id,
            title=doc.title,
            pages=len(doc.pages),
            chunks=len(chunks),
            entities=len(extraction.graph.entities),
            relationships=len(extraction.graph.relations),
            repaired_outputs=extraction.repaired_outputs,
            cut_outputs=extraction.cut_outputs,
            **job.usage.counts(),
            prune=extraction.report,
            timings_s={k: round(v, 3) for k, v in timings.items()},
        )

    def _resolve(self, extracted: list[ExtractedGraph]) -> Extraction:
        """The chunks' graphs pruned to the schema and resolved against the graph as it is now
        (with the documents before this one in it): against the stored entities any of their
        names could match (known_names.py)."""
        pruned, report = prune(extracted, self.rt.schema)
        names = [node.name for g in pruned for node in g.nodes]
        threshold = self.rt.settings.entity_merge_threshold
        known = self.rt.known_names.stored(self.rt, names, self.name_vectors.embed, threshold)
        graph = resolve(pruned, known=known, embed=self.name_vectors.embed, threshold=threshold)
        return Extraction(
            graph=graph,
            report=report,
            repaired_outputs=sum(g.repaired for g in extracted),
            cut_outputs=sum(g.cut for g in extracted),
            schema_fingerprint=self.rt.schema.fingerprint,
        )

    @property
    def states(self) -> IngestStates:
        return self.rt.ingest_states

    @property
    def name_vectors(self) -> RememberingEmbedder:
        """Entity-name embeddings, computed once per pipeline (resolution, entity index)."""
        if self._names is None:
            self._names = RememberingEmbedder(self.rt.embedder, size=50_000)
        return self._names

    @property
    def extractor(self) -> GraphExtractor:
        if self._extractor is None:
            self._extractor = GraphExtractor(
                self.rt.chat_model,
                self.rt.schema,
                self.rt.prompts,
                budget=partial(extraction_budget, self.rt.settings),
            )
        return self._extractor

    def _replace_previous_versions(self, doc: Document) -> None:
        """A changed file replaces what was ingested from the same source (after the new one
        is fully stored and indexed, so a failure never leaves neither version)."""
        previous = [i for i in self.rt.store.documents_from(doc.source) if i != doc.id]
        if previous:
            self.indexes.remove_documents(previous)


def _unchanged(name: str, document_id: str | None, title: str | None) -> IngestResult:
    return IngestResult(
        source=name,
        status=IngestStatus.UNCHANGED,
        stage=IngestStage.INDEXED,
        document_id=document_id,
        title=title,
    )


def _failed(
    name: str,
    reason: str,
    usage: LLMUsage | None = None,
    stage: IngestStage = IngestStage.PENDING,
) -> IngestResult:
    counts = usage.counts() if usage else {}
    return IngestResult(
        source=name, status=IngestStatus.FAILED, stage=stage, error=reason, **counts
    )
