"""Read stage: file bytes -> Document(pages). Text layers only; scans are flagged as needing OCR."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from pypdf import PdfReader

from kgrag.errors import DocumentError, NeedsOcrError
from kgrag.types import Document, Page

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
PDF_SUFFIXES = {".pdf"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES | IMAGE_SUFFIXES
TEXT_ENCODINGS = ("utf-8-sig", "cp949")  # UTF-8 first; CP949 is a superset of EUC-KR


def read_document(name: str, data: bytes, *, max_mb: float, min_page_chars: int) -> Document:
    """Parse one file's bytes into a Document; raise DocumentError naming the file and reason."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            name,
            f"unsupported file type {suffix or '(none)'!r}; supported: "
            + ", ".join(sorted(SUPPORTED_SUFFIXES)),
        )
    if not data:
        raise DocumentError(name, "empty file (0 bytes)")
    if len(data) > max_mb * 1024 * 1024:
        raise DocumentError(
            name, f"file is {len(data) / 2**20:.1f} MB, over the {max_mb:g} MB limit"
        )
    if suffix in IMAGE_SUFFIXES:
        raise NeedsOcrError(name, "image file needs OCR, which this build does not do yet")
    if suffix in PDF_SUFFIXES:
        pages, title = _read_pdf(name, data, min_page_chars)
    else:
        pages, title = _read_text(name, data, markdown=suffix != ".txt")
    sha = hashlib.sha256(data).hexdigest()
    return Document(
        id=sha[:16], title=title or Path(name).stem, source=name, sha256=sha, pages=pages
    )


def read_path(path: Path, *, max_mb: float, min_page_chars: int) -> Document:
    try:
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            raise DocumentError(
                str(path), f"file is {size / 2**20:.1f} MB, over the {max_mb:g} MB limit"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(str(path), f"cannot read file ({exc.strerror or exc})") from exc
    return read_document(str(path), data, max_mb=max_mb, min_page_chars=min_page_chars)


def _decode(name: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise DocumentError(name, "binary content (NUL bytes) in a text file")
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentError(name, "text is neither UTF-8 nor CP949/EUC-KR")


def _read_text(name: str, data: bytes, *, markdown: bool) -> tuple[list[Page], str | None]:
    text = _decode(name, data).replace("\r\n", "\n")
    # A form feed separates pages in plain-text exports.
    pages = [Page(number=i + 1, text=t) for i, t in enumerate(text.split("\f"))]
    pages = [p for p in pages if p.text.strip()]
    if not pages:
        raise DocumentError(name, "no text content (only whitespace)")
    if markdown:
        heading = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
        return pages, heading.group(1).strip() if heading else None
    first_line = text.strip().split("\n", 1)[0].strip()
    return pages, first_line if len(first_line) <= 80 else None


def _read_pdf(name: str, data: bytes, min_page_chars: int) -> tuple[list[Page], str | None]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(name, "password-protected PDF")
        texts = [(page.extract_text() or "") for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    except DocumentError:
        raise
    except Exception as exc:  # pypdf fails on damaged files in many ways (found by fuzzing:
        # NotImplementedError for a mangled filter name, besides PdfReadError/ValueError/…)
        raise DocumentError(
            name, f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})"
        ) from exc
    if not texts:
        raise DocumentError(name, "PDF has no pages")
    scanned = [i + 1 for i, t in enumerate(texts) if len(t.strip()) < min_page_chars]
    if scanned:
        raise NeedsOcrError(
            name,
            f"needs OCR: page(s) {_ranges(scanned)} of {len(texts)} have no text layer "
            "(scanned); OCR is not in this build yet",
        )
    return [Page(number=i + 1, text=t) for i, t in enumerate(texts)], title


def _ranges(numbers: list[int]) -> str:
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)
