"""The schema-refinement loop on the real stack: discover -> draft -> apply -> review -> diff.

Runs the `kgrag schema` commands as a user would, against the embedded ArcadeDB and the
session's local LLM, on two small sample documents (one chunk each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kgrag.refine.discover import DiscoveryReport
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.integration

DOCS = [
    REPO_ROOT / "samples" / "docs" / "people.md",
    REPO_ROOT / "samples" / "docs" / "partners.txt",
]
DEFAULT = REPO_ROOT / "schemas" / "default.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, llm_server: str, llm_settings: Settings):
    env = {
        **os.environ,
        "KGRAG_DATA_DIR": str(tmp_path_factory.mktemp("kgrag-loop")),
        "KGRAG_LLM_BASE_URL": llm_server,
        "KGRAG_LLM_MODEL": llm_settings.llm_model,
        "COLUMNS": "200",
    }

    def kgrag(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "kgrag.cli.main", "schema", *map(str, args)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    return kgrag


def _review(run, schema: Path) -> dict:
    return json.loads(run("review", "--schema", schema, "--json").stdout)


def test_discover_draft_apply_review_diff(run, tmp_path: Path):
    report_path, draft_path = tmp_path / "discovery.json", tmp_path / "drafted.yaml"
    run("discover", *DOCS, "--sample", "2", "-o", report_path)
    report = DiscoveryReport.load(report_path)
    assert report.chunks_sampled == 2 and report.node_types and report.relationship_types
    assert all(e.chunk_id for t in report.node_types for e in t.examples)

    out = run("draft", "--from", report_path, "-o", draft_path, "--min-count", "1").stdout
    drafted = GraphSchema.from_file(draft_path)  # a valid schema, ready to edit
    assert draft_path.read_text(encoding="utf-8").startswith("# Drafted by `kgrag schema draft`")
    assert drafted.node_types and "wrote" in out

    assert "coverage" in run("apply", draft_path, *DOCS).stdout
    metrics = _review(run, draft_path)
    assert metrics["documents"] == 2 and metrics["documents_under_other_schemas"] == []
    assert 0 <= metrics["coverage"] <= 1
    dropped = (metrics["extracted_nodes"] - metrics["kept_nodes"]) + (
        metrics["extracted_relationships"] - metrics["kept_relationships"]
    )
    assert sum(metrics["dropped_by_reason"].values()) == dropped
    # strict pruning: the graph holds only the schema's types
    assert set(metrics["node_type_counts"]) <= set(drafted.node_labels)
    assert set(metrics["relationship_type_counts"]) <= set(drafted.relationship_names)

    stale = _review(run, DEFAULT)
    assert len(stale["documents_under_other_schemas"]) == 2  # extracted under the draft

    run("apply", DEFAULT, *DOCS)
    default = GraphSchema.from_file(DEFAULT)
    metrics = _review(run, DEFAULT)
    assert metrics["documents_under_other_schemas"] == []
    assert set(metrics["node_type_counts"]) <= set(default.node_labels)  # old extraction gone

    diff = json.loads(run("diff", draft_path, DEFAULT, "--json").stdout)
    coverage_a, coverage_b = diff["metrics"]["coverage"]
    assert coverage_a is not None and coverage_b is not None
    assert set(diff["added"]["node types"]) == set(default.node_labels) - set(drafted.node_labels)


def test_bad_input_is_refused_with_the_reason(run, tmp_path: Path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "blank.txt").write_text("   \n", encoding="utf-8")
    nothing = run("discover", tmp_path / "empty", tmp_path / "blank.txt", check=False)
    assert nothing.returncode == 2 and "nothing to discover from" in nothing.stderr
    assert "skipped" in nothing.stderr or "blank.txt" in nothing.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nnode_types: [{name: Chunk}]\nrelationship_types: []\n")
    refused = run("apply", bad, DOCS[0], check=False)
    assert refused.returncode == 2 and "reserved for the lexical graph" in refused.stderr
