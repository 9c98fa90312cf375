"""Resolve stage: pruned chunk graphs -> canonical entities (one id per real-world entity).

Mentions with the same `entity_key` are one entity. Then names of the same type that match
(entity_match.py: title/legal-suffix variants, acronyms, typos, embeddings) are merged, also
into entities already in the graph (`known`), whose ids and names win so ids stay stable.
Each merge is kept on the entity (`merges`) as provenance; relations follow their endpoints.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from kgrag.ingest.entity_match import EmbedFn, entity_key, find_matches
from kgrag.types import Entity, ExtractedGraph, Relation, ResolvedGraph


def resolve(
    graphs: list[ExtractedGraph],
    *,
    known: list[Entity] | None = None,
    embed: EmbedFn | None = None,
    threshold: float = 0.9,
) -> ResolvedGraph:
    mentions = _group_mentions(graphs)
    canonical = _merge_matching(mentions, known or [], embed, threshold)

    entities: dict[str, Entity] = {}
    for key, entity in mentions.items():
        target = canonical.get(key)
        if target is None:
            entities.setdefault(key, entity)
            continue
        into, name, why = target
        base = entities.get(into) or Entity(id=into, name=name, type=entity.type)
        surfaces = {*base.aliases, *entity.aliases, entity.name} - {base.name}
        entities[into] = base.model_copy(
            update={
                "aliases": sorted(surfaces),
                "chunk_ids": list(dict.fromkeys(base.chunk_ids + entity.chunk_ids)),
                "merges": base.merges + ([why] if why else []),
            }
        )

    def final(key: str) -> str:
        return canonical[key][0] if key in canonical else key

    seen: set[tuple[str, str, str, str]] = set()
    relations = []
    for graph in graphs:
        for rel in graph.relationships:
            source, target = final(entity_key(rel.source)), final(entity_key(rel.target))
            item = (source, rel.type, target, graph.chunk_id)
            if item in seen or not source or not target or source == target:
                continue
            seen.add(item)
            relations.append(
                Relation(source_id=source, type=rel.type, target_id=target, chunk_id=graph.chunk_id)
            )
    return ResolvedGraph(entities=list(entities.values()), relations=relations)


def _group_mentions(graphs: list[ExtractedGraph]) -> dict[str, Entity]:
    """Mentions with the same key: the most frequent surface form and type win."""
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
    grouped = {}
    for key, counter in surfaces.items():
        name = max(counter, key=lambda s: (counter[s], len(s)))
        grouped[key] = Entity(
            id=key,
            name=name,
            type=types[key].most_common(1)[0][0],
            aliases=sorted(s for s in counter if s != name),
            chunk_ids=chunks[key],
        )
    return grouped


def _merge_matching(
    mentions: dict[str, Entity], known: list[Entity], embed: EmbedFn | None, threshold: float
) -> dict[str, tuple[str, str, str]]:
    """New entity key -> (id it merges into, that entity's name, provenance note).

    Groups never join two entities that are both already in the graph: merging stored
    entities is a manual correction, not something an ingest does behind the user's back.
    """
    known_by_key = {e.id: e for e in known}
    weight = {k: (len(e.chunk_ids), len(e.name)) for k, e in mentions.items()}
    parent: dict[str, str] = {}
    has_known: dict[str, bool] = {}

    def root(key: str) -> str:
        parent.setdefault(key, key)
        has_known.setdefault(key, key in known_by_key)
        while parent[key] != key:
            key = parent[key]
        return key

    notes: dict[str, str] = {}
    # a mention spelled like a stored entity's alias is that entity (also after manual merges)
    stored_alias = {
        entity_key(s): e.id for e in known for s in e.aliases if entity_key(s) not in known_by_key
    }
    for key, entity in mentions.items():
        target = stored_alias.get(key)
        if target and known_by_key[target].type == entity.type and root(key) != root(target):
            if not has_known[root(key)]:
                parent[root(key)] = root(target)
                notes[key] = f"{entity.name} = alias of {known_by_key[target].name}"
    for type_ in sorted({e.type for e in mentions.values()}):
        new = [e for e in mentions.values() if e.type == type_]
        stored = {s: e.id for e in known if e.type == type_ for s in (e.name, *e.aliases)}
        key_of = {e.name: e.id for e in new} | stored
        matches = find_matches(
            type_, [e.name for e in new], against=list(stored), embed=embed, threshold=threshold
        )
        for m in matches:
            a, b = root(key_of[m.a]), root(key_of[m.b])
            if a == b or (has_known[a] and has_known[b]):
                continue
            # the stored entity, else the more mentioned one, names the group
            rank_a = (has_known[a], weight.get(a, (0, 0)))
            keep, drop = (a, b) if rank_a >= (has_known[b], weight.get(b, (0, 0))) else (b, a)
            parent[drop] = keep
            has_known[keep] = has_known[keep] or has_known[drop]
            notes[drop] = f"{m.a} ~ {m.b} ({m.method} {m.score})"

    result: dict[str, tuple[str, str, str]] = {}
    for key in mentions:
        top = root(key)
        if top == key and key not in known_by_key:
            continue
        name = known_by_key[top].name if top in known_by_key else mentions[top].name
        result[key] = (top, name, notes.get(key, ""))
    return result
