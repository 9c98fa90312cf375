"""Link question mentions to graph entities: exact name/alias match, lexical (character n-gram)
match, then FAISS similarity."""

from __future__ import annotations

import re

from kgrag.ingest.entity_match import entity_key
from kgrag.lexical import LexicalIndex, ngrams, words
from kgrag.ports import Embedder
from kgrag.types import LinkedEntity
from kgrag.vectors import VectorIndex

MIN_EXACT_CHARS = 3  # shorter names ("AI", "X") only link by similarity
MIN_LEXICAL_CHARS = 2  # names in scripts without letter case (서울, 민준) may be this short
LEXICAL_CANDIDATES = 20  # BM25 hits checked for n-gram coverage per question
_WORD = re.compile(r"\w+", flags=re.UNICODE)
KEY_SEPARATOR = "\x1f"  # entity index ids are "<entity id>\x1f<surface form>"
_TOKEN = re.compile(r"[\w'’-]+", flags=re.UNICODE)
_STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or is was were are be been who whom whose what "
    "which when where why how did does do this that these those it its his her their he she they "
    "as into than then there here also about after before".split()
)


def entity_index_key(entity_id: str, surface: str) -> str:
    return f"{entity_id}{KEY_SEPARATOR}{surface}"


def split_entity_index_key(key: str) -> tuple[str, str]:
    entity_id, _, surface = key.partition(KEY_SEPARATOR)
    return entity_id, surface


def surfaces_by_entity(index: VectorIndex) -> dict[str, set[str]]:
    """Entity id -> its names and aliases, from the entity index's keys."""
    surfaces: dict[str, set[str]] = {}
    for key in index.ids:
        entity_id, surface = split_entity_index_key(key)
        surfaces.setdefault(entity_id, set()).add(surface)
    return surfaces


class EntityLinker:
    """Finds the graph entities a question talks about."""

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder,
        *,
        threshold: float,
        max_span: int = 4,
        lexical: LexicalIndex | None = None,
        lexical_threshold: float = 1.0,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.threshold = threshold
        self.max_span = max_span
        self.lexical = lexical  # the same keys as `index`, over the names' text
        self.lexical_threshold = lexical_threshold
        self.version = index.version
        self.surfaces = surfaces_by_entity(index)  # built once: windows look names up here
        # name key -> (entity id, surface), grouped by the key's first word for lookup
        self._by_first_word: dict[str, dict[str, tuple[str, str]]] = {}
        for entity_id, names in self.surfaces.items():
            for surface in names:
                name = entity_key(surface)
                first = _WORD.match(name)
                if len(name) >= MIN_EXACT_CHARS and first:
                    self._by_first_word.setdefault(first.group(), {}).setdefault(
                        name, (entity_id, surface)
                    )

    def link(self, question: str) -> list[LinkedEntity]:
        linked = {e.entity_id: e for e in self._exact(question)}
        for entity in [*self._lexical(question), *self._similar(question)]:
            linked.setdefault(entity.entity_id, entity)
        return sorted(linked.values(), key=lambda e: -e.score)

    def _exact(self, question: str) -> list[LinkedEntity]:
        """Names that occur in the question as whole words: for each word of the question,
        only the names starting with that word are compared (fast for 100k+ names)."""
        text = entity_key(question)
        found: dict[str, LinkedEntity] = {}
        for word in _WORD.finditer(text):
            for name, (entity_id, surface) in self._by_first_word.get(word.group(), {}).items():
                end = word.start() + len(name)
                if text.startswith(name, word.start()) and not _WORD.match(text[end : end + 1]):
                    found.setdefault(
                        name,
                        LinkedEntity(
                            mention=surface,
                            entity_id=entity_id,
                            name=surface,
                            score=1.0,
                            method="exact",
                        ),
                    )
        return list(found.values())

    def _lexical(self, question: str) -> list[LinkedEntity]:
        """Names most of whose character n-grams occur in the question, the first at the start
        of a word: Korean names followed by particles (서울에서), spacing and hyphen variants
        of transliterations (Min-jun, Minjun). BM25 picks the candidates."""
        if self.lexical is None:
            return []
        n = self.lexical.ngram
        grams = set(_grams(question, n))
        word_starts = {ngrams(w, n, any_script=True)[0] for w in words(question)}
        found: dict[str, LinkedEntity] = {}
        for key, _ in self.lexical.search(question, LEXICAL_CANDIDATES):
            entity_id, surface = split_entity_index_key(key)
            name = _grams(surface, n)
            if not name or name[0] not in word_starts or not _long_enough(surface):
                continue
            coverage = sum(g in grams for g in name) / len(name)
            best = found.get(entity_id)
            if coverage >= self.lexical_threshold and (best is None or coverage > best.score):
                found[entity_id] = LinkedEntity(
                    mention=surface, entity_id=entity_id, name=surface, score=coverage,
                    method="lexical",
                )  # fmt: skip
        return list(found.values())

    def _similar(self, question: str) -> list[LinkedEntity]:
        spans = question_spans(question, self.max_span)
        if not spans or not len(self.index):
            return []
        hits = self.index.search(self.embedder.embed(spans), k=1)
        found = []
        for span, row in zip(spans, hits, strict=True):
            if row and row[0][1] >= self.threshold:
                entity_id, surface = split_entity_index_key(row[0][0])
                found.append(
                    LinkedEntity(
                        mention=span,
                        entity_id=entity_id,
                        name=surface,
                        score=row[0][1],
                        method="vector",
                    )
                )
        return found


def _grams(text: str, n: int) -> list[str]:
    return [g for w in words(text) for g in ngrams(w, n, any_script=True)]


def _long_enough(name: str) -> bool:
    """Latin-script (cased) names need MIN_EXACT_CHARS letters; others MIN_LEXICAL_CHARS."""
    letters = "".join(words(name))
    cased = any(c.lower() != c.upper() for c in letters)
    return len(letters) >= (MIN_EXACT_CHARS if cased else MIN_LEXICAL_CHARS)


def question_spans(question: str, max_span: int) -> list[str]:
    """Every run of up to `max_span` words that neither starts nor ends with a stopword."""
    tokens = _TOKEN.findall(question)
    spans = set()
    for size in range(1, max_span + 1):
        for i in range(len(tokens) - size + 1):
            words = tokens[i : i + size]
            if words[0].lower() in _STOPWORDS or words[-1].lower() in _STOPWORDS:
                continue
            spans.add(" ".join(words))
    return sorted(spans)
