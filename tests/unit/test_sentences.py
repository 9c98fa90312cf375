"""Sentence splitting for English and Korean: table-driven cases, offsets back to the source."""

from pathlib import Path

import pytest
import yaml

from kgrag.sentences import split_sentences

CASES = yaml.safe_load((Path(__file__).parents[1] / "data" / "sentences.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_splits_into_the_expected_sentences(case):
    text = case["text"]
    assert [text[s:e] for s, e in split_sentences(text)] == case["sentences"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_offsets_map_back_to_the_exact_source_and_lose_nothing(case):
    text = case["text"]
    spans = split_sentences(text)
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))  # ordered, disjoint
    for s, e in spans:
        assert text[s:e] == text[s:e].strip()
    # only whitespace lies outside the sentences
    gaps = zip([0, *(e for _, e in spans)], [*(s for s, _ in spans), len(text)], strict=True)
    assert not "".join(text[a:b] for a, b in gaps).strip()


@pytest.mark.parametrize("text", ["", "   \n\n  "])
def test_blank_text_has_no_sentences(text):
    assert split_sentences(text) == []
