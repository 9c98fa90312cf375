"""Do two names of the same type name the same entity? (entity resolution, duplicate review)

Evidence, strongest first: the same name once titles and legal suffixes are stripped
("Dr. Ingrid Voss", "Halden Robotics AS"), an acronym of the other ("IBM", "U.S."), a
near-identical spelling (typos), or embeddings at least `threshold` similar.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Literal

import numpy as np
from pydantic import BaseModel
from rapidfuzz import fuzz, process

EmbedFn = Callable[[list[str]], np.ndarray]
Method = Literal["variant", "acronym", "spelling", "embedding"]

_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+", flags=re.IGNORECASE)
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", flags=re.UNICODE)
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "prof", "sir", "dame"})
_LEGAL_SUFFIXES = frozenset(
    {"as", "asa", "ab", "ag", "sa", "inc", "ltd", "llc", "plc", "gmbh", "corp", "corporation",
     "co", "company", "limited"}
)  # fmt: skip
_CONNECTIVES = frozenset({"of", "the", "and", "for", "&"})
SPELLING_THRESHOLD = 92.0
MIN_SPELLING_LENGTH = 8
PAIR_BLOCK = 256  # names compared per cdist / matrix-product block
COSINE_SLACK = 1e-4  # a cosine computed another way may round across the threshold


class NameMatch(BaseModel):
    type: str
    a: str
    b: str
    method: Method
    score: float


def entity_key(name: str) -> str:
    """Canonical id of an entity name: NFKC, case-folded, no leading article or edge punctuation."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    text = _LEADING_ARTICLE.sub("", text)
    text = _EDGE_PUNCT.sub("", text)
    return re.sub(r"\s+", " ", text)


def loose_key(name: str) -> str:
    """entity_key without punctuation, leading titles or trailing legal-form suffixes."""
    tokens = re.findall(r"\w+", entity_key(name))
    while len(tokens) > 1 and tokens[0] in _TITLES:
        tokens = tokens[1:]
    while len(tokens) > 1 and tokens[-1] in _LEGAL_SUFFIXES:
        tokens = tokens[:-1]
    return " ".join(tokens)


def acronym_letters(name: str) -> str | None:
    """The case-folded letters of a name shaped like an acronym (`U.S.` -> "us"), else None."""
    letters = re.sub(r"[^\w]", "", name)
    return letters.casefold() if 2 <= len(letters) <= 6 and letters.isupper() else None


def initials(name: str) -> str | None:
    """First letters of a name's words, connectives left out (`Bank of Korea` -> "bk"); None
    for a one-word name."""
    return initials_of_key(loose_key(name))


def initials_of_key(key: str) -> str | None:
    """`initials` of a name given as its `loose_key`."""
    words = [w for w in key.split() if w not in _CONNECTIVES]
    return "".join(w[0] for w in words) if len(words) >= 2 else None


def is_acronym(short: str, long: str) -> bool:
    """`IBM` / `U.S.` / `NYC` spelled from the initials of the other name's words."""
    letters = acronym_letters(short)
    return letters is not None and letters == initials(long)


def match_names(a: str, b: str) -> tuple[Method, float] | None:
    """String evidence that `a` and `b` name the same entity (embeddings aside)."""
    la, lb = loose_key(a), loose_key(b)
    if la and la == lb:
        return "variant", 1.0
    if is_acronym(a, b) or is_acronym(b, a):
        return "acronym", 1.0
    if min(len(la), len(lb)) >= MIN_SPELLING_LENGTH:
        score = fuzz.ratio(la, lb)
        if score >= SPELLING_THRESHOLD:
            return "spelling", round(score / 100, 3)
    return None


def find_matches(
    type_: str,
    names: list[str],
    *,
    against: list[str] | None = None,
    embed: EmbedFn | None = None,
    threshold: float = 0.9,
) -> list[NameMatch]:
    """Matching pairs among `names` (and between `names` and `against`, if given), in the order
    of `itertools.combinations` over `names`, then of `names` x `against`. Only the candidate
    pairs (`_candidate_pairs`) are compared, not all of them."""
    pool = names + (against or [])
    vectors = embed(pool) if embed and len(pool) > 1 else None
    found = []
    n = len(names)
    for i, j in sorted(_candidate_pairs(pool, n, vectors, threshold), key=lambda p: (p[1] >= n, p)):
        if entity_key(pool[i]) == entity_key(pool[j]):
            continue  # same id already
        hit = match_names(pool[i], pool[j])
        if hit is None and vectors is not None:
            cosine = float(vectors[i] @ vectors[j])
            if cosine >= threshold:
                hit = ("embedding", round(cosine, 3))
        if hit:
            found.append(NameMatch(type=type_, a=pool[i], b=pool[j], method=hit[0], score=hit[1]))
    return found


def _candidate_pairs(
    pool: list[str], n: int, vectors: np.ndarray | None, threshold: float
) -> set[tuple[int, int]]:
    """Pairs (i, j), i < j, i among the first `n` (the new names), that some evidence of
    `match_names` or a cosine >= `threshold` could join: the same loose key, acronym letters
    equal to initials, loose keys similar enough to pass the spelling test, or close vectors.
    A superset of the matching pairs, found by lookups, rapidfuzz's `cdist` and matrix
    products in blocks instead of a Python loop over every pair."""
    loose = [loose_key(name) for name in pool]
    pairs: set[tuple[int, int]] = set()

    def add(i: int, j: int) -> None:
        a, b = min(i, j), max(i, j)
        if a < n and a != b:
            pairs.add((a, b))

    by_loose: dict[str, list[int]] = {}
    by_initials: dict[str, list[int]] = {}
    for i, key in enumerate(loose):
        by_loose.setdefault(key, []).append(i)
        if (name_initials := initials_of_key(key)) is not None:
            by_initials.setdefault(name_initials, []).append(i)
    for group in by_loose.values():
        for i in group:
            for j in group:
                add(i, j)
    for i, name in enumerate(pool):
        if (letters := acronym_letters(name)) is not None:
            for j in by_initials.get(letters, []):
                add(i, j)
    long_enough = [i for i, key in enumerate(loose) if len(key) >= MIN_SPELLING_LENGTH]
    queries = [i for i in long_enough if i < n]
    for row, col in close_spellings([loose[i] for i in queries], [loose[j] for j in long_enough]):
        add(queries[row], long_enough[col])
    if vectors is not None:
        for start in range(0, n, PAIR_BLOCK):
            cosines = vectors[start : start + PAIR_BLOCK] @ vectors.T
            for row, col in zip(*np.nonzero(cosines >= threshold - COSINE_SLACK), strict=True):
                add(start + row, int(col))
    return pairs


def close_spellings(queries: list[str], choices: list[str]) -> Iterator[tuple[int, int]]:
    """Positions (query, choice) of loose keys whose `fuzz.ratio` passes the spelling test
    (rapidfuzz's `cdist`, `PAIR_BLOCK` queries at a time); the caller leaves out keys shorter
    than `MIN_SPELLING_LENGTH`."""
    if not choices:
        return
    for start in range(0, len(queries), PAIR_BLOCK):
        scores = process.cdist(
            queries[start : start + PAIR_BLOCK],
            choices,
            scorer=fuzz.ratio,
            score_cutoff=SPELLING_THRESHOLD,
            dtype=np.float32,
        )
        for row, col in zip(*np.nonzero(scores >= SPELLING_THRESHOLD), strict=True):
            yield start + int(row), int(col)
