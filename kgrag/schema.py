"""GraphSchema: the validated node/relationship types and patterns a graph may hold (YAML file)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError, model_validator

from kgrag.errors import ConfigError
from kgrag.store.cypher import domain_name


class NodeType(BaseModel):
    name: str
    description: str = ""
    aliases: list[str] = []


class RelationshipType(BaseModel):
    name: str
    description: str = ""
    aliases: list[str] = []


class GraphSchema(BaseModel):
    name: str
    version: int = 1
    description: str = ""
    node_types: list[NodeType]
    relationship_types: list[RelationshipType]
    patterns: list[tuple[str, str, str]] = []

    @model_validator(mode="after")
    def _check(self) -> GraphSchema:
        errors: list[str] = []
        for kind, items in (
            ("node type", self.node_types),
            ("relationship type", self.relationship_types),
        ):
            seen: set[str] = set()
            for item in items:
                for name in (item.name, *item.aliases):
                    try:
                        domain_name(name)  # must be usable as a Cypher label / type
                    except ValueError as exc:
                        errors.append(f"{kind}: {exc}")
                    if name.lower() in seen:
                        errors.append(f"duplicate {kind} name {name!r}")
                    seen.add(name.lower())
        nodes = {n.name for n in self.node_types}
        rels = {r.name for r in self.relationship_types}
        for source, rel, target in self.patterns:
            for node in (source, target):
                if node not in nodes:
                    errors.append(
                        f"pattern ({source}, {rel}, {target}): unknown node type {node!r}"
                    )
            if rel not in rels:
                errors.append(
                    f"pattern ({source}, {rel}, {target}): unknown relationship type {rel!r}"
                )
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @classmethod
    def from_file(cls, path: Path) -> GraphSchema:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            return cls.model_validate(data)
        except FileNotFoundError as exc:
            raise ConfigError(f"schema file not found: {path}") from exc
        except (yaml.YAMLError, ValidationError, ValueError) as exc:
            raise ConfigError(f"invalid schema {path}: {exc}") from exc

    def save(self, path: Path) -> None:
        data = self.model_dump(mode="json")
        data["patterns"] = [list(p) for p in self.patterns]
        Path(path).write_text(
            yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )

    @property
    def node_labels(self) -> list[str]:
        return [n.name for n in self.node_types]

    @property
    def relationship_names(self) -> list[str]:
        return [r.name for r in self.relationship_types]

    def canonical_node_type(self, name: str) -> str | None:
        """Map a type name or one of its aliases (any case) to the schema's node type."""
        key = name.strip().lower()
        for node in self.node_types:
            if key == node.name.lower() or key in (a.lower() for a in node.aliases):
                return node.name
        return None

    def canonical_relationship_type(self, name: str) -> str | None:
        key = re.sub(r"[\s\-]+", "_", name.strip()).lower()
        for rel in self.relationship_types:
            if key == rel.name.lower() or key in (a.lower() for a in rel.aliases):
                return rel.name
        return None

    def allows_pattern(self, source: str, rel: str, target: str) -> bool:
        return not self.patterns or (source, rel, target) in set(self.patterns)

    def to_prompt(self) -> str:
        """Describe the schema for an LLM prompt."""
        lines = ["Entity types:"]
        lines += [f"- {n.name}: {n.description}" for n in self.node_types]
        lines.append("Relationship types:")
        lines += [f"- {r.name}: {r.description}" for r in self.relationship_types]
        if self.patterns:
            lines.append("Allowed (source type, RELATIONSHIP, target type) patterns:")
            lines += [f"- ({s}, {r}, {t})" for s, r, t in self.patterns]
        return "\n".join(lines)
