"""Read stage: file bytes -> Document(pages).

Per page: the PDF text layer where it has real text, else OCR of the rendered page; images
(every frame of a TIFF) are OCR'd. Given a sink, every page's rendered image is kept too.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from PIL import Image
from pypdf import PdfReader

from kgrag.errors import DocumentError, KgragError, NeedsOcrError
from kgrag.ingest.image_files import image_pages
from kgrag.ingest.pdf_render import PdfRenderer
from kgrag.ocr.base import OcrEngine
from kgrag.settings import Settings
from kgrag.types import Document, Page

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
PDF_SUFFIXES = {".pdf"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES | IMAGE_SUFFIXES
TEXT_ENCODINGS = ("utf-8-sig", "cp949")  # UTF-8 first; CP949 is a superset of EUC-KR
MAX_IMAGE_PIXELS = 100_000_000  # Settings.max_image_pixels
OCR_DPI = 200  # Settings.ocr_dpi
OcrProvider = Callable[[], OcrEngine]  # called only when a page needs OCR (loads models)


class PageImageSink(Protocol):
    """Receives every page's rendered image (kgrag.page_images.StagedPages)."""

    max_px: int

    def add(self, number: int, image: Image.Image) -> None: ...


def read_limits(settings: Settings) -> dict[str, Any]:
    """The read stage's keyword arguments from the settings."""
    return {
        "max_mb": settings.max_file_mb,
        "min_page_chars": settings.min_page_chars,
        "ocr_dpi": settings.ocr_dpi,
        "max_image_pixels": settings.max_image_pixels,
    }


def read_document(
    name: str,
    data: bytes,
    *,
    max_mb: float,
    min_page_chars: int,
    ocr: OcrProvider | None = None,
    ocr_dpi: int = OCR_DPI,
    max_image_pixels: int = MAX_IMAGE_PIXELS,
    page_images: PageImageSink | None = None,
) -> Document:
    """Parse one file's bytes into a Document; raise DocumentError naming the file and reason.

    Without `ocr`, a file that needs OCR is checked to the end and then refused with
    NeedsOcrError (a quick check of an upload before it is queued).
    """
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
    title: str | None = None
    if suffix in IMAGE_SUFFIXES:
        pages = _read_image(name, data, ocr, max_image_pixels, page_images)
    elif suffix in PDF_SUFFIXES:
        texts, title = _pdf_text_layer(name, data)
        pages = _read_pdf(
            name, data, texts, min_page_chars, ocr, ocr_dpi, max_image_pixels, page_images
        )
    else:
        pages, title = _read_text(name, data, markdown=suffix != ".txt")
    if not any(p.text.strip() for p in pages):
        raise DocumentError(name, "no text found on any page (no text layer, and OCR read nothing)")
    sha = hashlib.sha256(data).hexdigest()
    return Document(
        id=sha[:16], title=title or Path(name).stem, source=name, sha256=sha, pages=pages
    )


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


def _pdf_text_layer(name: str, data: bytes) -> tuple[list[str], str | None]:
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
    return texts, title


def _read_pdf(
    name: str,
    data: bytes,
    texts: list[str],
    min_page_chars: int,
    ocr: OcrProvider | None,
    ocr_dpi: int,
    max_image_pixels: int,
    sink: PageImageSink | None,
) -> list[Page]:
    """Text-layer pages as they are; the others OCR'd from a render at `ocr_dpi`."""
    scanned = [i for i, t in enumerate(texts) if len(t.strip()) < min_page_chars]
    if scanned and ocr is None:
        raise NeedsOcrError(
            name,
            f"page(s) {_ranges([i + 1 for i in scanned])} of {len(texts)} have no text layer "
            "(scanned) and need OCR",
        )
    pages = [Page(number=i + 1, text=t) for i, t in enumerate(texts)]
    if not scanned and sink is None:
        return pages
    with PdfRenderer(name, data, max_pixels=max_image_pixels) as pdf:
        if pdf.page_count != len(texts):
            raise DocumentError(
                name, f"corrupt PDF: {len(texts)} pages by its text layer, {pdf.page_count} drawn"
            )
        for i in range(len(texts)):
            if i in scanned:
                image = pdf.render(i, dpi=ocr_dpi)
                pages[i] = _ocr_page(name, i + 1, image, ocr)
            elif sink is not None:
                image = pdf.render(i, max_px=sink.max_px)
            else:
                continue
            if sink is not None:
                sink.add(i + 1, image)
    return pages


def _read_image(
    name: str,
    data: bytes,
    ocr: OcrProvider | None,
    max_image_pixels: int,
    sink: PageImageSink | None,
) -> list[Page]:
    frames: Iterable[Image.Image] = image_pages(name, data, max_pixels=max_image_pixels)
    if ocr is None:
        count = sum(1 for _ in frames)  # decodes every page: damage is found now
        raise NeedsOcrError(name, f"image ({count} page(s)) needs OCR")
    pages = []
    for number, image in enumerate(frames, start=1):
        pages.append(_ocr_page(name, number, image, ocr))
        if sink is not None:
            sink.add(number, image)
    return pages


def _ocr_page(name: str, number: int, image: Image.Image, ocr: OcrProvider | None) -> Page:
    if ocr is None:
        raise NeedsOcrError(name, f"page {number} needs OCR")
    engine = ocr()  # may raise OcrUnavailableError: it names what to install
    try:
        result = engine.recognize(image)
    except KgragError:
        raise
    except Exception as exc:  # an engine failing on one page fails this file, not the batch
        raise DocumentError(
            name, f"OCR ({engine.name}) failed on page {number}: {type(exc).__name__}: {exc}"
        ) from exc
    return Page(
        number=number,
        text=result.text,
        ocr_engine=result.engine,
        ocr_confidence=min(max(result.confidence, 0.0), 1.0),
    )


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
