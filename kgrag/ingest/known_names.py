"""Which stored entities could a document's new names join? Resolution's candidates.

`resolve` compares each new name with every stored name it is given; given the whole graph,
that is a read and a pass over all stored names per document. Every pair
`entity_match.match_names` or an embedding could merge is found here without that pass:
- variant: the same `loose_key` (a dictionary);
- acronym: one name's letters are the other's initials (two dictionaries);
- spelling: `fuzz.ratio` of the loose keys over the spelling threshold (`close_spellings`);
- embedding: the nearest names of the FAISS entity index at cosine >= the threshold.

The catalogue is the entity index's keys (entity id + surface): ingest keeps them equal to the
graph's names and aliases (`DocumentIndexes.sync_entities`). Only the keys that changed since
the last call are (re)derived; the runtime keeps one catalogue for all its ingests.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from kgrag.ingest.entity_match import (
    COSINE_SLACK,
    MIN_SPELLING_LENGTH,
    EmbedFn,
    acronym_letters,
    close_spellings,
    initials_of_key,
    loose_key,
)
from kgrag.retrieve.link import split_entity_index_key
from kgrag.types import Entity
from kgrag.vectors import VectorIndex

if TYPE_CHECKING:
    from kgrag.runtime import Runtime

EMBEDDING_CANDIDATES = 32  # nearest stored names looked at per new name


class KnownNames:
    """The keys of one entity index (entity id + surface), looked up by entity and by the keys
    of the string evidence."""

    def __init__(self) -> None:
        self._start_over()

    def _start_over(self) -> None:
        self._index: VectorIndex | None = None
        self._version = -1
        self._derived: dict[str, tuple[str, str | None, str | None, str]] = {}
        self._by_loose: dict[str, set[str]] = defaultdict(set)
        self._by_initials: dict[str, set[str]] = defaultdict(set)
        self._by_letters: dict[str, set[str]] = defaultdict(set)
        self._by_entity: dict[str, set[str]] = defaultdict(set)
        self._spelling: tuple[list[str], list[str]] | None = None  # (loose keys, index keys)

    def stored(
        self, rt: Runtime, names: list[str], embed: EmbedFn | None, threshold: float
    ) -> list[Entity]:
        """The candidates of `names` in `rt`'s graph, read as they are stored now (an entity
        edited or deleted since the index was synced counts as it is)."""
        with rt.lock:  # the entity index changes only under it
            ids = self.candidates(rt.index("entities"), names, embed, threshold)
        return rt.store.entity_names(sorted(ids)) if ids else []

    def candidates(
        self, index: VectorIndex, names: list[str], embed: EmbedFn | None, threshold: float
    ) -> set[str]:
        """Ids of the stored entities with a name or alias that could match one of `names`."""
        self._sync(index)
        found: set[str] = set()
        for name in names:
            loose = loose_key(name)
            found |= self._by_loose.get(loose, set())
            if (name_initials := initials_of_key(loose)) is not None:
                found |= self._by_letters.get(name_initials, set())
            if (letters := acronym_letters(name)) is not None:
                found |= self._by_initials.get(letters, set())
        found |= self._similar_spellings(names)
        if embed is not None and names and len(index):
            for row in index.search(embed(names), EMBEDDING_CANDIDATES):
                found |= {key for key, score in row if score >= threshold - COSINE_SLACK}
        return {split_entity_index_key(key)[0] for key in found}

    def keys_of(self, index: VectorIndex, entity_ids: list[str]) -> set[str]:
        """The index keys (one per name and alias) of these entities."""
        self._sync(index)
        return {key for i in entity_ids for key in self._by_entity.get(i, ())}

    def _similar_spellings(self, names: list[str]) -> set[str]:
        queries = [k for k in map(loose_key, names) if len(k) >= MIN_SPELLING_LENGTH]
        if self._spelling is None:
            kept = [(k, d[0]) for k, d in self._derived.items() if len(d[0]) >= MIN_SPELLING_LENGTH]
            self._spelling = ([loose for _, loose in kept], [key for key, _ in kept])
        choices, keys = self._spelling
        return {keys[col] for _, col in close_spellings(queries, choices)}

    def _sync(self, index: VectorIndex) -> None:
        """Derive the keys added to the index since the last call, forget the removed ones."""
        if index is self._index and index.version == self._version:
            return
        if index is not self._index:
            self._start_over()  # another index object (a rebuild, another runtime)
        current = set(index.ids)
        for key in self._derived.keys() - current:
            self._forget(key)
        for key in current - self._derived.keys():
            self._derive(key)
        self._index, self._version, self._spelling = index, index.version, None

    def _derive(self, key: str) -> None:
        entity_id, surface = split_entity_index_key(key)
        loose = loose_key(surface)
        derived = (loose, initials_of_key(loose), acronym_letters(surface), entity_id)
        self._derived[key] = derived
        for table, value in zip(self._tables(), derived, strict=True):
            if value:
                table[value].add(key)

    def _forget(self, key: str) -> None:
        for table, value in zip(self._tables(), self._derived.pop(key), strict=True):
            if value:
                table[value].discard(key)
                if not table[value]:
                    del table[value]

    def _tables(self) -> tuple[dict[str, set[str]], ...]:
        return self._by_loose, self._by_initials, self._by_letters, self._by_entity
