"""Evaluation data: MuSiQue JSON and generic JSONL QA sets, corpora, documents per title."""

import json
from pathlib import Path

import pytest

from kgrag.errors import DatasetError
from kgrag.eval.datasets import (
    Passage,
    load_dataset,
    load_passages,
    load_qa,
    passages_to_ingest,
    write_documents,
)
from kgrag.ingest.read import read_document

DATA = Path(__file__).parents[1] / "data" / "eval"
TITLES = ["Marrow Lake Observatory", "Ilse Varga", "Orrin Telescope"]


def test_musique_folder_gives_answers_aliases_supporting_titles_and_passages():
    dataset = load_dataset(DATA / "musique")
    assert dataset.name == "musique" and [p.title for p in dataset.corpus] == TITLES
    first, second = dataset.items
    assert first.id == "2hop__fixture_1" and first.answers == ["Keszthely"]
    assert first.supporting_titles == ["Marrow Lake Observatory", "Ilse Varga"]
    assert [p.title for p in first.passages] == ["Orrin Telescope", *first.supporting_titles]
    # the second row stores its paragraphs as a Python-repr string
    assert isinstance(json.loads((DATA / "musique" / "qa.json").read_text())[1]["paragraphs"], str)
    assert second.answers == ["Brandt Optical Works", "Brandt Optical"]
    assert second.supporting_titles == ["Orrin Telescope"]
    assert [p.title for p in second.passages] == TITLES
    assert second.passages[2].text.startswith("The Orrin Telescope is a 60-centimetre")


def test_generic_jsonl_rows():
    items = load_qa(DATA / "jsonl" / "qa.jsonl")
    assert [i.id for i in items] == ["q1", "ko-1", "q3"]
    assert items[0].answers == ["Ilse Varga", "Varga"] and items[0].passages == []
    assert items[1].answers == ["마로 호수 천문대"] and items[1].supporting_titles == [TITLES[2]]
    assert not items[2].answerable and items[2].answers == []
    assert [p.title for p in load_passages(DATA / "jsonl" / "corpus.jsonl")] == TITLES


def test_an_explicit_corpus_folder_is_kept_as_a_folder(tmp_path: Path):
    dataset = load_dataset(DATA / "jsonl" / "qa.jsonl", tmp_path)
    assert dataset.name == "qa" and dataset.corpus_dir == tmp_path and dataset.corpus == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("qa.jsonl", '{"question": "Q?", "answers": ["a"]}\n\n{"question": "Q2?"}\n', "line 3"),
        ("qa.jsonl", '{"question": "Q?", "answers": ["a"]}\n{"question": \n', "line 2: invalid"),
        ("qa.jsonl", '["Q?", "a"]\n', "line 1: not a JSON object"),
        ("qa.json", '[{"question": "Q?", "answer": "a"}, {"answer": "b"}]', "item 1: question"),
        ("qa.json", '{"question": "Q?"}', "expected a JSON list"),
        ("qa.json", '[\n{"question": "Q?",\n "answer": "a"\n]', "line 4: invalid JSON"),
        (
            "qa.json",
            '[{"question": "Q?", "answer": "a", "paragraphs": "[{broken"}]',
            "item 0: paragraphs",
        ),
        ("qa.jsonl", "\n", "no questions"),
    ],
)
def test_bad_qa_files_name_the_file_and_the_line(tmp_path: Path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError) as error:
        load_qa(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_missing_qa_file_is_named(tmp_path: Path):
    with pytest.raises(DatasetError, match=f"{tmp_path / 'qa.json'}: cannot read"):
        load_dataset(tmp_path)


def test_bad_corpus_row_is_named(tmp_path: Path):
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"title": "A", "text": "x"}\n{"title": "B"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"corpus.jsonl: line 2: text: Field required"):
        load_passages(path)


def test_limited_runs_ingest_the_questions_own_passages_else_the_corpus():
    dataset = load_dataset(DATA / "musique")
    dataset.corpus.append(Passage(title="Unasked", text="Not a passage of any question."))
    first = dataset.items[:1]
    assert [p.title for p in passages_to_ingest(dataset, first, limited=True)] == [
        "Orrin Telescope",
        "Marrow Lake Observatory",
        "Ilse Varga",
    ]
    assert len(passages_to_ingest(dataset, first, limited=False)) == 4
    dataset.corpus = []
    assert len(passages_to_ingest(dataset, dataset.items, limited=False)) == 6


def test_one_document_per_title_read_back_with_that_title(tmp_path: Path):
    passages = [
        Passage(title="Namibia", text="Namibia is a country."),
        Passage(title="Seoul / 서울", text="서울은 수도이다."),
        Passage(title="Namibia", text="Its capital is Windhoek."),
        Passage(title="Namibia", text="Namibia is a country."),
    ]
    paths = write_documents(passages, tmp_path / "corpus")
    assert len(paths) == 2 and len(set(paths)) == 2
    namibia = read_document(str(paths[0]), paths[0].read_bytes(), max_mb=1, min_page_chars=1)
    assert namibia.title == "Namibia"
    assert namibia.pages[0].text.count("Namibia is a country.") == 1
    assert "Windhoek" in namibia.pages[0].text
    korean = read_document(str(paths[1]), paths[1].read_bytes(), max_mb=1, min_page_chars=1)
    assert korean.title == "Seoul / 서울"
    mtime = paths[0].stat().st_mtime_ns
    assert write_documents(passages, tmp_path / "corpus") == paths
    assert paths[0].stat().st_mtime_ns == mtime  # unchanged bytes: the pipeline skips it
