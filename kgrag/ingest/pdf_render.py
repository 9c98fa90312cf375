"""PDF pages to images with pdfium (pypdfium2).

pdfium is not thread-safe, not even across documents: every call into it holds one lock.
"""

from __future__ import annotations

import math
import threading
from types import TracebackType

import pypdfium2 as pdfium
from PIL import Image

from kgrag.errors import DocumentError

_PDFIUM = threading.Lock()


class PdfRenderer:
    """An open PDF whose pages render to PIL images; use as a context manager."""

    def __init__(self, name: str, data: bytes, *, max_pixels: int) -> None:
        self.name, self.max_pixels = name, max_pixels
        try:
            with _PDFIUM:
                self._pdf = pdfium.PdfDocument(data)
                self.page_count = len(self._pdf)
        except pdfium.PdfiumError as exc:
            raise DocumentError(name, f"PDF cannot be rendered ({exc})") from exc

    def render(
        self, index: int, *, dpi: float | None = None, max_px: int | None = None
    ) -> Image.Image:
        """Page `index` (0-based) at `dpi`, or sized so its longest side is `max_px`; never
        more than `max_pixels` pixels (a poster-sized page is rendered at a lower dpi)."""
        try:
            with _PDFIUM:
                page = self._pdf[index]
                try:
                    width, height = page.get_size()  # points (1/72 inch)
                    if width <= 0 or height <= 0:
                        raise DocumentError(self.name, f"page {index + 1} has no area")
                    scale = dpi / 72 if dpi is not None else (max_px or 0) / max(width, height)
                    scale = min(scale, _fitting_scale(width, height, self.max_pixels))
                    return page.render(scale=scale).to_pil()
                finally:
                    page.close()
        except pdfium.PdfiumError as exc:
            raise DocumentError(self.name, f"page {index + 1} cannot be rendered ({exc})") from exc

    def close(self) -> None:
        with _PDFIUM:
            self._pdf.close()

    def __enter__(self) -> PdfRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _fitting_scale(width: float, height: float, max_pixels: int) -> float:
    """The largest scale whose render (sides rounded up) has at most `max_pixels` pixels."""
    scale = math.sqrt(max_pixels / (width * height))
    while math.ceil(width * scale) * math.ceil(height * scale) > max_pixels:
        scale *= 0.999
    return scale
