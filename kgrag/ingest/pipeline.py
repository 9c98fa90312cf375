"""Ingest pipeline: wires read -> chunk -> extract -> prune -> resolve -> write -> embed."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from kgrag.errors import DocumentError, KgragError, ServiceUnavailableError
from kgrag.ingest.chunking import chunk_document
from kgrag.ingest.extract import GraphExtractor, extraction_budget
from kgrag.ingest.prune import prune
from kgrag.ingest.prune_log import PruneLog, PruneRecord
from kgrag.ingest.read import SUPPORTED_SUFFIXES, read_document, read_limits
from kgrag.ingest.resolve import resolve
from kgrag.ingest.state import DocumentState, Extraction, IngestStates
from kgrag.llm.usage import LLMUsage
from kgrag.metrics import observe_ingest
from kgrag.ocr.base import OcrEngine
from kgrag.page_images import StagedPages
from kgrag.retrieve.link import entity_index_key
from kgrag.runtime import Runtime
from kgrag.types import Chunk, Document, IngestResult, IngestStage, IngestStatus

REBUILD_BATCH = 256  # chunks embedded per step of `rebuild_indexes`
# (document name, chunks done, chunks total)
ProgressCallback = Callable[[str, int, int], None]


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
    """Ingests files; `reextract=True` extracts unchanged files again (a new schema applied)."""

    def __init__(
        self,
        runtime: Runtime,
        progress: ProgressCallback | None = None,
        *,
        reextract: bool = False,
    ) -> None:
        self.rt = runtime
        self.progress = progress
        self.reextract = reextract
        self.prune_log = PruneLog(runtime.settings.data_dir)
        self._extractor: GraphExtractor | None = None

    def ingest_paths(self, paths: Iterable[Path]) -> list[IngestResult]:
        results = []
        files = expand_paths(paths)
        self.states.pending([str(path) for path in files])
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                results.append(self._fail(str(path), f"cannot read file ({exc.strerror or exc})"))
                continue
            results.append(self.ingest_bytes(str(path), data))
        return results

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
        result = self._ingest_bytes(name, data)
        observe_ingest(result)
        return result

    def _ingest_bytes(self, name: str, data: bytes) -> IngestResult:
        """Ingest one file, continuing from the stage a killed run recorded for the same bytes."""
        s = self.rt.settings
        timings: dict[str, float] = {}
        usage = LLMUsage()
        sha = hashlib.sha256(data).hexdigest()
        saved = self.states.get(name)
        if saved is not None and saved.sha256 != sha:
            saved = None  # changed bytes start over (and replace the old version at the end)
        try:
            if saved is not None and saved.stage is IngestStage.INDEXED:
                saved = None
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
                        name, data, **read_limits(s), ocr=self._ocr_engine, page_images=images
                    )
                self.states.read(name, doc)
                saved = None
            timings["read"] = time.perf_counter() - start
            return self._ingest(doc, saved, timings, usage, images)
        except DocumentError as exc:
            return self._fail(name, exc.reason)
        except ServiceUnavailableError as exc:
            self._fail(name, str(exc))
            raise  # not this file's fault: stop the batch, keep what is complete
        except KgragError as exc:
            return self._fail(name, str(exc), usage)

    def _ocr_engine(self) -> OcrEngine:
        return self.rt.ocr_engine

    def _fail(self, name: str, reason: str, usage: LLMUsage | None = None) -> IngestResult:
        """Record why this run stopped short; the stage reached (and its work) stays."""
        self.states.failed(name, reason)
        return _failed(name, reason, usage, stage=self.states.stage(name))

    def _chunk(self, doc: Document) -> list[Chunk]:
        s = self.rt.settings
        return chunk_document(doc, s, self.rt.embedder if s.chunker == "semantic" else None)

    def _ingest(
        self,
        doc: Document,
        saved: DocumentState | None,
        timings: dict[str, float],
        usage: LLMUsage,
        images: StagedPages,
    ) -> IngestResult:
        """Chunk, extract, store, index; stages `saved` by a killed run are not done again."""
        source, resumed_from = doc.source, saved.stage if saved is not None else None
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
            self.states.chunked(source, chunks)
            saved = None  # other chunks: an extraction saved for the old ones does not apply
        timings["chunk"] = time.perf_counter() - start

        extraction = saved.extraction if saved is not None else None
        if extraction is None or (
            not stored and extraction.schema_fingerprint != self.rt.schema.fingerprint
        ):
            start = time.perf_counter()
            extraction = self._extract(doc, chunks, usage)
            timings["extract"] = time.perf_counter() - start
            self.states.extracted(source, extraction)

        with self.rt.lock:
            if not stored:
                start = time.perf_counter()
                if self.reextract:
                    self.rt.store.delete_document(doc.id)  # the new extraction replaces the old
                self.rt.store.write_document(doc, chunks, extraction.graph)
                timings["store"] = time.perf_counter() - start
                self.states.stored(source)

            start = time.perf_counter()
            try:
                self._index(doc.id, chunks)
                images.commit()
            except Exception as exc:
                self.rt.store.delete_document(doc.id)
                self.rt.index("chunks").remove(c.id for c in chunks)
                self.rt.lexical("chunks").remove(c.id for c in chunks)
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
            resumed_from=resumed_from,
            document_id=doc.id,
            title=doc.title,
            pages=len(doc.pages),
            chunks=len(chunks),
            entities=len(extraction.graph.entities),
            relationships=len(extraction.graph.relations),
            repaired_outputs=extraction.repaired_outputs,
            cut_outputs=extraction.cut_outputs,
            **usage.counts(),
            prune=extraction.report,
            timings_s={k: round(v, 3) for k, v in timings.items()},
        )

    def _extract(self, doc: Document, chunks: list[Chunk], usage: LLMUsage) -> Extraction:
        """LLM extraction of every chunk, pruned to the schema and resolved against the graph."""
        done = 0
        if self.progress:
            self.progress(doc.title, 0, len(chunks))

        def on_done(_: Chunk) -> None:
            nonlocal done
            done += 1
            if self.progress:
                self.progress(doc.title, done, len(chunks))

        extracted = self.extractor.extract_all(
            chunks,
            concurrency=self.rt.settings.llm_parallel,
            on_done=on_done,
            config={"callbacks": [usage]},
        )
        pruned, report = prune(extracted, self.rt.schema)
        graph = resolve(
            pruned,
            known=self.rt.store.entities(),
            embed=self.rt.embedder.embed,
            threshold=self.rt.settings.entity_merge_threshold,
        )
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
    def extractor(self) -> GraphExtractor:
        if self._extractor is None:
            self._extractor = GraphExtractor(
                self.rt.chat_model,
                self.rt.schema,
                self.rt.prompts,
                budget=partial(extraction_budget, self.rt.settings),
            )
        return self._extractor

    def _index(self, document_id: str, chunks: list[Chunk]) -> None:
        """Embed and BM25-index new chunks (dropping the document's stale ones), sync entity
        names, save."""
        chunk_index, lexical = self.rt.index("chunks"), self.rt.lexical("chunks")
        fresh = {c.id for c in chunks}
        prefix = f"{document_id}:"
        stale = [i for i in chunk_index.ids if i.startswith(prefix) and i not in fresh]
        chunk_index.remove(stale)
        lexical.remove(stale)
        chunk_index.add([c.id for c in chunks], self.rt.embedder.embed([c.text for c in chunks]))
        lexical.add([c.id for c in chunks], [c.text for c in chunks])
        self.rt.chunk_texts.remove_documents([document_id])
        self.rt.chunk_texts.put(self.rt.store.evidence([c.id for c in chunks]))
        self.sync_entity_index()
        chunk_index.save()

    def _replace_previous_versions(self, doc: Document) -> None:
        """A changed file replaces what was ingested from the same source (after the new one
        is fully stored and indexed, so a failure never leaves neither version)."""
        previous = [
            d["id"]
            for d in self.rt.store.list_documents()
            if d["source"] == doc.source and d["id"] != doc.id
        ]
        if previous:
            self.remove_documents(previous)

    def remove_documents(self, document_ids: list[str]) -> None:
        """Delete documents from the graph and both indexes, leaving them consistent."""
        for document_id in document_ids:
            self.rt.store.delete_document(document_id)
            self.prune_log.remove(document_id)
            self.rt.page_images.remove(document_id)
        chunk_index = self.rt.index("chunks")
        prefixes = tuple(f"{document_id}:" for document_id in document_ids)
        gone = [i for i in chunk_index.ids if i.startswith(prefixes)]
        chunk_index.remove(gone)
        self.rt.lexical("chunks").remove(gone)
        chunk_index.save()
        self.rt.chunk_texts.remove_documents(document_ids)
        self.sync_entity_index()

    def rebuild_indexes(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Re-embed every chunk and entity name of the graph into fresh indexes (lost or
        damaged index files; another embedding model)."""
        with self.rt.lock:
            chunks = self.rt.store.chunk_texts()
            chunk_index = self.rt.reset_index("chunks")
            self.rt.chunk_texts.clear()
            for start in range(0, len(chunks), REBUILD_BATCH):
                batch = chunks[start : start + REBUILD_BATCH]
                ids = [i for i, _ in batch]
                chunk_index.add(ids, self.rt.embedder.embed([t for _, t in batch]))
                self.rt.lexical("chunks").add(ids, [t for _, t in batch])
                self.rt.chunk_texts.put(self.rt.store.evidence(ids))
                if progress:
                    progress(start + len(batch), len(chunks))
            chunk_index.save()
            self.rt.reset_index("entities")
            self.sync_entity_index()

    def sync_entity_index(self) -> None:
        """Make the entity-name indexes (FAISS, BM25) hold exactly the graph's entity names
        and aliases."""
        entity_index, lexical = self.rt.index("entities"), self.rt.lexical("entities")
        wanted = {
            entity_index_key(e.id, surface): surface
            for e in self.rt.store.entities()
            for surface in (e.name, *e.aliases)
        }
        gone = [k for k in entity_index.ids if k not in wanted]
        entity_index.remove(gone)
        lexical.remove(gone)
        fresh = [k for k in wanted if k not in entity_index]
        entity_index.add(fresh, self.rt.embedder.embed([wanted[k] for k in fresh]))
        lexical.add(fresh, [wanted[k] for k in fresh])
        entity_index.save()


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
