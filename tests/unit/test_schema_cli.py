"""`kgrag schema` commands that need no services: clear errors, exit code 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kgrag.settings import REPO_ROOT


def _kgrag(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kgrag.cli.main", "schema", *args],
        env={**os.environ, "KGRAG_DATA_DIR": str(data_dir), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_accepts_the_default_schema(tmp_path: Path):
    result = _kgrag("validate", str(REPO_ROOT / "schemas" / "default.yaml"), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout and "8 node types" in result.stdout


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            "name: x\nnode_types: [{name: Person}, {name: people}, {name: Chunk}]\n"
            "relationship_types: [{name: bad-name}, {name: KNOWS}]\n"
            "patterns: [[Person, KNOWS, Place]]\n",
            [
                "reserved for the lexical graph",
                "'bad-name'",
                "unknown node type 'Place'",
            ],
        ),
        (
            "name: x\nnode_types: [{name: Company}, {name: Companies}]\nrelationship_types: []\n",
            ["duplicate"],
        ),
        ("name: x\nnode_types: [{name: A}]\n", ["relationship_types: Field required"]),
        ("name: [x\n", ["invalid schema"]),
    ],
)
def test_validate_names_every_problem(tmp_path: Path, text: str, problems: list[str]):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = _kgrag("validate", str(path), data_dir=tmp_path)
    assert result.returncode == 2
    for problem in problems:
        assert problem in result.stderr
    assert "Traceback" not in result.stderr


def test_draft_needs_a_discovery_report_and_never_overwrites(tmp_path: Path):
    missing = _kgrag("draft", "-o", str(tmp_path / "s.yaml"), data_dir=tmp_path)
    assert missing.returncode == 2 and "run `kgrag schema discover` first" in missing.stderr
    existing = tmp_path / "s.yaml"
    existing.write_text("keep me", encoding="utf-8")
    report = tmp_path / "r.json"
    report.write_text("{}", encoding="utf-8")
    result = _kgrag("draft", "--from", str(report), "-o", str(existing), data_dir=tmp_path)
    assert result.returncode == 2 and "--force" in result.stderr
    assert existing.read_text(encoding="utf-8") == "keep me"


def test_show_prints_json_that_round_trips(tmp_path: Path):
    result = _kgrag("show", "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"name": "default"' in result.stdout and "WORKS_FOR" in result.stdout
