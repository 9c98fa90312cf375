"""Link question mentions to graph entities: exact name/alias match first, then FAISS similarity."""

from __future__ import annotations

import re

from kgrag.ingest.entity_match import entity_key
from kgrag.ports import Embedder
from kgrag.types import LinkedEntity
from kgrag.vectors import VectorIndex

MIN_EXACT_CHARS = 3  # shorter names ("AI", "X") only link by similarity
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


class EntityLinker:
    """Finds the graph entities a question talks about."""

    def __init__(
        self, index: VectorIndex, embedder: Embedder, *, threshold: float, max_span: int = 4
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.threshold = threshold
        self.max_span = max_span
        self.version = index.version
        # name key -> (entity id, surface), grouped by the key's first word for lookup
        self._by_first_word: dict[str, dict[str, tuple[str, str]]] = {}
        for key in index.ids:
            entity_id, surface = split_entity_index_key(key)
            name = entity_key(surface)
            first = _WORD.match(name)
            if len(name) >= MIN_EXACT_CHARS and first:
                self._by_first_word.setdefault(first.group(), {}).setdefault(
                    name, (entity_id, surface)
                )

    def link(self, question: str) -> list[LinkedEntity]:
        linked = {e.entity_id: e for e in self._exact(question)}
        for entity in self._similar(question):
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
