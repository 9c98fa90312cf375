"""Resolve stage: pruned chunk graphs -> canonical entities (one id per alias set) + relations."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict

from kgrag.types import Entity, ExtractedGraph, Relation, ResolvedGraph

_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+", flags=re.IGNORECASE)
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", flags=re.UNICODE)


def entity_key(name: str) -> str:
    """Canonical id of an entity name: NFKC, case-folded, no leading article or edge punctuation."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    text = _LEADING_ARTICLE.sub("", text)
    text = _EDGE_PUNCT.sub("", text)
    return re.sub(r"\s+", " ", text)


def resolve(graphs: list[ExtractedGraph]) -> ResolvedGraph:
    """Merge mentions with the same key; the most frequent surface form and type win."""
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    types: dict[str, Counter[str]] = defaultdict(Counter)
    chunks: dict[str, list[str]] = defaultdict(list)
    for graph in graphs:
        for node in graph.nodes:
            key = entity_key(node.name)
            if not key:
                continue
            surfaces[key][node.name] += 1
            types[key][node.type] += 1
            if graph.chunk_id not in chunks[key]:
                chunks[key].append(graph.chunk_id)

    entities = []
    for key, counter in surfaces.items():
        name = max(counter, key=lambda s: (counter[s], len(s)))
        entities.append(
            Entity(
                id=key,
                name=name,
                type=types[key].most_common(1)[0][0],
                aliases=sorted(s for s in counter if s != name),
                chunk_ids=chunks[key],
            )
        )

    seen: set[tuple[str, str, str, str]] = set()
    relations = []
    for graph in graphs:
        for rel in graph.relationships:
            item = (entity_key(rel.source), rel.type, entity_key(rel.target), graph.chunk_id)
            if item in seen or not item[0] or not item[2] or item[0] == item[2]:
                continue
            seen.add(item)
            relations.append(
                Relation(source_id=item[0], type=item[1], target_id=item[2], chunk_id=item[3])
            )
    return ResolvedGraph(entities=entities, relations=relations)
