"""Schema refinement without an LLM: discovery report, draft consolidation, schema diff."""

from pathlib import Path

import numpy as np

from kgrag.refine.discover import build_report, sample_chunks
from kgrag.refine.draft import draft_schema
from kgrag.refine.review import ReviewMetrics, diff_schemas
from kgrag.schema import GraphSchema
from kgrag.types import Chunk, ExtractedGraph, ExtractedNode, ExtractedRelationship


def _graph(chunk_id, nodes, rels=()):
    return ExtractedGraph(
        chunk_id=chunk_id,
        nodes=[ExtractedNode(name=n, type=t) for n, t in nodes],
        relationships=[
            ExtractedRelationship(source=s, source_type=st, type=r, target=t, target_type=tt)
            for s, st, r, t, tt in rels
        ],
    )


GRAPHS = [
    _graph(
        "d:p1:0",
        [("Ingrid Voss", "Person"), ("Halden", "Company")],
        [("Ingrid Voss", "Person", "FOUNDED", "Halden", "Company")],
    ),
    _graph(
        "d:p1:1",
        [("Tomas Reyes", "person"), ("Nordic Fund", "Companies")],
        [
            ("Tomas Reyes", "person", "founded", "Nordic Fund", "Companies"),
            ("Halden", "Company", "FOUNDED_BY", "Ingrid Voss", "Person"),
            ("Halden", "Company", "FUNDED_BY", "Nordic Fund", "Company"),
            ("Halden", "Company", "LOCATED_IN", "Tromsø", "City"),  # endpoint-only node
        ],
    ),
    _graph("d:p2:0", [("Kelvin-7", "Gadget")]),
]


def _report(embed=None, threshold=0.6):
    return build_report(
        GRAPHS, sources=["a.txt"], chunks_total=5, embed=embed, similarity_threshold=threshold
    )


def test_report_counts_types_with_examples_and_endpoint_nodes():
    report = _report()
    counts = {t.name: t.count for t in report.node_types}
    assert counts == {
        "Person": 2,
        "Company": 3,
        "person": 1,
        "Companies": 1,
        "Gadget": 1,
        "City": 1,
    }
    company = next(t for t in report.node_types if t.name == "Company")
    assert {e.text for e in company.examples} == {"Halden", "Nordic Fund"}
    rels = {t.name: t.count for t in report.relationship_types}
    assert rels["FOUNDED"] == 2  # "founded" written as UPPER_SNAKE
    assert (report.chunks_sampled, report.chunks_total) == (3, 5)


def test_report_lists_near_duplicate_names_with_their_evidence():
    dups = {(d.a, d.b): d.method for d in _report().near_duplicates}
    assert dups[("Company", "Companies")] == "same_key"
    assert dups[("Person", "person")] == "same_key"
    assert dups[("FOUNDED", "FOUNDED_BY")] == "inverse"
    assert dups[("FOUNDED_BY", "FUNDED_BY")] == "spelling"


def test_draft_merges_spellings_drops_rare_types_and_maps_patterns(tmp_path: Path):
    draft = draft_schema(_report(), name="t", min_count=2)
    schema = draft.schema_
    assert schema.node_labels == ["Company", "Person"]
    company = schema.node_types[0]
    assert company.aliases == [] and "Halden" in company.description  # Companies = same key
    assert {(m.kept, tuple(m.merged)) for m in draft.merges} == {
        ("Company", ("Companies",)),
        ("Person", ("person",)),
    }
    assert {d.name for d in draft.drops} == {"Gadget", "City", "FOUNDED_BY", "FUNDED_BY",
                                             "LOCATED_IN"}  # fmt: skip
    assert schema.relationship_names == ["FOUNDED"]
    assert schema.patterns == [("Person", "FOUNDED", "Company")]
    path = tmp_path / "t.yaml"
    schema.save(path, header=draft.header())
    text = path.read_text(encoding="utf-8")
    assert "# merged node types: Company <- Companies" in text
    assert "# dropped node type Gadget (1): seen fewer than 2 times" in text
    assert GraphSchema.from_file(path) == schema


def test_draft_keeps_inverse_and_spelling_only_pairs_apart():
    draft = draft_schema(_report(), name="t", min_count=1)
    assert {"FOUNDED", "FOUNDED_BY", "FUNDED_BY"} <= set(draft.schema_.relationship_names)
    apart = {(d.a, d.b) for d in draft.kept_apart}
    assert {("FOUNDED", "FOUNDED_BY"), ("FOUNDED_BY", "FUNDED_BY")} <= apart
    assert "not merged, check: FOUNDED_BY / FUNDED_BY" in draft.header()


def test_draft_merges_by_meaning_only_above_the_threshold():
    meaning = {"city": [1.0, 0.0], "town": [0.9, 0.436], "gadget": [0.0, 1.0]}

    def embed(phrases):
        return np.array([meaning.get(p, [0.5, 0.5]) for p in phrases], dtype="float32")

    graphs = [_graph("c1", [("Oslo", "City"), ("Oslo", "City"), ("Voss", "Town")])]
    report = build_report(graphs, sources=[], chunks_total=1, embed=embed, similarity_threshold=0.6)
    assert draft_schema(
        report, name="t", min_count=1, merge_threshold=0.85
    ).schema_.node_labels == ["City"]
    assert draft_schema(
        report, name="t", min_count=1, merge_threshold=0.95
    ).schema_.node_labels == [
        "City",
        "Town",
    ]


def test_sample_is_reproducible_and_in_document_order():
    chunks = [
        Chunk(id=f"d:p1:{i}", document_id="d", page=1, start=i, end=i + 1, text="x")
        for i in range(10)
    ]
    picked = sample_chunks(chunks, 4, seed=3)
    assert picked == sample_chunks(chunks, 4, seed=3)
    assert len(picked) == 4 and picked == sorted(picked, key=lambda c: c.start)
    assert sample_chunks(chunks, None) == chunks


def test_diff_lists_schema_changes_and_metric_pairs():
    a = draft_schema(_report(), name="t", min_count=2).schema_
    b = draft_schema(_report(), name="t", min_count=1).schema_
    metrics_a = ReviewMetrics(
        schema_name="t", schema_version=1, schema_fingerprint=a.fingerprint, documents=1,
        extracted_nodes=10, kept_nodes=5,
    )  # fmt: skip
    result = diff_schemas(a, b, metrics_a, None)
    assert "Gadget" in result.added["node types"] and not result.removed["node types"]
    assert result.metrics["coverage"] == (0.5, None)
