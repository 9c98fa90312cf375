"""Read-only guard for LLM-written Cypher, decided by what the query is.

The query is lexed (strings, comments, backtick names and parameters are never mistaken for
clauses), then its clauses are classified: any clause that writes or administers (CREATE,
MERGE, SET, DELETE, REMOVE, DETACH, DROP, LOAD CSV, FOREACH, USE, SHOW, GRANT, ...), any
procedure outside a read-only allow-list (so no apoc.*, dbms.*, db.create*), any namespaced
function outside the allow-list, `IN TRANSACTIONS`, several statements, UNION, or an unbounded
variable-length path is refused with its reason. A query without a literal LIMIT on its
final RETURN gets one; a larger LIMIT is lowered. The store then EXPLAINs it and runs it in a
read transaction with a timeout (ArcadeDB does not enforce read mode: this guard must hold
on its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kgrag.errors import KgragError

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<quoted>`(?:[^`]|``)*`)
  | (?P<param>\$\w+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<range>\.\.)
  | (?P<punct>[^\sA-Za-z0-9_])
    """,
    flags=re.VERBOSE | re.DOTALL,
)

REFUSED_CLAUSES = frozenset(
    {"CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "FOREACH", "LOAD",
     "INSERT", "USE", "SHOW", "GRANT", "REVOKE", "DENY", "ALTER", "RENAME", "START", "STOP",
     "TERMINATE", "ENABLE", "DISABLE", "FINISH", "EXPLAIN", "PROFILE"}
)  # fmt: skip
READ_PROCEDURES = frozenset(
    {"db.labels", "db.relationshiptypes", "db.propertykeys", "db.schema.nodetypeproperties",
     "db.schema.reltypeproperties"}
)  # fmt: skip
READ_FUNCTIONS: frozenset[str] = frozenset()  # namespaced functions allowed (none by default)


class CypherRejected(KgragError):
    """Generated Cypher refused by the guard; `reason` says why."""

    def __init__(self, reason: str, query: str) -> None:
        super().__init__(f"query refused: {reason}")
        self.reason = reason
        self.query = query


@dataclass(frozen=True)
class Token:
    """One lexed token; `start` is its offset in the query."""

    kind: str
    text: str
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def lex(query: str) -> list[Token]:
    """Tokens without spaces and comments; CypherRejected on an unterminated string/comment."""
    tokens, pos = [], 0
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None:  # an unterminated string, comment or name
            raise CypherRejected("unterminated string, comment or name", query)
        kind = match.lastgroup or ""
        if kind == "punct" and (match.group() in "'\"`" or query.startswith("/*", pos)):
            raise CypherRejected("unterminated string, comment or name", query)
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


def guard_cypher(query: str, *, max_rows: int) -> str:
    """Return the query, bounded by a LIMIT, or raise CypherRejected with the reason."""
    tokens = lex(query.strip())
    while tokens and tokens[-1].text == ";":
        tokens.pop()
    if not tokens:
        raise CypherRejected("empty query", query)
    for i in range(len(tokens)):
        _check_token(tokens, i, query)
    _check_paths(tokens, query)
    return _bounded(query, tokens, max_rows)


def _is_clause_word(tokens: list[Token], i: int) -> bool:
    """A bare word in clause position: not a property (`n.set`), label (`:Create`) or map key."""
    before = tokens[i - 1].text if i else ""
    after = tokens[i + 1].text if i + 1 < len(tokens) else ""
    return before not in (".", ":") and after != ":"


def _dotted_name(tokens: list[Token], i: int) -> tuple[str, int]:
    """`a.b.c` starting at i, and the index after it."""
    parts, j = [tokens[i].text], i + 1
    while j + 1 < len(tokens) and tokens[j].text == "." and tokens[j + 1].kind == "word":
        parts.append(tokens[j + 1].text)
        j += 2
    return ".".join(parts), j


def _check_token(tokens: list[Token], i: int, query: str) -> None:
    token = tokens[i]
    if token.text == ";":
        raise CypherRejected("more than one statement", query)
    if token.kind != "word" or not _is_clause_word(tokens, i):
        return
    word = token.upper
    if word in REFUSED_CLAUSES:
        raise CypherRejected(f"{word} is not allowed in a generated (read-only) query", query)
    if word == "UNION":
        raise CypherRejected("UNION is not allowed: write one query", query)
    if word == "TRANSACTIONS" and i and tokens[i - 1].upper == "IN":
        raise CypherRejected("CALL { ... } IN TRANSACTIONS is not allowed", query)
    if word == "CALL" and i + 1 < len(tokens) and tokens[i + 1].kind == "word":
        name, _ = _dotted_name(tokens, i + 1)
        if name.lower() not in READ_PROCEDURES:
            raise CypherRejected(f"procedure {name} is not on the read-only allow-list", query)
        return
    if i and (tokens[i - 1].text == "." or tokens[i - 1].upper == "CALL"):
        return
    name, j = _dotted_name(tokens, i)
    if "." in name and j < len(tokens) and tokens[j].text == "(":
        if name.lower() not in READ_FUNCTIONS:
            raise CypherRejected(f"function {name} is not allowed", query)


def _check_paths(tokens: list[Token], query: str) -> None:
    """Refuse variable-length relationships without an upper bound: `*`, `*2..`."""
    in_relationship = False
    for i, token in enumerate(tokens):
        if token.text == "[":
            in_relationship = i > 0 and tokens[i - 1].text == "-"
        elif token.text == "]":
            in_relationship = False
        elif token.text == "*" and in_relationship:
            rest = [t.text for t in tokens[i + 1 : i + 4]]
            exact = bool(rest) and rest[0].isdigit() and rest[1:2] != [".."]
            to_max = rest[:1] == [".."] and rest[1:2] != [] and rest[1].isdigit()
            ranged = len(rest) == 3 and rest[0].isdigit() and rest[1] == ".." and rest[2].isdigit()
            if not (exact or to_max or ranged):
                raise CypherRejected(
                    "variable-length path without an upper bound (write e.g. *1..3)", query
                )


def _bounded(query: str, tokens: list[Token], max_rows: int) -> str:
    """The query with a literal LIMIT of at most `max_rows` on its final RETURN."""
    returns = [i for i, t in enumerate(tokens) if t.kind == "word" and t.upper == "RETURN"]
    if not returns:
        raise CypherRejected("no RETURN: a question query must return rows", query)
    tail = tokens[returns[-1] :]
    limits = [i for i, t in enumerate(tail) if t.kind == "word" and t.upper == "LIMIT"]
    text = query.strip().rstrip(";").rstrip()
    if not limits:
        return f"{text}\nLIMIT {max_rows}"
    after = tail[limits[-1] + 1 :]
    if len(after) != 1 or after[0].kind != "number" or "." in after[0].text:
        raise CypherRejected("LIMIT must be a whole number, last in the query", query)
    if int(after[0].text) <= max_rows:
        return text
    head, _, rest = text.rpartition(after[0].text)
    return f"{head}{max_rows}{rest}"
