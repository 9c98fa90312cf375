"""FAISS vector index keyed by string ids, persisted atomically next to the project data."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

from kgrag.errors import IndexCorruptError
from kgrag.vector_journal import ADD, REMOVE, Change, VectorJournal

# FAISS's flat search scores queries one at a time unless told to use one matrix product
# (`distance_compute_blas_threshold`); one query costs ~11 ms over 100k vectors either way or
# less, but a question's word spans (often 10-30) are searched together: 18 spans, 198 ms one
# at a time vs 38 ms as a product (one thread; benchmarks/vector_search.py).
BLAS_MIN_QUERIES = 3
_FAISS_BLAS_THRESHOLD = faiss.cvar.distance_compute_blas_threshold

# IVF lists: ~4 * sqrt(n) (FAISS's rule of thumb), at most MAX_LISTS and at least
# MIN_POINTS_PER_LIST training vectors each (FAISS warns below 39).
MAX_LISTS = 4096
MIN_POINTS_PER_LIST = 39
DEFAULT_NPROBE = 16

# `save` appends to the journal (vector_journal.py) until it outgrows this share of the saved
# index or holds this many removals (each replayed as a re-add of every vector), then saves all.
JOURNAL_SHARE = 0.25
JOURNAL_MAX_REMOVALS = 8


class VectorIndex:
    """Inner-product search over normalised vectors (cosine similarity).

    Exact (`IndexFlatIP`) unless `approximate_min` is set: the `add` that brings the index to
    that many vectors turns it into an `IndexIVFFlat` whose lists are trained (k-means) on every
    vector present then; searches visit `nprobe` lists. Vectors added later join the nearest
    trained list without retraining (`kgrag index rebuild` retrains); removals keep it IVF even
    below `approximate_min`. A flat file above `approximate_min` switches at its next `add`;
    `approximate_min=None` keeps the index exact, an IVF file loaded included.

    `save` writes the whole index, or only the changes since the last save to a journal beside
    it while that stays small (vector_journal.py); `open` replays the journal.
    """

    def __init__(
        self,
        path: Path,
        dimension: int,
        *,
        approximate_min: int | None = None,
        nprobe: int = DEFAULT_NPROBE,
    ) -> None:
        self.path = Path(path)
        self.dimension = dimension
        self.approximate_min = approximate_min
        self.nprobe = nprobe
        self.ids: list[str] = []
        self.version = 0  # bumped on every change, so caches built from `ids` know to rebuild
        self.index: faiss.Index = faiss.IndexFlatIP(dimension)
        self._positions: dict[str, int] = {}
        self._journal = VectorJournal(self.path.with_suffix(".journal"), dimension)
        self._unsaved: list[Change] = []
        self._journal_removals = 0
        self._save_all = True  # until a saved index (and its journal) is known to be on disk

    @classmethod
    def open(
        cls,
        path: Path,
        dimension: int,
        *,
        approximate_min: int | None = None,
        nprobe: int = DEFAULT_NPROBE,
    ) -> VectorIndex:
        """Load the index at `path` (``.faiss`` + ``.ids.json``) or start an empty one."""
        index = cls(path, dimension, approximate_min=approximate_min, nprobe=nprobe)
        faiss_file, ids_file = index._files()
        if faiss_file.exists() != ids_file.exists():
            missing = ids_file if faiss_file.exists() else faiss_file
            raise IndexCorruptError(str(path), f"{missing.name} is missing")
        if faiss_file.exists():
            try:
                index.index = faiss.read_index(str(faiss_file))
                index.ids = json.loads(ids_file.read_text(encoding="utf-8"))
            except (RuntimeError, ValueError, OSError) as exc:  # faiss raises RuntimeError
                raise IndexCorruptError(str(path), f"cannot be read: {exc}") from exc
            if index.index.ntotal != len(index.ids) or index.index.d != dimension:
                raise IndexCorruptError(
                    str(path),
                    f"{index.index.ntotal} vectors of dimension {index.index.d} for "
                    f"{len(index.ids)} ids, expected dimension {dimension}",
                )
            if isinstance(index.index, faiss.IndexIVF):
                index.index.nprobe = nprobe
                if approximate_min is None:
                    index.index = _flat(index._all_vectors())
        index._positions = {id_: i for i, id_ in enumerate(index.ids)}
        if faiss_file.exists():
            index._replay_journal()
        return index

    def _replay_journal(self) -> None:
        changes, damaged = self._journal.read()
        approximate = self.approximate
        for change in changes:
            if change.operation == ADD:
                self.add(change.ids, change.vectors)
            else:
                self.remove(change.ids)
        self._unsaved = []
        self._journal_removals = sum(c.operation == REMOVE for c in changes)
        self._save_all = damaged or self.approximate != approximate  # trained on replay

    @classmethod
    def empty(
        cls,
        path: Path,
        dimension: int,
        *,
        approximate_min: int | None = None,
        nprobe: int = DEFAULT_NPROBE,
    ) -> VectorIndex:
        """A new, empty index at `path` (replaces the files on `save()`)."""
        return cls(path, dimension, approximate_min=approximate_min, nprobe=nprobe)

    @property
    def approximate(self) -> bool:
        return isinstance(self.index, faiss.IndexIVF)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, id_: str) -> bool:
        return id_ in self._positions

    def add(self, ids: list[str], vectors: np.ndarray) -> None:
        """Add vectors for ids not yet present (adding an existing id is a no-op)."""
        fresh = [i for i, id_ in enumerate(ids) if id_ not in self._positions]
        if not fresh:
            return
        added = np.ascontiguousarray(vectors[fresh], dtype="float32")
        self.index.add(added)
        for i in fresh:
            self._positions[ids[i]] = len(self.ids)
            self.ids.append(ids[i])
        self._unsaved.append(Change(ADD, [ids[i] for i in fresh], added))
        if (
            self.approximate_min is not None
            and len(self.ids) >= self.approximate_min
            and not self.approximate
        ):
            self.index = _trained_ivf(self._all_vectors(), self.nprobe)
            self._save_all = True  # a replay would train it again
        self.version += 1

    def remove(self, ids: Iterable[str]) -> None:
        """Drop these ids' vectors; the rest are added again in order (an IVF index keeps its
        trained lists)."""
        gone = set(ids) & self._positions.keys()
        if not gone:
            return
        keep = [i for i, id_ in enumerate(self.ids) if id_ not in gone]
        vectors = self._all_vectors()[keep]
        self.index.reset()
        self.index.add(vectors)
        self.ids = [self.ids[i] for i in keep]
        self._positions = {id_: i for i, id_ in enumerate(self.ids)}
        self._unsaved.append(Change(REMOVE, sorted(gone)))
        self.version += 1

    def vector(self, id_: str) -> np.ndarray | None:
        pos = self._positions.get(id_)
        return None if pos is None else self.index.reconstruct(pos)

    def search(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Top-k (id, cosine) per query row."""
        if not self.ids:
            return [[] for _ in range(len(vectors))]
        # process-wide and set per call: a concurrent search at worst takes the slower path
        faiss.cvar.distance_compute_blas_threshold = (
            1 if len(vectors) >= BLAS_MIN_QUERIES else _FAISS_BLAS_THRESHOLD
        )
        scores, positions = self.index.search(
            np.ascontiguousarray(vectors, dtype="float32"), min(k, len(self.ids))
        )
        return [
            [(self.ids[p], float(s)) for s, p in zip(row_s, row_p, strict=True) if p >= 0]
            for row_s, row_p in zip(scores, positions, strict=True)
        ]

    def save(self) -> None:
        """Persist the changes since the last save: appended to the journal, or the whole
        index written (atomically per file) and the journal emptied."""
        removals = self._journal_removals + sum(c.operation == REMOVE for c in self._unsaved)
        if self._save_all or removals > JOURNAL_MAX_REMOVALS or self._journal_outgrown():
            self._save_whole()
        elif self._unsaved:
            self._journal.append(self._unsaved)
            self._journal_removals = removals
        self._unsaved = []

    def _journal_outgrown(self) -> bool:
        unsaved = sum(c.vectors.nbytes for c in self._unsaved if c.vectors is not None)
        faiss_file = self._files()[0]
        saved = faiss_file.stat().st_size if faiss_file.exists() else 0
        return self._journal.size() + unsaved > JOURNAL_SHARE * saved

    def _save_whole(self) -> None:
        faiss_file, ids_file = self._files()
        faiss_file.parent.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(faiss_file) + ".tmp")
        ids_file.with_suffix(".tmp").write_text(json.dumps(self.ids), encoding="utf-8")
        os.replace(str(faiss_file) + ".tmp", faiss_file)
        os.replace(ids_file.with_suffix(".tmp"), ids_file)
        self._journal.clear()  # after the index: replaying it over the new one changes nothing
        self._journal_removals, self._save_all = 0, False

    def _files(self) -> tuple[Path, Path]:
        return self.path.with_suffix(".faiss"), self.path.with_suffix(".ids.json")

    def _all_vectors(self) -> np.ndarray:
        return self.index.reconstruct_n(0, self.index.ntotal)


def _flat(vectors: np.ndarray) -> faiss.IndexFlatIP:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def _trained_ivf(vectors: np.ndarray, nprobe: int) -> faiss.IndexIVFFlat:
    """An IVF index over `vectors`, its lists trained on them; a direct map for `reconstruct`."""
    n, dimension = vectors.shape
    lists = max(1, min(round(4 * math.sqrt(n)), n // MIN_POINTS_PER_LIST, MAX_LISTS))
    index = faiss.index_factory(dimension, f"IVF{lists},Flat", faiss.METRIC_INNER_PRODUCT)
    index.train(vectors)
    index.make_direct_map()
    index.nprobe = nprobe
    index.add(vectors)
    return index
