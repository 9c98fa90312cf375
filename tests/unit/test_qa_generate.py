"""QA items from document structure: sections, definitions and procedures, with their page,
in the JSONL shape `kgrag eval` reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kgrag.eval.datasets import load_qa
from kgrag.eval.qa_generate import generate
from kgrag.ingest.read import read_document

MANUAL = """# Kelvin-7 manual

## Overview

A drifting buoy is a floating instrument that reports ocean data by satellite.
The Kelvin-7 is the smallest buoy Halden makes.

## How to replace the battery

1. Open the lower hatch.
2. Swap the battery pack.
3. Close the hatch and wait for the green light.

## Short

Too short.
\f
## Deployment

Deploy the Kelvin-7 from a ship moving slower than four knots, upwind of the drop zone.
"""


def _doc():
    return read_document("manual.md", MANUAL.encode(), max_mb=1, min_page_chars=1)


def test_sections_definitions_and_procedures_become_questions():
    items = {i.question: i for i in generate(_doc())}
    title = _doc().title
    assert items["What is a drifting buoy?"].kind == "definition"
    assert items["What is the Kelvin-7?"].answers == [
        "The Kelvin-7 is the smallest buoy Halden makes."
    ]
    procedure = items["How do I replace the battery?"]
    assert procedure.kind == "procedure" and procedure.answers[0].count("\n") == 2
    overview = items[f"What does {title} say about Overview?"]
    assert overview.kind == "section" and "satellite" in overview.answers[0]
    assert items[f"What does {title} say about Deployment?"].page == 2  # after the form feed
    assert not any("Short" in q for q in items)  # too little text to ask about
    assert all(i.supporting_titles == [title] for i in items.values())


def test_cli_writes_a_set_that_kgrag_eval_reads(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "manual.md").write_text(MANUAL, encoding="utf-8")
    out = tmp_path / "qa.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "kgrag.cli.main", "qa", "generate", str(tmp_path / "docs"),
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    loaded = load_qa(out)
    assert len(loaded) == len(generate(_doc())) == 5
    assert "What is a drifting buoy?" in {i.question for i in loaded}
    assert "5 questions" in result.stdout
