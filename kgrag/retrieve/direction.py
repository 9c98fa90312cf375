"""Relationship directions fixed from the schema before a generated query runs.

Small models often write `(o:Organization)-[:FOUNDED]->(p:Person)` when the schema only has
(Person, FOUNDED, Organization). A directed relationship with one explicit type is reversed
when the schema's patterns allow the reverse but not the written direction, and both of its
endpoints have a known entity type: the node's own type label (`:Person`, `:Entity:Person`),
or, for a bare variable, the one type label that variable has in the MATCH patterns of its
scope (a subquery or a WITH starts a new scope; `WITH v` carries v on). Anything less
certain is left alone and the undirected retry stays the fallback: unknown or several type
labels, label expressions, several or no relationship types, variable-length relationships,
variables bound by AS, OPTIONAL MATCH labels. The query is edited at the guard lexer's token
offsets, so strings and comments are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from kgrag.retrieve.guard import Token, lex
from kgrag.schema import GraphSchema

GENERIC_LABEL = "Entity"  # every domain node has it (store/write_plan.py); not a type
_UNKNOWN = "?"  # labels that name no single schema type
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_SUBQUERY_OPENERS = frozenset({"CALL", "EXISTS", "COUNT", "COLLECT"})
_ENDS_MATCH = frozenset(
    {"WHERE", "WITH", "RETURN", "UNWIND", "CALL", "ORDER", "SKIP", "LIMIT", "OPTIONAL", "YIELD"}
)
_ENDS_PROJECTION = _ENDS_MATCH - {"YIELD"} | {"MATCH", "UNION"}


@dataclass(frozen=True)
class _Relationship:
    type: str
    left_end: int  # index of the `)` closing the left node
    right_start: int  # index of the `(` opening the right node
    head: int  # index of the arrow head, `>` or `<`
    tail: int  # index of the `-` at the other end, where the head moves to
    points_right: bool


def fix_directions(query: str, schema: GraphSchema) -> tuple[str, list[str]]:
    """The query with arrows that contradict the schema reversed, and a note per reversal."""
    if not schema.patterns:
        return query, []
    tokens = lex(query)
    subqueries = _subqueries(tokens)
    scopes = _scopes(tokens, subqueries)
    known = _labelled_variables(tokens, scopes, subqueries, schema)
    edits: list[tuple[int, int, str]] = []  # (offset, characters to delete, text to insert)
    fixes: list[str] = []
    for rel in _relationships(tokens):
        left_start = _matching(tokens, rel.left_end)
        if left_start is None:
            continue
        left = _endpoint_type(tokens, left_start, rel.left_end, scopes, known, schema)
        right_end = _matching(tokens, rel.right_start)
        if right_end is None:
            continue
        right = _endpoint_type(tokens, rel.right_start, right_end, scopes, known, schema)
        if left not in schema.node_labels or right not in schema.node_labels:
            continue
        source, target = (left, right) if rel.points_right else (right, left)
        if schema.allows_pattern(source, rel.type, target):
            continue
        if not schema.allows_pattern(target, rel.type, source):
            continue
        head, tail = tokens[rel.head], tokens[rel.tail]
        edits.append((head.start, 1, ""))
        if rel.points_right:
            edits.append((tail.start, 0, "<"))
        else:
            edits.append((tail.start + 1, 0, ">"))
        fixes.append(
            f"{rel.type}: ({source})->({target}) reversed to match schema pattern "
            f"({target}, {rel.type}, {source})"
        )
    for offset, delete, insert in sorted(edits, reverse=True):
        query = query[:offset] + insert + query[offset + delete :]
    return query, fixes


def _name(token: Token) -> str:
    """A variable, label or type name, without backticks."""
    if token.kind == "quoted":
        return token.text[1:-1].replace("``", "`")
    return token.text


def _is_name(token: Token) -> bool:
    return token.kind in ("word", "quoted")


def _is_word(token: Token, word: str) -> bool:
    return token.kind == "word" and token.upper == word


def _matching(tokens: list[Token], i: int) -> int | None:
    """Index of the bracket that matches tokens[i] (an opener or a closer), or None."""
    text = tokens[i].text
    if text in _PAIRS:
        opener, closer, step = text, _PAIRS[text], 1
    else:
        opener = next(o for o, c in _PAIRS.items() if c == text)
        closer, step = text, -1
    depth, j = 0, i
    while 0 <= j < len(tokens):
        depth += (tokens[j].text == opener) - (tokens[j].text == closer)
        if depth == 0:
            return j
        j += step
    return None


def _relationships(tokens: list[Token]) -> list[_Relationship]:
    """Directed `(..)-[..:TYPE..]->(..)` / `(..)<-[..:TYPE..]-(..)` with one fixed-length type."""
    found = []
    for i, token in enumerate(tokens):
        if token.text != "[" or i < 2 or tokens[i - 1].text != "-":
            continue
        close = _matching(tokens, i)
        if close is None or close + 2 >= len(tokens) or tokens[close + 1].text != "-":
            continue
        left_head = tokens[i - 2].text == "<"
        right_head = tokens[close + 2].text == ">"
        left_end = i - 3 if left_head else i - 2
        right_start = close + 3 if right_head else close + 2
        if left_head == right_head or left_end < 0 or right_start >= len(tokens):
            continue
        if tokens[left_end].text != ")" or tokens[right_start].text != "(":
            continue
        rel_type = _single_type(tokens[i + 1 : close])
        if rel_type is None:
            continue
        head, tail = (close + 2, i - 1) if right_head else (i - 2, close + 1)
        found.append(_Relationship(rel_type, left_end, right_start, head, tail, right_head))
    return found


def _single_type(inner: list[Token]) -> str | None:
    """TYPE of `[r:TYPE]`, `[:TYPE {..}]`, `[r:TYPE WHERE ..]`; None for anything else."""
    j = 1 if inner and _is_name(inner[0]) and not _is_word(inner[0], "WHERE") else 0
    if j + 1 >= len(inner) or inner[j].text != ":" or not _is_name(inner[j + 1]):
        return None
    rest = inner[j + 2 :]
    if not rest or rest[0].text == "{" or rest[0].kind == "param" or _is_word(rest[0], "WHERE"):
        return _name(inner[j + 1])
    return None  # `|`, `*`, `&`, a second `:` ...


def _node(
    tokens: list[Token], start: int, end: int, schema: GraphSchema
) -> tuple[str | None, str | None]:
    """(variable, type) of the node pattern tokens[start..end]; type None when it has no type
    label, _UNKNOWN when its labels are not exactly one schema node type (or not a node)."""
    inner = tokens[start + 1 : end]
    j = 1 if inner and _is_name(inner[0]) else 0
    variable = _name(inner[0]) if j else None
    labels = []
    while j + 1 < len(inner) and inner[j].text == ":" and _is_name(inner[j + 1]):
        labels.append(_name(inner[j + 1]))
        j += 2
    rest = inner[j:]
    if rest and rest[0].text != "{" and rest[0].kind != "param" and not _is_word(rest[0], "WHERE"):
        return variable, _UNKNOWN  # a label expression (`|`, `&`, `!`, `IS`) or no node at all
    types = [label for label in labels if label != GENERIC_LABEL]
    if not types:
        return variable, None
    if len(types) == 1 and types[0] in schema.node_labels:
        return variable, types[0]
    return variable, _UNKNOWN


def _endpoint_type(
    tokens: list[Token],
    start: int,
    end: int,
    scopes: _Scopes,
    known: dict[tuple[int, str], str],
    schema: GraphSchema,
) -> str | None:
    variable, node_type = _node(tokens, start, end, schema)
    if node_type is not None or variable is None:
        return node_type
    return known.get((scopes.ids[start], variable))


def _subqueries(tokens: list[Token]) -> dict[int, int]:
    """Index of each subquery's `{` (CALL, EXISTS, COUNT, COLLECT) -> index of its `}`."""
    braces = {}
    for i, token in enumerate(tokens):
        before = tokens[i - 1] if i else None
        if token.text != "{" or before is None:
            continue
        if before.text == ")" or (before.kind == "word" and before.upper in _SUBQUERY_OPENERS):
            close = _matching(tokens, i)
            if close is not None:
                braces[i] = close
    return braces


@dataclass
class _Scopes:
    """Scope id of each token (a new scope after each WITH and inside each subquery), and for
    each WITH scope its parent and the variables it carries over (None: `WITH *`)."""

    ids: list[int]
    carried: dict[int, tuple[int, set[str] | None]]


def _scopes(tokens: list[Token], subqueries: dict[int, int]) -> _Scopes:
    scopes = _Scopes([], {})
    stack, fresh, closers = [0], 1, set(subqueries.values())
    for i in range(len(tokens)):
        if i in closers:
            stack.pop()
        elif i in subqueries:
            stack.append(fresh)
            fresh += 1
        elif _is_clause(tokens, i, "WITH"):
            scopes.carried[fresh] = (stack[-1], _projected(tokens, i))
            stack[-1] = fresh
            fresh += 1
        scopes.ids.append(stack[-1])
    return scopes


def _projected(tokens: list[Token], with_at: int) -> set[str] | None:
    """Variables a WITH passes on unchanged (`WITH a, b` / `WITH *`: None means all)."""
    items: list[list[Token]] = [[]]
    depth, i = 0, with_at + 1
    if i < len(tokens) and _is_word(tokens[i], "DISTINCT"):
        i += 1
    while i < len(tokens):
        token = tokens[i]
        if depth == 0 and token.upper in _ENDS_PROJECTION and _is_clause(tokens, i, token.upper):
            break
        if token.text in _PAIRS:
            depth += 1
        elif token.text in _PAIRS.values():
            depth -= 1
            if depth < 0:
                break
        if depth == 0 and token.text == ",":
            items.append([])
        else:
            items[-1].append(token)
        i += 1
    if any(len(item) == 1 and item[0].text == "*" for item in items):
        return None
    return {_name(item[0]) for item in items if len(item) == 1 and _is_name(item[0])}


def _is_clause(tokens: list[Token], i: int, word: str) -> bool:
    """tokens[i] is the clause keyword `word` (not `n.with`, `:With`, `STARTS WITH`)."""
    if not _is_word(tokens[i], word):
        return False
    before = tokens[i - 1] if i else None
    if before is not None and (before.text in (".", ":") or before.upper in ("STARTS", "ENDS")):
        return False
    return i + 1 == len(tokens) or tokens[i + 1].text != ":"


def _labelled_variables(
    tokens: list[Token], scopes: _Scopes, subqueries: dict[int, int], schema: GraphSchema
) -> dict[tuple[int, str], str]:
    """(scope, variable) -> the type label the variable has in the MATCH patterns of that scope
    or, carried by WITH, of earlier ones; _UNKNOWN when they disagree or name no schema type,
    or AS binds the variable."""
    seen: dict[tuple[int, str], set[str]] = {}
    in_match = [False]  # one flag per open subquery
    closers = set(subqueries.values())
    for i, token in enumerate(tokens):
        if i in subqueries:
            in_match.append(False)
        elif i in closers:
            in_match.pop()
        elif _is_clause(tokens, i, "MATCH"):
            in_match[-1] = not (i and _is_word(tokens[i - 1], "OPTIONAL"))
        elif token.upper in _ENDS_MATCH and _is_clause(tokens, i, token.upper):
            in_match[-1] = False
        if _is_clause(tokens, i, "AS") and i + 1 < len(tokens) and _is_name(tokens[i + 1]):
            seen.setdefault((scopes.ids[i + 1], _name(tokens[i + 1])), set()).add(_UNKNOWN)
        if not (in_match[-1] and token.text == "(" and i):
            continue
        before = tokens[i - 1]
        if before.text not in (",", "=", "-", ">", "<") and not _is_word(before, "MATCH"):
            continue
        end = _matching(tokens, i)
        if end is None:
            continue
        variable, node_type = _node(tokens, i, end, schema)
        if variable is not None and node_type is not None:
            seen.setdefault((scopes.ids[i], variable), set()).add(node_type)
    for child, (parent, names) in sorted(scopes.carried.items()):  # parents come first
        for (scope, variable), types in list(seen.items()):
            if scope == parent and (names is None or variable in names):
                seen.setdefault((child, variable), set()).update(types)
    return {key: types.pop() if len(types) == 1 else _UNKNOWN for key, types in seen.items()}
