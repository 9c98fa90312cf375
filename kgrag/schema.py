"""GraphSchema: the validated node/relationship types and patterns a graph may hold (YAML file)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError, model_validator
from pydantic_core import ErrorDetails

from kgrag.errors import ConfigError
from kgrag.store.cypher import domain_name
from kgrag.type_names import node_type_key, relationship_key


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
        for kind, items, key in (
            ("node type", self.node_types, node_type_key),
            ("relationship type", self.relationship_types, relationship_key),
        ):
            seen: dict[str, str] = {}
            for item in items:
                for name in (item.name, *item.aliases):
                    try:
                        domain_name(name)  # must be usable as a Cypher label / type
                    except ValueError as exc:
                        errors.append(f"{kind}: {exc}")
                    if key(name) in seen:
                        errors.append(
                            f"duplicate {kind} name {name!r} (same as {seen[key(name)]!r})"
                        )
                    seen.setdefault(key(name), name)
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
            raise ValueError("\n".join(errors))
        return self

    @classmethod
    def from_file(cls, path: Path) -> GraphSchema:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            return cls.model_validate(data)
        except FileNotFoundError as exc:
            raise ConfigError(f"schema file not found: {path}") from exc
        except ValidationError as exc:
            problems = "\n".join(_describe(error) for error in exc.errors())
            raise ConfigError(f"invalid schema {path}:\n{problems}") from exc
        except (yaml.YAMLError, ValueError) as exc:
            raise ConfigError(f"invalid schema {path}: {exc}") from exc

    def save(self, path: Path, *, header: str = "") -> None:
        """Write YAML; `header` lines become comments at the top (e.g. what a draft merged)."""
        data = self.model_dump(mode="json")
        data["patterns"] = [list(p) for p in self.patterns]
        comments = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
        Path(path).write_text(
            comments
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None),
            encoding="utf-8",
        )

    @property
    def fingerprint(self) -> str:
        """Short hash of the schema's content: tells which schema a graph was extracted with."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]

    @property
    def node_labels(self) -> list[str]:
        return [n.name for n in self.node_types]

    @property
    def relationship_names(self) -> list[str]:
        return [r.name for r in self.relationship_types]

    def canonical_node_type(self, name: str) -> str | None:
        """Map a type name or an alias, in any case, separator or number, to its node type."""
        key = node_type_key(name)
        for node in self.node_types:
            if key in {node_type_key(n) for n in (node.name, *node.aliases)}:
                return node.name
        return None

    def canonical_relationship_type(self, name: str) -> str | None:
        """Map a relationship type or alias in any tense or spelling (`is eating`, `ate`)."""
        key = relationship_key(name)
        for rel in self.relationship_types:
            if key in {relationship_key(n) for n in (rel.name, *rel.aliases)}:
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


def _describe(error: ErrorDetails) -> str:
    """One pydantic error as `  - where: what` lines (our own checks may hold several)."""
    where = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return "\n".join(f"  - {where + ': ' if where else ''}{line}" for line in message.splitlines())
