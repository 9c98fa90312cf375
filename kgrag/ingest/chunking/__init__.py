"""Chunk stage: Document -> [Chunk] by the strategy `settings.chunker` names.

Every strategy splits each page on its own and keeps document id, page and exact offsets
(chunk.text == page.text[start:end]); no chunk is empty or longer than chunk_size, so citations
and sentence windows work the same whichever is chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from kgrag.errors import ConfigError
from kgrag.ingest.chunking.fixed import embedder_tokenizer, fixed_chunks
from kgrag.ingest.chunking.markdown import markdown_chunks
from kgrag.ingest.chunking.recursive import recursive_chunks
from kgrag.ingest.chunking.semantic import semantic_chunks
from kgrag.ports import Embedder
from kgrag.settings import ChunkerName, Settings
from kgrag.types import Chunk, Document

CHUNKERS: tuple[str, ...] = get_args(ChunkerName)


def chunk_document(
    doc: Document, settings: Settings, embedder: Embedder | None = None
) -> list[Chunk]:
    """The document's chunks; `embedder` is needed by the semantic chunker only."""
    size, overlap = settings.chunk_size, settings.chunk_overlap
    match settings.chunker:
        case "recursive":
            return recursive_chunks(doc, size=size, overlap=overlap)
        case "markdown":
            return markdown_chunks(doc, size=size, overlap=overlap)
        case "fixed":
            tokenize = None
            if settings.chunk_unit == "tokens":
                tokenize = embedder_tokenizer(_model_dir(settings))
            return fixed_chunks(doc, size=size, overlap=overlap, tokenize=tokenize)
        case "semantic":
            if embedder is None:
                raise ConfigError("the semantic chunker needs an embedder")
            return semantic_chunks(
                doc, size=size, embedder=embedder, percentile=settings.semantic_percentile
            )
    raise ConfigError(f"unknown chunker {settings.chunker!r}; choose one of {', '.join(CHUNKERS)}")


def _model_dir(settings: Settings) -> Path:
    """The embedding model's folder, whose tokenizer.json counts tokens."""
    from kgrag.embed import MINILM, default_model_path

    if settings.embedding_model == MINILM:
        return default_model_path()
    folder = Path(settings.embedding_model)
    if not folder.is_dir():
        raise ConfigError(
            f"chunk_unit tokens needs the embedding model's tokenizer.json; embedding_model "
            f"{settings.embedding_model!r} is not a local model folder (use chunk_unit chars)"
        )
    return folder
