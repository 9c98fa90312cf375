"""Do two names of the same type name the same entity? (entity resolution, duplicate review)

Evidence, strongest first: the same name once titles and legal suffixes are stripped
("Dr. Ingrid Voss", "Halden Robotics AS"), an acronym of the other ("IBM", "U.S."), a
near-identical spelling (typos), or embeddings at least `threshold` similar.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from typing import Literal

import numpy as np
from pydantic import BaseModel
from rapidfuzz import fuzz

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
    """Matching pairs among `names` (and between `names` and `against`, if given)."""
    others = against or []
    pool = names + others
    pairs = itertools.chain(
        itertools.combinations(range(len(names)), 2),
        itertools.product(range(len(names)), range(len(names), len(pool))),
    )
    vectors = embed(pool) if embed and len(pool) > 1 else None
    found = []
    for i, j in pairs:
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
