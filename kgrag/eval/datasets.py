"""Evaluation data: QA sets (MuSiQue JSON, generic JSONL) and corpora of titled passages.

A QA row holds `question`, the gold answer(s) (`answers`, or `answer` + `answer_aliases`),
optionally `answerable`, `supporting_titles`, its own `passages` [{title, text}] or MuSiQue's
`paragraphs` [{title, paragraph_text, is_supporting}] (in some exports a Python-repr string).
A corpus is a folder of documents, or a JSON list / JSONL of {title, text}.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kgrag.errors import DatasetError

QA_FILES = ("qa.json", "qa.jsonl")
CORPUS_FILES = ("corpus.json", "corpus.jsonl")


class Passage(BaseModel):
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)


class QAItem(BaseModel):
    id: str
    question: str
    answers: list[str]  # the gold answer and its aliases
    answerable: bool = True
    supporting_titles: list[str] = []
    passages: list[Passage] = []  # the question's own context, when the set ships it


@dataclass
class Dataset:
    name: str
    qa_path: Path
    items: list[QAItem]
    corpus_path: Path | None = None
    corpus: list[Passage] = field(default_factory=list)  # empty for a folder corpus

    @property
    def corpus_dir(self) -> Path | None:
        """A folder of documents, ingested as they are."""
        return self.corpus_path if self.corpus_path and self.corpus_path.is_dir() else None


class _Paragraph(BaseModel):
    title: str = Field(min_length=1)
    paragraph_text: str = Field(min_length=1)
    is_supporting: bool = False


class _Row(BaseModel):
    """One QA row in either format, before it becomes a QAItem."""

    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None
    question: str = Field(min_length=1)
    answer: str | None = None
    answers: list[str] = []
    answer_aliases: list[str] = []
    answerable: bool = True
    supporting_titles: list[str] = []
    passages: list[Passage] = []
    paragraphs: list[_Paragraph] = []

    @field_validator("answers", mode="before")
    @classmethod
    def _one_answer(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("paragraphs", mode="before")
    @classmethod
    def _decode_string(cls, value: Any) -> Any:
        """Some MuSiQue exports store the paragraph list as its JSON or Python repr."""
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            pass
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            raise ValueError("a string that is neither a JSON nor a Python list") from exc

    @model_validator(mode="after")
    def _has_answer(self) -> _Row:
        if self.answerable and not (self.answer or self.answers):
            raise ValueError("no answer: give `answers` or `answer` (or `answerable: false`)")
        return self

    def item(self, fallback_id: str) -> QAItem:
        answers = [*([self.answer] if self.answer else []), *self.answers, *self.answer_aliases]
        supporting = self.supporting_titles + [p.title for p in self.paragraphs if p.is_supporting]
        return QAItem(
            id=str(self.id) if self.id is not None else fallback_id,
            question=self.question,
            answers=list(dict.fromkeys(answers)),
            answerable=self.answerable,
            supporting_titles=list(dict.fromkeys(supporting)),
            passages=self.passages
            + [Passage(title=p.title, text=p.paragraph_text) for p in self.paragraphs],
        )


def load_dataset(qa_path: Path, corpus_path: Path | None = None) -> Dataset:
    """A QA file, or a folder holding qa.json(l) and optionally corpus.json(l)."""
    name = qa_path.stem
    if qa_path.is_dir():
        name = qa_path.name
        folder = qa_path
        qa_path = _first_existing(folder, QA_FILES) or folder / QA_FILES[0]
        if corpus_path is None:
            corpus_path = _first_existing(folder, CORPUS_FILES)
    dataset = Dataset(name=name, qa_path=qa_path, items=load_qa(qa_path), corpus_path=corpus_path)
    if corpus_path is not None and dataset.corpus_dir is None:
        dataset.corpus = load_passages(corpus_path)
    return dataset


def load_qa(path: Path) -> list[QAItem]:
    """QA rows from a JSON list or a JSONL file; a bad row names the file and its line/item."""
    items = []
    for number, (where, row) in enumerate(_rows(path), start=1):
        items.append(_parse(_Row, row, path, where).item(fallback_id=f"q{number}"))
    if not items:
        raise DatasetError(f"{path}: no questions")
    return items


def load_passages(path: Path) -> list[Passage]:
    """Titled passages from a JSON list or a JSONL file of {title, text}."""
    return [_parse(Passage, row, path, where) for where, row in _rows(path)]


def passages_to_ingest(dataset: Dataset, items: list[QAItem], *, limited: bool) -> list[Passage]:
    """The questions' own passages when they carry some and only some questions are asked (or
    there is no corpus); otherwise the corpus."""
    own = [p for item in items for p in item.passages]
    if own and (limited or not (dataset.corpus or dataset.corpus_dir)):
        return own
    return dataset.corpus


def write_documents(passages: list[Passage], directory: Path) -> list[Path]:
    """One Markdown document per title (`# title`, then its distinct passages); unchanged
    files keep their bytes, so re-ingesting them is skipped."""
    texts: dict[str, dict[str, None]] = {}
    for p in passages:
        texts.setdefault(" ".join(p.title.split()), {})[p.text.strip()] = None
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for title, bodies in texts.items():
        path = directory / document_filename(title)
        content = f"# {title}\n\n" + "\n\n".join(bodies) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
        paths.append(path)
    return paths


def document_filename(title: str) -> str:
    """A safe, unique file name for a title: readable prefix plus a hash of the title."""
    slug = re.sub(r"[^\w-]+", "-", title).strip("-")[:60] or "passage"
    return f"{slug}-{hashlib.sha1(title.encode()).hexdigest()[:8]}.md"


def _first_existing(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _rows(path: Path) -> list[tuple[str, Any]]:
    """(`line N` | `item N`, decoded row) for a JSONL or JSON-list file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if path.suffix.lower() == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((f"line {number}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}: line {number}: invalid JSON ({exc.msg})") from exc
        return rows
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from exc
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list (or use .jsonl, one object a line)")
    return [(f"item {i}", row) for i, row in enumerate(data)]


def _parse(model: type[Any], row: Any, path: Path, where: str) -> Any:
    if not isinstance(row, dict):
        raise DatasetError(f"{path}: {where}: not a JSON object")
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()[:3]
        )
        raise DatasetError(f"{path}: {where}: {problems}") from None
