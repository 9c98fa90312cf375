"""Type-name normalisation shared by discovery, drafting and pruning.

Node types compare by a case-, separator- and plural-insensitive key ("Companies" ->
"company"); relationship types by their base-form UPPER_SNAKE ("is eating", "ate" -> "EAT").
Lemmas come from simplemma's English tables (shipped in its wheel, no download).
"""

from __future__ import annotations

import re
from functools import lru_cache

import simplemma

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\W\d_]+", flags=re.UNICODE)
_AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "being", "does", "did"})


def words(name: str) -> list[str]:
    """Split `worksFor`, `WORKS_FOR`, `works for` alike into lower-case words."""
    return [w.lower() for w in _WORDS.findall(name)]


@lru_cache(maxsize=4096)
def lemma(word: str) -> str:
    return simplemma.lemmatize(word, lang="en").lower()


def node_type_key(name: str) -> str:
    """Key under which node-type spellings count as the same type (last word singular)."""
    parts = words(name)
    if not parts:
        return ""
    return "".join(parts[:-1] + [lemma(parts[-1])])


def relationship_key(name: str) -> str:
    """Base-form UPPER_SNAKE: auxiliaries dropped, every word lemmatised."""
    parts = words(name)
    content = [w for w in parts if w not in _AUXILIARIES] or parts
    return "_".join(lemma(w) for w in content).upper()


def upper_snake(name: str) -> str:
    """`works for` / `worksFor` -> `WORKS_FOR` (surface form kept, no lemmatising)."""
    return "_".join(words(name)).upper()


def pascal_case(name: str) -> str:
    """`research lab` / `research_lab` -> `ResearchLab`."""
    return "".join(w[:1].upper() + w[1:] for w in words(name))
