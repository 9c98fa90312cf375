"""Chunk stage: Document -> [Chunk], recursive splitting per page, offsets kept."""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from kgrag.types import Chunk, Document


def chunk_document(doc: Document, *, size: int, overlap: int) -> list[Chunk]:
    """Split each page separately so every chunk has one page and exact page offsets."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, add_start_index=True
    )
    chunks: list[Chunk] = []
    for page in doc.pages:
        for piece in splitter.create_documents([page.text]):
            start = piece.metadata["start_index"]
            if start < 0:  # splitter could not locate the piece; find it ourselves
                start = page.text.find(piece.page_content)
            text = piece.page_content
            if not text.strip():
                continue
            chunks.append(
                Chunk(
                    id=f"{doc.id}:p{page.number}:{start}",
                    document_id=doc.id,
                    page=page.number,
                    start=start,
                    end=start + len(text),
                    text=text,
                )
            )
    return chunks
