"""Prompt files in prompts/: loaded once, placeholders checked at load and inputs at render."""

from __future__ import annotations

import string
from pathlib import Path

from kgrag.errors import ConfigError

# prompt name -> the placeholders its file must contain (str.format syntax; literal braces doubled)
PROMPT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "extract_system": frozenset({"schema"}),
    "extract_user": frozenset({"input"}),
    "discover_schema": frozenset(),
    "answer_system": frozenset(),
    "answer_short_system": frozenset(),
    "answer_user": frozenset({"question", "facts", "evidence"}),
    "verify_system": frozenset(),
    "cypher_system": frozenset({"schema", "examples"}),
    "cypher_user": frozenset({"question", "entities", "feedback"}),
    "verify_user": frozenset({"question", "answer", "evidence"}),
    "condense_system": frozenset(),
    "condense_user": frozenset({"history", "question"}),
    "json_schema_instruction": frozenset({"schema"}),
}


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


class Prompts:
    """The project's prompt templates, validated at load."""

    def __init__(self, templates: dict[str, str]) -> None:
        self._templates = templates

    @classmethod
    def load(cls, directory: Path) -> Prompts:
        templates: dict[str, str] = {}
        for name, expected in PROMPT_PLACEHOLDERS.items():
            path = Path(directory) / f"{name}.md"
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError as exc:
                raise ConfigError(f"prompt file missing: {path}") from exc
            try:
                found = _placeholders(text)
            except ValueError as exc:
                raise ConfigError(f"{path}: malformed placeholder ({exc})") from exc
            if found != expected:
                raise ConfigError(
                    f"{path}: placeholders {sorted(found)} differ from the expected "
                    f"{sorted(expected)}"
                )
            templates[name] = text.strip()
        return cls(templates)

    def raw(self, name: str) -> str:
        """The template text itself (for LangChain templates that fill placeholders later)."""
        return self._templates[name]

    def render(self, name: str, **values: str) -> str:
        expected = PROMPT_PLACEHOLDERS[name]
        if set(values) != expected:
            raise ValueError(f"prompt {name!r} needs {sorted(expected)}, got {sorted(values)}")
        return self._templates[name].format(**values)
