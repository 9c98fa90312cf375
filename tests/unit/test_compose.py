"""docker-compose.yml (Docker cannot run here): services, healthchecks, the reader-user wiring,
and the Enterprise init script run by bash against a stub cypher-shell."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from kgrag.settings import REPO_ROOT, Settings

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
ENV_EXAMPLE = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
DEFAULT = re.compile(r"^\$\{(\w+):-(.*)\}$")


def _default(value: str) -> str:
    """What `${VAR:-default}` becomes when VAR is unset."""
    match = DEFAULT.match(value)
    assert match, f"{value!r} is not ${{VAR:-default}}"
    return match.group(2)


def test_services_and_healthchecks():
    assert set(SERVICES) == {"neo4j", "neo4j-reader", "vllm", "api", "prometheus"}
    for name in ("neo4j", "vllm"):
        assert SERVICES[name]["healthcheck"]["test"], name
    api_deps = SERVICES["api"]["depends_on"]
    assert api_deps["neo4j"]["condition"] == api_deps["vllm"]["condition"] == "service_healthy"


def _image(service: str) -> str:
    image = SERVICES[service]["image"]
    return _default(image) if image.startswith("${") else image


def test_images_are_pinned_to_versions():
    for service in (name for name, spec in SERVICES.items() if "image" in spec):  # api: built
        _, _, tag = _image(service).partition(":")
        assert tag and tag != "latest", f"{service}: {_image(service)}"
    assert re.fullmatch(r"vllm/vllm-openai:v\d+\.\d+\.\d+", _image("vllm"))
    assert f"VLLM_IMAGE={_image('vllm')}" in ENV_EXAMPLE.splitlines()
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", _image("prometheus"))


def test_prometheus_scrapes_the_api_and_vllm_only_in_the_metrics_profile():
    prometheus = SERVICES["prometheus"]
    assert prometheus["profiles"] == ["metrics"]
    assert "prometheus" not in SERVICES["api"]["depends_on"]
    config_flag = next(a for a in prometheus["command"] if a.startswith("--config.file="))
    source, target, mode = next(
        v.split(":") for v in prometheus["volumes"] if v.startswith("./deploy/")
    )
    assert target == config_flag.removeprefix("--config.file=") and mode == "ro"
    config = yaml.safe_load((REPO_ROOT / source).read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["kgrag"]["metrics_path"] == jobs["vllm"]["metrics_path"] == "/metrics"
    assert jobs["kgrag"]["static_configs"] == [{"targets": ["api:8000"]}]
    assert jobs["vllm"]["static_configs"] == [{"targets": ["vllm:8000"]}]
    api_command = SERVICES["api"]["command"]
    assert api_command[api_command.index("--port") + 1] == "8000"
    assert "8000" in SERVICES["vllm"]["healthcheck"]["test"][1]  # vLLM listens on 8000 inside
    from kgrag.api.app import create_app

    assert create_app(Settings()).url_path_for("metrics") == "/metrics"


def test_neo4j_defaults_to_pinned_community_and_never_accepts_a_license_itself():
    neo4j = SERVICES["neo4j"]
    assert _default(neo4j["image"]) == "neo4j:5"
    assert SERVICES["neo4j-reader"]["image"] == neo4j["image"]
    assert _default(neo4j["environment"]["NEO4J_ACCEPT_LICENSE_AGREEMENT"]) == "no"
    for variable in ("NEO4J_IMAGE=neo4j:5", "NEO4J_ACCEPT_LICENSE_AGREEMENT=no"):
        assert variable in ENV_EXAMPLE.splitlines()


def test_reader_init_runs_only_in_the_enterprise_profile_before_the_api():
    reader = SERVICES["neo4j-reader"]
    assert reader["profiles"] == ["enterprise"] and reader["restart"] == "no"
    assert reader["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert reader["environment"]["READ_USER"] == "${KGRAG_GRAPH_READ_USER:-}"
    assert reader["environment"]["READ_PASSWORD"] == "${KGRAG_GRAPH_READ_PASSWORD:-}"
    dependency = SERVICES["api"]["depends_on"]["neo4j-reader"]
    assert dependency == {"condition": "service_completed_successfully", "required": False}


def test_api_environment_names_real_settings_and_wires_the_reader():
    env = SERVICES["api"]["environment"]
    for name in env:
        field = name.removeprefix("KGRAG_").lower()
        assert name.startswith("KGRAG_") and field in Settings.model_fields, name
    assert env["KGRAG_GRAPH_READ_USER"] == "${KGRAG_GRAPH_READ_USER:-}"
    assert env["KGRAG_GRAPH_READ_PASSWORD"] == "${KGRAG_GRAPH_READ_PASSWORD:-}"
    for variable in ("KGRAG_GRAPH_READ_USER=", "KGRAG_GRAPH_READ_PASSWORD="):
        assert variable in ENV_EXAMPLE.splitlines()  # empty: Community has no roles


def _run_init(tmp_path: Path, edition: str, user: str, password: str) -> tuple[int, str, str]:
    """Run neo4j-reader's script as compose would (`$$` -> `$`), cypher-shell stubbed: the
    stub answers the edition query and records its arguments and stdin."""
    stub = tmp_path / "cypher-shell"
    stub.write_text(
        "#!/bin/bash\n"
        f'echo "$*" >> {tmp_path}/args\n'
        'if [[ "$*" == *dbms.components* ]]; then printf \'edition\\n"%s"\\n\' '
        f'"{edition}"; else cat >> {tmp_path}/stdin; fi\n'
    )
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    raw = SERVICES["neo4j-reader"]["command"][0]
    assert "$" not in raw.replace("$$", ""), "a single $ would be interpolated by compose"
    script = raw.replace("$$", "$")
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "NEO4J_PASSWORD": "admin-pw",
        "READ_USER": user,
        "READ_PASSWORD": password,
    }
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30
    )
    sent = (tmp_path / "stdin").read_text() if (tmp_path / "stdin").exists() else ""
    return done.returncode, done.stderr, sent


def test_reader_init_creates_the_user_with_role_reader_on_enterprise(tmp_path: Path):
    code, err, sent = _run_init(tmp_path, "enterprise", "kgrag_reader", "s3cret pw")
    assert code == 0, err
    assert sent.splitlines() == [
        "CREATE OR REPLACE USER `kgrag_reader` SET PASSWORD 's3cret pw' CHANGE NOT REQUIRED;",
        "GRANT ROLE reader TO `kgrag_reader`;",
    ]
    args = (tmp_path / "args").read_text().splitlines()
    assert args[-1] == "-a bolt://neo4j:7687 -u neo4j -p admin-pw -d system"


@pytest.mark.parametrize(
    ("edition", "user", "password", "message"),
    [
        ("community", "kgrag_reader", "pw", "Neo4j community has no roles"),
        ("enterprise", "", "", "set KGRAG_GRAPH_READ_USER and KGRAG_GRAPH_READ_PASSWORD"),
        ("enterprise", "kgrag_reader", "it's", "must not contain"),
        ("enterprise", "kg`reader", "pw", "must not contain"),
    ],
)
def test_reader_init_refuses_with_a_reason(tmp_path: Path, edition, user, password, message):
    code, err, sent = _run_init(tmp_path, edition, user, password)
    assert code == 1 and message in err and sent == ""
