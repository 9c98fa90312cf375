"""Property-based tests of the readers: whatever the bytes and the name, reading either gives
a Document or raises DocumentError naming the file, never any other exception."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kgrag.errors import DocumentError
from kgrag.ingest.read import SUPPORTED_SUFFIXES, read_document
from kgrag.settings import REPO_ROOT

SAMPLE_PDF = (REPO_ROOT / "samples" / "docs" / "halden-handbook.pdf").read_bytes()
SUFFIXES = sorted(SUPPORTED_SUFFIXES) + [".docx", ".exe", ""]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_or_refuse(name: str, data: bytes) -> None:
    try:
        doc = read_document(name, data, max_mb=1, min_page_chars=16)
    except DocumentError as exc:
        assert name in str(exc) and exc.reason
        return
    assert doc.pages and all(isinstance(p.text, str) for p in doc.pages)
    assert len(doc.sha256) == 64 and doc.source == name


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from(SUFFIXES))
def test_any_bytes_under_any_name(data: bytes, suffix: str):
    _read_or_refuse(f"file{suffix}", data)


@FUZZ
@given(tail=st.binary(max_size=2048))
def test_things_that_look_like_pdfs(tail: bytes):
    _read_or_refuse("scan.pdf", b"%PDF-1.7\n" + tail)


@FUZZ
@given(
    cut=st.integers(min_value=1, max_value=len(SAMPLE_PDF) - 1),
    flips=st.lists(
        st.tuples(st.integers(0, len(SAMPLE_PDF) - 1), st.integers(0, 255)), max_size=20
    ),
)
@example(cut=2, flips=[(1669, 0)])  # found by fuzzing: pypdf raised NotImplementedError
def test_damaged_real_pdf(cut: int, flips: list[tuple[int, int]]):
    data = bytearray(SAMPLE_PDF)
    for position, value in flips:
        data[position] = value
    _read_or_refuse("handbook.pdf", bytes(data[:cut]) if cut % 2 else bytes(data))


@FUZZ
@given(text=st.text(max_size=2000), encoding=st.sampled_from(["utf-8", "utf-16", "cp949"]))
def test_any_text_in_any_encoding(text: str, encoding: str):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return  # not representable in that encoding: nothing to read
    _read_or_refuse("notes.md", data)
