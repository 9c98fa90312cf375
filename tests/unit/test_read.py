"""Read stage: supported formats keep their pages; bad files fail with the file and a reason."""

import io

import pytest
from reportlab.pdfgen import canvas

from kgrag.errors import DocumentError, NeedsOcrError
from kgrag.ingest.read import read_document

LIMITS = {"max_mb": 1.0, "min_page_chars": 16}


def _pdf(pages: list[str]) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    for text in pages:
        if text:
            pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def test_pdf_keeps_page_numbers_and_text():
    doc = read_document("a.pdf", _pdf(["Alpha page one text", "Beta page two text"]), **LIMITS)
    assert [p.number for p in doc.pages] == [1, 2]
    assert "Beta" in doc.pages[1].text
    assert len(doc.id) == 16 and doc.sha256.startswith(doc.id)


def test_same_bytes_same_document_id():
    data = b"# Title\n\nSome text."
    assert read_document("x.md", data, **LIMITS).id == read_document("y.md", data, **LIMITS).id


def test_markdown_title_from_heading_and_text_title_from_first_line():
    assert read_document("n.md", b"intro\n# Real Title\nbody", **LIMITS).title == "Real Title"
    assert read_document("n.txt", b"Partners\n\nbody text", **LIMITS).title == "Partners"


def test_form_feed_splits_text_pages():
    doc = read_document("t.txt", b"first page\fsecond page", **LIMITS)
    assert [(p.number, p.text) for p in doc.pages] == [(1, "first page"), (2, "second page")]


def test_korean_cp949_text_is_decoded():
    doc = read_document("k.txt", "한국어 문서입니다".encode("cp949"), **LIMITS)
    assert "한국어" in doc.pages[0].text


def test_without_an_ocr_engine_scanned_pages_are_named():
    with pytest.raises(NeedsOcrError, match=r"scan.pdf.*page\(s\) 2-3 of 3.*need OCR"):
        read_document("scan.pdf", _pdf(["Readable text on page one", "", ""]), **LIMITS)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n", "no text content"),
        ("junk.txt", b"\x00\x01\x02binary", "binary content"),
        ("bad.pdf", b"%PDF-1.4 truncated garbage", "corrupt or unreadable PDF"),
        ("cut.pdf", _pdf(["some text on a page"])[:200], "corrupt or unreadable PDF"),
        ("notes.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
        ("photo.png", b"\x89PNG\r\n\x1a\nrest", "corrupt or unreadable image"),
        ("big.txt", b"a" * (1024 * 1024 + 1), "over the 1 MB limit"),
    ],
)
def test_bad_files_name_the_file_and_reason(name, data, reason):
    with pytest.raises(DocumentError) as info:
        read_document(name, data, **LIMITS)
    assert info.value.path == name
    assert reason in info.value.reason
