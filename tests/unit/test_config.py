"""Schema files, prompt files and settings fail early with a clear message."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from kgrag.errors import ConfigError
from kgrag.prompts import PROMPT_PLACEHOLDERS, Prompts
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT, Settings


def test_bundled_schema_and_prompts_load():
    schema = GraphSchema.from_file(REPO_ROOT / "schemas" / "default.yaml")
    assert "Person" in schema.node_labels and schema.allows_pattern("Person", "BORN_IN", "Location")
    prompts = Prompts.load(REPO_ROOT / "prompts")
    assert "Question: Q?" in prompts.render("answer_user", question="Q?", facts="-", evidence="-")


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "name: x\nnode_types: [{name: 'Bad Label'}]\nrelationship_types: []",
            "not a valid graph label",
        ),
        ("name: x\nnode_types: [{name: Chunk}]\nrelationship_types: []", "reserved"),
        (
            "name: x\nnode_types: [{name: A}, {name: a}]\nrelationship_types: []",
            "duplicate node type",
        ),
        (
            "name: x\nnode_types: [{name: A}]\nrelationship_types: [{name: R}]\n"
            "patterns: [[A, R, B]]",
            "unknown node type 'B'",
        ),
        ("name: x\nnode_types: [{name: A}\n", "invalid schema"),
    ],
)
def test_bad_schema_files_are_refused(tmp_path: Path, yaml_text, message):
    path = tmp_path / "s.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        GraphSchema.from_file(path)


def test_schema_round_trips_through_yaml(tmp_path: Path):
    schema = GraphSchema.from_file(REPO_ROOT / "schemas" / "default.yaml")
    schema.save(tmp_path / "copy.yaml")
    assert GraphSchema.from_file(tmp_path / "copy.yaml") == schema


def test_prompt_with_wrong_placeholders_is_refused(tmp_path: Path):
    for name in PROMPT_PLACEHOLDERS:
        (tmp_path / f"{name}.md").write_text((REPO_ROOT / "prompts" / f"{name}.md").read_text())
    (tmp_path / "answer_user.md").write_text("Question: {question} {evidence}")
    with pytest.raises(ConfigError, match="answer_user.md"):
        Prompts.load(tmp_path)


def test_settings_precedence_env_over_yaml(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kgrag.yaml").write_text("chunk_size: 500\nhops: 1\n")
    monkeypatch.setenv("KGRAG_CHUNK_SIZE", "600")
    settings = Settings()
    assert settings.chunk_size == 600 and settings.hops == 1
    assert Settings(chunk_size=700).chunk_size == 700


def test_settings_refuse_nonsense(monkeypatch):
    with pytest.raises(ValidationError, match="chunk_overlap"):
        Settings(chunk_size=200, chunk_overlap=300)
    with pytest.raises(ValidationError):
        Settings(unknown_knob=1)


def test_read_user_settings(monkeypatch):
    uri = "bolt://neo4j:7687"
    monkeypatch.setenv("KGRAG_GRAPH_READ_USER", "")  # what docker-compose passes when unset
    monkeypatch.setenv("KGRAG_GRAPH_READ_PASSWORD", "")
    assert Settings(graph_uri=uri).graph_read_user is None
    reader = Settings(graph_uri=uri, graph_read_user="kgrag_reader", graph_read_password="pw")
    assert reader.graph_read_password.get_secret_value() == "pw" and "pw" not in repr(reader)
    with pytest.raises(ValidationError, match="needs graph_read_password"):
        Settings(graph_uri=uri, graph_read_user="kgrag_reader")
    with pytest.raises(ValidationError, match="graph_read_user is not"):
        Settings(graph_uri=uri, graph_read_password="pw")
    with pytest.raises(ValidationError, match="needs graph_uri"):
        Settings(graph_uri=None, graph_read_user="kgrag_reader", graph_read_password="pw")


def test_sentence_window_is_off_with_null_in_yaml_or_env(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings().sentence_window == 1
    (tmp_path / "kgrag.yaml").write_text("sentence_window: null\n")
    assert Settings().sentence_window is None
    (tmp_path / "kgrag.yaml").write_text("sentence_window: 3\n")
    monkeypatch.setenv("KGRAG_SENTENCE_WINDOW", "null")
    assert Settings().sentence_window is None
    monkeypatch.setenv("KGRAG_SENTENCE_WINDOW", "-1")
    with pytest.raises(ValidationError, match="sentence_window"):
        Settings()
