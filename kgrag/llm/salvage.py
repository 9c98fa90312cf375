"""The complete items of a JSON object that was cut off (finish_reason == "length").

json_repair closes a cut string or object, so `"target_node_id": "Hal` would come back as a
relationship to "Hal": a fact the model never wrote. Here only items that were closed in the
text count; the unfinished tail is dropped.
"""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


def complete_arrays(raw: str) -> dict[str, list[Any]]:
    """For each array value of the first top-level JSON object in `raw`, its complete items,
    in order; keys whose value is not an array are left out. Stops at the first cut."""
    found: dict[str, list[Any]] = {}
    start = raw.find("{")
    if start < 0:
        return found
    pos = _skip(raw, start + 1)
    while pos < len(raw) and raw[pos] == '"':
        try:
            key, pos = _DECODER.raw_decode(raw, pos)
        except json.JSONDecodeError:
            return found
        pos = _skip(raw, pos)
        if not raw.startswith(":", pos):
            return found
        pos = _skip(raw, pos + 1)
        if raw.startswith("[", pos):
            items, pos, closed = _items(raw, pos + 1)
            found[key] = items
            if not closed:
                return found
        else:
            try:
                _, pos = _DECODER.raw_decode(raw, pos)
            except json.JSONDecodeError:
                return found
        pos = _skip(raw, pos)
        if not raw.startswith(",", pos):
            return found
        pos = _skip(raw, pos + 1)
    return found


def _items(raw: str, pos: int) -> tuple[list[Any], int, bool]:
    """Items of the array whose `[` ends before `pos`; (items, position after it, closed)."""
    items: list[Any] = []
    pos = _skip(raw, pos)
    if raw.startswith("]", pos):
        return items, pos + 1, True
    while pos < len(raw):
        try:
            item, pos = _DECODER.raw_decode(raw, pos)
        except json.JSONDecodeError:
            return items, pos, False
        if pos == len(raw) and isinstance(item, int | float):
            return items, pos, False  # "12" may have been the start of "1234"
        items.append(item)
        pos = _skip(raw, pos)
        if raw.startswith("]", pos):
            return items, pos + 1, True
        if not raw.startswith(",", pos):
            return items, pos, False
        pos = _skip(raw, pos + 1)
    return items, pos, False


def _skip(raw: str, pos: int) -> int:
    while pos < len(raw) and raw[pos] in _SPACE:
        pos += 1
    return pos
