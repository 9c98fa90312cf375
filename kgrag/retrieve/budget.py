"""Context budget: keep the retrieved items that fit the answer LLM's context, trace the rest.

Tokens are estimated without a tokenizer (none can be downloaded here), conservatively: every
Hangul/CJK character, digit and other non-ASCII character counts as one token, the remaining
ASCII as one token per 2.5 characters. Measured against the default model's tokenizer
(Qwen2.5, llama-server /tokenize) on 800-character pieces of English prose, Markdown tables,
code and Korean notes, this never undercounted (median 1.5x the true count; pure Hangul is
0.91 tokens per syllable).
"""

from __future__ import annotations

import math
import re
from typing import Any

from kgrag.errors import ConfigError
from kgrag.prompt_items import fact_line, passage, row_line
from kgrag.prompts import Prompts
from kgrag.types import RetrievedContext

KEEP_FIRST = 3  # the best triples and query rows rank above every passage
CHAT_OVERHEAD = 32  # tokens the chat template adds around the messages
ASCII_CHARS_PER_TOKEN = 2.5
_ONE_TOKEN_EACH = re.compile(r"[^\x00-\x7f]|\d")  # Hangul, CJK, other non-ASCII, digits


def estimate_tokens(text: str) -> int:
    """A conservative token count of `text` (see the module docstring)."""
    singles = len(_ONE_TOKEN_EACH.findall(text))
    return singles + math.ceil((len(text) - singles) / ASCII_CHARS_PER_TOKEN)


def answer_budget(prompts: Prompts, *, context_tokens: int, answer_tokens: int) -> int:
    """Tokens left for the question, facts and passages of the answer prompt: the context
    minus the prompt's fixed text, the chat template and the tokens reserved for the answer."""
    fixed = (
        estimate_tokens(prompts.render("answer_system"))
        + estimate_tokens(prompts.render("answer_user", question="", facts="", evidence=""))
        + CHAT_OVERHEAD
    )
    left = context_tokens - answer_tokens - fixed
    if left <= 0:
        raise ConfigError(
            f"llm_context ({context_tokens}) leaves no room for evidence: llm_max_tokens "
            f"({answer_tokens}) and the answer prompt (~{fixed} tokens) use it all; raise "
            "llm_context or lower llm_max_tokens"
        )
    return left


def fit(context: RetrievedContext, limit: int) -> RetrievedContext:
    """Keep the items that fit `limit` tokens, best first, and trace what was dropped.

    Priority: the first KEEP_FIRST triples and query rows, then the passages by score, then the
    other query rows and triples in their order. Items are dropped from the lowest priority up
    until the rest fits; a passage is kept whole or dropped, never cut.
    """
    triples, rows, evidence = context.triples, context.cypher_rows, context.evidence
    by_score = sorted(range(len(evidence)), key=lambda i: -evidence[i].score)
    ranked = [
        *(("triple", i) for i in range(len(triples))[:KEEP_FIRST]),
        *(("cypher_row", i) for i in range(len(rows))[:KEEP_FIRST]),
        *(("evidence", i) for i in by_score),
        *(("cypher_row", i) for i in range(len(rows))[KEEP_FIRST:]),
        *(("triple", i) for i in range(len(triples))[KEEP_FIRST:]),
    ]
    total = estimate_tokens(context.question)
    kept: dict[str, set[int]] = {"triple": set(), "cypher_row": set(), "evidence": set()}
    dropped: list[dict[str, Any]] = []
    for kind, i in ranked:
        tokens = _tokens(context, kind, i)
        if dropped or total + tokens > limit:
            dropped.append(_describe(context, kind, i, tokens))
        else:
            kept[kind].add(i)
            total += tokens
    trace = {"limit_tokens": limit, "estimated_tokens": total, "dropped": dropped}
    return context.model_copy(
        update={
            "triples": [t for i, t in enumerate(triples) if i in kept["triple"]],
            "cypher_rows": [r for i, r in enumerate(rows) if i in kept["cypher_row"]],
            "evidence": [e for i, e in enumerate(evidence) if i in kept["evidence"]],
            "trace": {**context.trace, "budget": trace},
        }
    )


def _tokens(context: RetrievedContext, kind: str, i: int) -> int:
    """Estimated tokens of the item as the answer prompt writes it, separator included."""
    if kind == "triple":
        return estimate_tokens(fact_line(context.triples[i]) + "\n")
    if kind == "cypher_row":
        return estimate_tokens(row_line(context.cypher_rows[i]) + "\n")
    return estimate_tokens(passage(len(context.evidence), context.evidence[i]) + "\n\n")


def _describe(context: RetrievedContext, kind: str, i: int, tokens: int) -> dict[str, Any]:
    if kind == "triple":
        t = context.triples[i]
        fact = f"{t.subject} -[{t.predicate}]-> {t.object}"
        return {"kind": kind, "fact": fact, "tokens": tokens}
    if kind == "cypher_row":
        return {"kind": kind, "index": i, "tokens": tokens}
    e = context.evidence[i]
    return {
        "kind": kind,
        "chunk_id": e.chunk_id,
        "start": e.start,
        "end": e.end,
        "score": e.score,
        "tokens": tokens,
    }
