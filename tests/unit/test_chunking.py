"""Chunk stage: every chunk knows its document, page and exact offsets, and ids are stable."""

from kgrag.ingest.chunking import chunk_document
from kgrag.types import Document, Page

TEXT = " ".join(f"Sentence number {i} talks about the sea." for i in range(60))


def _doc() -> Document:
    return Document(
        id="d1",
        title="t",
        source="s",
        sha256="x",
        pages=[Page(number=1, text=TEXT), Page(number=2, text="Short second page.")],
    )


def test_offsets_point_at_the_chunk_text_in_its_page():
    doc = _doc()
    chunks = chunk_document(doc, size=300, overlap=50)
    assert len(chunks) > 5
    for chunk in chunks:
        page = doc.pages[chunk.page - 1].text
        assert page[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 300
        assert chunk.document_id == "d1"


def test_chunks_never_span_pages_and_ids_are_stable():
    first = chunk_document(_doc(), size=300, overlap=50)
    second = chunk_document(_doc(), size=300, overlap=50)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    assert first[-1].page == 2 and first[-1].text == "Short second page."
