"""Schema drafting: consolidate a DiscoveryReport into a GraphSchema the user then edits.

Near-duplicate type names are merged (same key or similar spelling always; similar meaning
only above `merge_threshold`), the most frequent spelling is kept and the others become its
aliases; groups seen fewer than `min_count` times are dropped; patterns come from observed
triples mapped onto the kept types. Every merge and drop is listed, and written as comments
at the top of the YAML.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from kgrag.refine.discover import DiscoveryReport, Kind, NearDuplicate, TypeStat
from kgrag.schema import GraphSchema, NodeType, RelationshipType
from kgrag.store.cypher import domain_name
from kgrag.type_names import node_type_key, pascal_case, relationship_key, upper_snake


class Merge(BaseModel):
    kind: Kind
    kept: str
    merged: list[str]
    count: int


class Drop(BaseModel):
    kind: Kind
    name: str
    count: int
    reason: str


class Draft(BaseModel):
    schema_: GraphSchema
    merges: list[Merge]
    drops: list[Drop]
    kept_apart: list[NearDuplicate]  # near-duplicates not merged: check them by hand

    def header(self) -> str:
        lines = [
            "Drafted by `kgrag schema draft`. Edit freely: rename types, move aliases,",
            "delete patterns, write descriptions (they go into the extraction prompt).",
        ]
        lines += [f"merged {m.kind} types: {m.kept} <- {', '.join(m.merged)}" for m in self.merges]
        lines += [f"dropped {d.kind} type {d.name} ({d.count}): {d.reason}" for d in self.drops]
        lines += [
            f"not merged, check: {d.a} / {d.b} ({d.method} {d.score}, cosine {d.cosine})"
            for d in self.kept_apart
        ]
        return "\n".join(lines)


def draft_schema(
    report: DiscoveryReport,
    *,
    name: str,
    min_count: int = 2,
    merge_threshold: float = 0.8,
) -> Draft:
    merges: list[Merge] = []
    drops: list[Drop] = []
    node_map = _consolidate(report, "node", min_count, merge_threshold, merges, drops)
    rel_map = _consolidate(report, "relationship", min_count, merge_threshold, merges, drops)

    pattern_counts: Counter[tuple[str, str, str]] = Counter()
    for p in report.patterns:
        mapped = (node_map.get(p.source_type), rel_map.get(p.type), node_map.get(p.target_type))
        if all(mapped):
            pattern_counts[mapped] += p.count  # type: ignore[index]

    def described(kind: Kind, stats: list[TypeStat], mapping: dict[str, str]) -> list:
        """One schema entry per kept type, aliases = the other spellings merged into it."""
        kept: dict[str, list[TypeStat]] = {}
        for stat in stats:
            if stat.name in mapping:
                kept.setdefault(mapping[stat.name], []).append(stat)
        entry = NodeType if kind == "node" else RelationshipType
        fmt = pascal_case if kind == "node" else upper_snake
        key = node_type_key if kind == "node" else relationship_key
        items = []
        for canonical, members in kept.items():
            count = sum(m.count for m in members)
            seen, aliases = {key(canonical)}, []
            for alias in (fmt(m.name) for m in members):
                if _unusable(alias) is None and key(alias) not in seen:  # else matched anyway
                    seen.add(key(alias))
                    aliases.append(alias)
            samples = [e.text for m in members for e in m.examples][:3]
            items.append(
                entry(
                    name=canonical,
                    description=f"Seen {count} times, e.g. {'; '.join(samples)}.",
                    aliases=aliases,
                )
            )
        return items

    schema = GraphSchema(
        name=name,
        description=f"Drafted from a discovery over {report.chunks_sampled} chunks.",
        node_types=described("node", report.node_types, node_map),
        relationship_types=described("relationship", report.relationship_types, rel_map),
        patterns=[p for p, _ in pattern_counts.most_common()],
    )
    maps = {"node": node_map, "relationship": rel_map}
    kept_apart = [
        d
        for d in report.near_duplicates
        if d.a in maps[d.kind] and d.b in maps[d.kind] and maps[d.kind][d.a] != maps[d.kind][d.b]
    ]
    return Draft(schema_=schema, merges=merges, drops=drops, kept_apart=kept_apart)


def _consolidate(
    report: DiscoveryReport,
    kind: Kind,
    min_count: int,
    merge_threshold: float,
    merges: list[Merge],
    drops: list[Drop],
) -> dict[str, str]:
    """Observed name -> kept type name, for every observed name that survives."""
    stats = report.node_types if kind == "node" else report.relationship_types
    counts = {s.name: s.count for s in stats}
    parent = {name: name for name in counts}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    for dup in report.near_duplicates:
        if dup.kind != kind or dup.a not in counts or dup.b not in counts:
            continue
        # same key always; otherwise only names close in meaning (FOUNDED_BY vs FUNDED_BY
        # are close in spelling only); an inverse pair never, its directions differ
        if dup.method != "same_key" and (dup.cosine or 0.0) < merge_threshold:
            continue
        if dup.method == "inverse":
            continue
        parent[root(dup.b)] = root(dup.a)

    groups: dict[str, list[str]] = {}
    for name in counts:
        groups.setdefault(root(name), []).append(name)

    fmt = pascal_case if kind == "node" else upper_snake
    mapping: dict[str, str] = {}
    for members in groups.values():
        members.sort(key=lambda n: (-counts[n], n))
        total = sum(counts[n] for n in members)
        kept = fmt(members[0])
        reason = _unusable(kept)
        if reason is None and total < min_count:
            reason = f"seen fewer than {min_count} times"
        if reason:
            drops += [Drop(kind=kind, name=n, count=counts[n], reason=reason) for n in members]
            continue
        if len(members) > 1:
            merges.append(Merge(kind=kind, kept=kept, merged=members[1:], count=total))
        mapping.update({n: kept for n in members})
    return mapping


def _unusable(name: str) -> str | None:
    try:
        domain_name(name)
    except ValueError as exc:
        return str(exc)
    return None
