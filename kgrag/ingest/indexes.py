"""The chunk and entity-name indexes (FAISS, BM25, the chunk-text copy) kept in step with the
graph: a document's chunks indexed, documents removed, everything rebuilt from the graph."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kgrag.ingest.prune_log import PruneLog
from kgrag.retrieve.link import entity_index_key
from kgrag.runtime import Runtime
from kgrag.sentence_vectors import sentence_texts
from kgrag.types import Chunk, Evidence

REBUILD_BATCH = 256  # chunks embedded per step of `rebuild`


def indexed_texts(chunks: list[Chunk]) -> list[str]:
    """Every text `index_chunks` embeds for these chunks: their texts and their sentences."""
    return [c.text for c in chunks] + [s for c in chunks for s in sentence_texts(c.text)]


class DocumentIndexes:
    """Index upkeep for one runtime; `embed_names` embeds entity names (the pipeline's cache)."""

    def __init__(
        self, runtime: Runtime, prune_log: PruneLog, embed_names: Callable[[list[str]], np.ndarray]
    ) -> None:
        self.rt = runtime
        self.prune_log = prune_log
        self.embed_names = embed_names

    def index_chunks(
        self, document_id: str, chunks: list[Chunk], entity_ids: list[str] | None = None
    ) -> None:
        """Embed and BM25-index new chunks and their sentences (dropping the document's stale
        ones), sync entity names, save. `entity_ids`: the entities the document's write could
        change, the only ones synced unless stale chunks show it replaced an older cut (whose
        delete may have orphaned others); None: sync all."""
        chunk_index, lexical = self.rt.index("chunks"), self.rt.lexical("chunks")
        fresh = {c.id for c in chunks}
        prefix = f"{document_id}:"
        stale = [i for i in chunk_index.ids if i.startswith(prefix) and i not in fresh]
        chunk_index.remove(stale)
        lexical.remove(stale)
        chunk_index.add([c.id for c in chunks], self.rt.embedder.embed([c.text for c in chunks]))
        lexical.add([c.id for c in chunks], [c.text for c in chunks])
        self.rt.sentence_vectors.remove_documents([document_id])
        self.rt.sentence_vectors.embed_chunks(
            self.rt.embedder, document_id, [(c.id, c.text) for c in chunks]
        )
        self.rt.chunk_texts.remove_documents([document_id])
        self.rt.chunk_texts.put(self.rt.store.evidence([c.id for c in chunks]))
        self.sync_entities(None if stale else entity_ids)
        chunk_index.save()

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
        self.rt.sentence_vectors.remove_documents(document_ids)
        self.sync_entities()

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Re-embed every chunk and entity name of the graph into fresh indexes (lost or
        damaged index files; another embedding model)."""
        with self.rt.lock:
            chunks = self.rt.store.chunk_texts()
            chunk_index = self.rt.reset_index("chunks")
            self.rt.chunk_texts.clear()
            self.rt.sentence_vectors.clear()
            for start in range(0, len(chunks), REBUILD_BATCH):
                batch = chunks[start : start + REBUILD_BATCH]
                ids = [i for i, _ in batch]
                chunk_index.add(ids, self.rt.embedder.embed([t for _, t in batch]))
                self.rt.lexical("chunks").add(ids, [t for _, t in batch])
                evidence = self.rt.store.evidence(ids)
                self.rt.chunk_texts.put(evidence)
                for document_id, items in _by_document(evidence).items():
                    self.rt.sentence_vectors.embed_chunks(
                        self.rt.embedder, document_id, [(e.chunk_id, e.text) for e in items]
                    )
                if progress:
                    progress(start + len(batch), len(chunks))
            chunk_index.save()
            self.rt.reset_index("entities")
            self.sync_entities()

    def sync_entities(self, entity_ids: list[str] | None = None) -> None:
        """Make the entity-name indexes (FAISS, BM25) hold exactly the graph's names and
        aliases: of every entity, or only of `entity_ids` (one read of those, not of all)."""
        entity_index, lexical = self.rt.index("entities"), self.rt.lexical("entities")
        wanted = {
            entity_index_key(e.id, surface): surface
            for e in self.rt.store.entity_names(entity_ids)
            for surface in (e.name, *e.aliases)
        }
        present = (
            entity_index.ids
            if entity_ids is None
            else self.rt.known_names.keys_of(entity_index, entity_ids)
        )
        gone = [k for k in present if k not in wanted]
        entity_index.remove(gone)
        lexical.remove(gone)
        fresh = [k for k in wanted if k not in entity_index]
        entity_index.add(fresh, self.embed_names([wanted[k] for k in fresh]))
        lexical.add(fresh, [wanted[k] for k in fresh])
        entity_index.save()


def _by_document(evidence: list[Evidence]) -> dict[str, list[Evidence]]:
    grouped: dict[str, list[Evidence]] = {}
    for item in evidence:
        grouped.setdefault(item.document_id, []).append(item)
    return grouped
