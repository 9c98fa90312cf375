"""The `kgrag` command: failures name the file or service and exit non-zero."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kgrag.settings import Settings
from kgrag.store.neo4j_store import Neo4jGraphStore
from tests.integration.test_documents_api import D1_SCANNED
from tests.integration.test_graph_store import C1, G1

pytestmark = pytest.mark.integration


def _kgrag(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kgrag.cli.main", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ingest_reports_bad_files_and_exits_1(
    tmp_path: Path, llm_server: str, llm_settings: Settings
):
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n....")
    env = {
        "KGRAG_DATA_DIR": str(tmp_path / "data"),
        "KGRAG_LLM_BASE_URL": llm_server,
        "KGRAG_LLM_MODEL": llm_settings.llm_model,
        "COLUMNS": "200",
    }
    result = _kgrag(
        ["ingest", str(tmp_path / "empty.md"), str(tmp_path / "scan.png")], env, tmp_path
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "empty file" in result.stdout and "corrupt or unreadable image" in result.stdout
    assert "2 of 2 file(s) failed" in result.stderr


def test_documents_show_lists_low_confidence_pages(
    tmp_path: Path, graph_store: Neo4jGraphStore, graph_settings: Settings
):
    graph_store.clear()
    graph_store.write_document(D1_SCANNED, C1, G1)  # page 2 OCR'd at confidence 0.42
    env = {"KGRAG_DATA_DIR": str(graph_settings.data_dir), "COLUMNS": "200"}
    result = _kgrag(["documents", "show", "doc1"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "low OCR confidence (below 0.8): page(s) 2" in result.stdout
    assert "tesseract" in result.stdout and "text layer" in result.stdout
    missing = _kgrag(["documents", "show", "nope"], env, tmp_path)
    assert missing.returncode == 1 and "no document nope" in missing.stdout


@pytest.mark.parametrize(
    ("variable", "url", "message"),
    [
        (
            "KGRAG_LLM_BASE_URL",
            "http://127.0.0.1:{port}/v1",
            "LLM unavailable: http://127.0.0.1:{port}/v1",
        ),
        (
            "KGRAG_GRAPH_URI",
            "bolt://127.0.0.1:{port}",
            "graph store unavailable: bolt://127.0.0.1:{port}",
        ),
    ],
)
def test_unreachable_service_exits_2_naming_it(
    tmp_path: Path, variable: str, url: str, message: str
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"KGRAG_DATA_DIR": str(tmp_path / "data"), variable: url.format(port=port)}
    result = _kgrag(["ask", "Who founded Halden Instruments?"], env, tmp_path)
    assert result.returncode == 2
    assert message.format(port=port) in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("group", "running"), [("graph", "graph server running"), ("llm", "local LLM server running")]
)
def test_server_start_status_stop_leaves_nothing_running(tmp_path: Path, group: str, running: str):
    env = {"KGRAG_DATA_DIR": str(tmp_path / "data"), "KGRAG_LLM_THREADS": "1"}
    started = _kgrag([group, "start"], env, tmp_path)
    assert started.returncode == 0 and running in started.stdout, started.stderr
    try:
        status = _kgrag([group, "status"], env, tmp_path)
        assert '"running": true' in status.stdout and '"healthy": true' in status.stdout
    finally:
        stopped = _kgrag([group, "stop"], env, tmp_path)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert '"running": false' in _kgrag([group, "status"], env, tmp_path).stdout
