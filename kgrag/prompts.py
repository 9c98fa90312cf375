"""Prompt files in prompts/: loaded once, placeholders checked at load and inputs at render."""

from __future__ import annotations

import re
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


# Placeholders that carry document text (or what was extracted from it): data, not instructions.
# Each must sit alone between a delimiter pair, `<tag>` … `</tag>`, in its prompt file; at render
# the value's own look-alikes of any such delimiter are defused (see `Prompts.quote`).
DATA_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "extract_user": frozenset({"input"}),
    "answer_user": frozenset({"facts", "evidence"}),
    "verify_user": frozenset({"evidence"}),
    "cypher_user": frozenset({"entities"}),
}
DEFUSED_LT = "\uff1c"  # FULLWIDTH LESS-THAN SIGN: reads like "<", never closes a delimiter


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


class Prompts:
    """The project's prompt templates, validated at load."""

    def __init__(self, templates: dict[str, str], data_tags: frozenset[str] = frozenset()) -> None:
        self._templates = templates
        self.data_tags = data_tags
        names = "|".join(sorted(map(re.escape, data_tags))) or r"(?!)"
        self._delimiter = re.compile(rf"<(?=\s*/?\s*(?:{names})\b)", re.IGNORECASE)

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
        data_tags = {
            _data_tag(path, templates[name], placeholder)
            for name, placeholders in DATA_PLACEHOLDERS.items()
            for placeholder in placeholders
            for path in [Path(directory) / f"{name}.md"]
        }
        return cls(templates, frozenset(data_tags))

    def raw(self, name: str) -> str:
        """The template text itself (for LangChain templates that fill placeholders later)."""
        return self._templates[name]

    def quote(self, text: str) -> str:
        """Document text made safe to put between the prompts' data delimiters: anything that
        looks like one of them (`</passage>`, `< PASSAGES`) has its `<` defused."""
        return self._delimiter.sub(DEFUSED_LT, text)

    def render(self, name: str, **values: str) -> str:
        """The prompt with `values` filled in; data placeholders are `quote`d."""
        expected = PROMPT_PLACEHOLDERS[name]
        if set(values) != expected:
            raise ValueError(f"prompt {name!r} needs {sorted(expected)}, got {sorted(values)}")
        data = DATA_PLACEHOLDERS.get(name, frozenset())
        filled = {k: self.quote(v) if k in data else v for k, v in values.items()}
        return self._templates[name].format(**filled)


def _data_tag(path: Path, template: str, placeholder: str) -> str:
    """The tag of the delimiter pair around `{placeholder}`; ConfigError when there is none."""
    found = re.search(rf"<(\w+)>\s*\{{{placeholder}\}}\s*</(\w+)>", template)
    if found is None or found.group(1) != found.group(2):
        raise ConfigError(
            f"{path}: {{{placeholder}}} carries document text and must stand alone between "
            f"a delimiter pair such as <passage> and </passage>"
        )
    return found.group(1)
