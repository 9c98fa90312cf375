"""Sentence windows: anchors by entity name/alias or question similarity, ± n, merged, exact."""

from pathlib import Path

import numpy as np
import pytest

from kgrag.embed import SentenceEmbedder
from kgrag.retrieve.link import entity_index_key, surfaces_by_entity
from kgrag.retrieve.windows import SentenceWindows, mentions, merge_windows
from kgrag.sentences import split_sentences
from kgrag.types import Evidence, LinkedEntity, Triple
from kgrag.vectors import VectorIndex

HARBOUR = (
    "Halden is a coastal town. Its harbour rarely freezes. The buoy was designed by Tomas Reyes. "
    "He tested it in 2019. The weather station records wind speed. Rainfall is measured hourly."
)
ALIAS_ONLY = "The early prototypes sank. T. Reyes then changed the hull. The rest is history."
SEOUL = "서울은 한국의 수도이다.인구가 많다.레예스는 서울에서 일했다.날씨는 맑다.바다가 가깝다."
REYES = LinkedEntity(
    mention="Tomas Reyes", entity_id="reyes", name="Tomas Reyes", score=1.0, method="exact"
)
DESIGNED = Triple(
    subject="Tomas Reyes", predicate="DESIGNED", object="buoy",
    source_chunks=["d:p1:0", "d:p2:0"], subject_id="reyes", object_id="buoy",
)  # fmt: skip


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder()


def _windows(embedder, tmp_path: Path, n: int) -> SentenceWindows:
    index = VectorIndex.empty(tmp_path / "entities", 2)
    keys = [entity_index_key("reyes", s) for s in ("Tomas Reyes", "T. Reyes")]
    keys.append(entity_index_key("seoul", "서울"))
    index.add(keys, np.ones((3, 2), dtype="float32"))
    return SentenceWindows(embedder, surfaces_by_entity(index), n)


def _evidence(chunk_id: str, text: str, via: str = "graph", score: float = 1.0) -> Evidence:
    return Evidence(
        chunk_id=chunk_id, document_id="d", document_title="Notes", page=1, text=text,
        score=score, via=via,
    )  # fmt: skip


def _narrow(windows: SentenceWindows, evidence, question: str, linked, triples):
    query = windows.embedder.embed([question])[0]
    passages, trace = windows.narrow(evidence, linked, triples, query)
    chunks = {e.chunk_id: e.text for e in evidence}
    for p in passages:  # offsets map back to the exact chunk text
        assert chunks[p.chunk_id][p.start : p.end] == p.text
    return passages, trace


def test_graph_chunk_keeps_the_named_sentence_with_one_neighbour_each_side(embedder, tmp_path):
    windows = _windows(embedder, tmp_path, 1)
    passages, trace = _narrow(
        windows, [_evidence("d:p1:0", HARBOUR)], "Who designed the buoy?", [REYES], [DESIGNED]
    )
    assert [p.text for p in passages] == [
        "Its harbour rarely freezes. The buoy was designed by Tomas Reyes. He tested it in 2019."
    ]
    assert (passages[0].chunk_id, passages[0].page, passages[0].score) == ("d:p1:0", 1, 1.0)
    assert trace == [
        {"chunk_id": "d:p1:0", "sentences": 6, "named": [2], "similar": None,
         "windows": [[26, 113]]},
    ]  # fmt: skip


def test_an_alias_anchors_and_the_window_stops_at_the_chunk_edges(embedder, tmp_path):
    windows = _windows(embedder, tmp_path, 2)
    passages, _ = _narrow(
        windows, [_evidence("d:p2:0", ALIAS_ONLY)], "Who designed the buoy?", [], [DESIGNED]
    )
    assert [p.text for p in passages] == [ALIAS_ONLY]


def test_vector_chunk_anchors_on_the_sentence_most_similar_to_the_question(embedder, tmp_path):
    windows = _windows(embedder, tmp_path, 0)
    passages, trace = _narrow(
        windows,
        [_evidence("v:p1:0", HARBOUR, via="vector")],
        "How often is rainfall measured?",
        [],
        [],
    )
    assert [p.text for p in passages] == ["Rainfall is measured hourly."]
    assert trace[0]["similar"] == 5 and trace[0]["named"] == []


def test_graph_chunk_naming_nobody_falls_back_to_the_most_similar_sentence(embedder, tmp_path):
    windows = _windows(embedder, tmp_path, 0)
    text = "The hull is made of steel. It weighs three tons. Paint protects it from salt."
    passages, _ = _narrow(
        windows, [_evidence("d:p1:0", text)], "How heavy is it?", [REYES], [DESIGNED]
    )
    assert [p.text for p in passages] == ["It weighs three tons."]


def test_korean_windows_merge_when_they_touch_and_stay_apart_otherwise(embedder, tmp_path):
    seoul = LinkedEntity(mention="서울", entity_id="seoul", name="서울", score=1.0, method="exact")
    apart, _ = _narrow(
        _windows(embedder, tmp_path / "a", 0), [_evidence("k:p1:0", SEOUL)], "서울", [seoul], []
    )
    assert [p.text for p in apart] == ["서울은 한국의 수도이다.", "레예스는 서울에서 일했다."]
    assert [(p.chunk_id, p.start) for p in apart] == [("k:p1:0", 0), ("k:p1:0", 20)]
    merged, _ = _narrow(
        _windows(embedder, tmp_path / "b", 1), [_evidence("k:p1:0", SEOUL)], "서울", [seoul], []
    )
    assert [p.text for p in merged] == [
        "서울은 한국의 수도이다.인구가 많다.레예스는 서울에서 일했다.날씨는 맑다."
    ]


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("Ann works. Annual report. ANN again.", {"Ann"}, {0, 2}),  # whole words, any case
        ("Ann works. Annual report.", {"ann works", "report"}, {0, 1}),
        ("레예스는 서울에서 일했다. 서울시는 크다.", {"서울"}, {0, 1}),  # particles follow names
        ("See U.S. Navy. Use the Navy.", {"U.S."}, {0}),
        ("Nothing here.", {"", " "}, set()),
    ],
)
def test_mentions(text, names, expected):
    assert mentions(text, split_sentences(text), names) == expected


@pytest.mark.parametrize(
    ("anchors", "n", "expected"),
    [
        ({2}, 1, [(1, 3)]),
        ({0}, 2, [(0, 2)]),
        ({5}, 3, [(2, 5)]),
        ({0, 4}, 1, [(0, 1), (3, 5)]),
        ({0, 3}, 1, [(0, 4)]),  # adjacent windows merge
        ({1, 2}, 0, [(1, 2)]),
        (set(), 1, []),
    ],
)
def test_merge_windows(anchors, n, expected):
    sentences = [(10 * i, 10 * i + 8) for i in range(6)]  # sentence i = characters 10i..10i+8
    spans = merge_windows(sentences, anchors, n)
    assert spans == [(10 * lo, 10 * hi + 8) for lo, hi in expected]


def test_evidence_offsets_must_span_its_text():
    assert (_evidence("d:p1:0", "Ann works.").start, _evidence("d:p1:0", "Ann works.").end) == (
        0,
        10,
    )
    with pytest.raises(ValueError, match="offsets 4:9 do not span the text"):
        Evidence(
            chunk_id="c", document_id="d", document_title="t", page=1, text="Ann works.",
            start=4, end=9, via="graph",
        )  # fmt: skip
