"""QA metrics: SQuAD-style Exact Match and token F1, supporting-passage recall@k, percentiles."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

RECALL_KS = (1, 3, 5, 10)
_ARTICLES = re.compile(r"\b(a|an|the)\b", flags=re.UNICODE)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation (lowercase, delete punctuation, drop a/an/the, collapse whitespace),
    made Unicode-aware: NFKC first, casefold, every Unicode punctuation category deleted."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, answers: Iterable[str]) -> float:
    """1.0 when the normalised prediction equals any normalised gold answer."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(a) for a in answers))


def token_f1(prediction: str, answers: Iterable[str]) -> float:
    """The best token-overlap F1 of the prediction against any gold answer."""
    pred = normalize_answer(prediction).split()
    return max((_f1(pred, normalize_answer(a).split()) for a in answers), default=0.0)


def _f1(pred: list[str], gold: list[str]) -> float:
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def title_key(title: str) -> str:
    """Titles compare by NFKC, casefold and collapsed whitespace."""
    return " ".join(unicodedata.normalize("NFKC", title).casefold().split())


def ranked_documents(titles: Iterable[str]) -> list[str]:
    """Document titles in first-seen order, once each (several chunks may share a document)."""
    return list(dict.fromkeys(titles))


def recall_at_k(
    supporting: Iterable[str], ranked: Sequence[str], ks: Sequence[int] = RECALL_KS
) -> dict[int, float] | None:
    """Share of the supporting titles among the first k ranked document titles, per k;
    None when there are no supporting titles to find."""
    gold = {title_key(t) for t in supporting}
    if not gold:
        return None
    keys = ranked_documents(title_key(t) for t in ranked)
    return {k: len(gold & set(keys[:k])) / len(gold) for k in ks}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), None for no values."""
    return float(np.percentile(values, q)) if values else None
