"""How retrieved items are written into the answer prompt, one line or block each.

Shared by the answer (which renders them) and the context budget (which measures them).
"""

from __future__ import annotations

from typing import Any

from kgrag.types import Evidence, Triple


def fact_line(triple: Triple) -> str:
    """A graph triple, with its KGE plausibility when scored."""
    line = f"- {triple.subject} -[{triple.predicate}]-> {triple.object}"
    if triple.plausibility is not None:
        line += f" (plausibility {triple.plausibility:.2f})"
    return line


def row_line(row: dict[str, Any]) -> str:
    """A row of the generated Cypher query's result."""
    return "- query result: " + ", ".join(f"{k} = {v}" for k, v in row.items())


def passage(number: int, evidence: Evidence) -> str:
    """A numbered passage the answer can cite."""
    return f"[{number}] ({evidence.document_title}, page {evidence.page})\n{evidence.text}"
