"""The OCR port: what an engine returns for one page image, and the engine interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from kgrag.errors import OcrUnavailableError

__all__ = ["OcrBox", "OcrEngine", "OcrResult", "OcrUnavailableError", "mean_confidence"]


@dataclass(frozen=True)
class OcrBox:
    """One recognised text line (or line segment) with its axis-aligned box."""

    text: str
    confidence: float  # 0..1
    x0: float
    y0: float
    x1: float
    y1: float  # pixels in the (rotation-corrected) image

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass(frozen=True)
class OcrResult:
    """A page read by OCR: text in reading order plus the boxes it came from."""

    text: str  # lines joined by "\n", paragraphs/columns by "\n\n"
    confidence: float  # 0..1, mean over boxes weighted by text length; 0.0 when no text
    engine: str  # e.g. "paddleocr-onnx", "tesseract"
    rotation: int = 0  # degrees the page was turned clockwise to read it (0/90/180/270)
    boxes: tuple[OcrBox, ...] = ()


class OcrEngine(Protocol):
    name: str

    def recognize(self, image: Image.Image) -> OcrResult: ...


def mean_confidence(boxes: tuple[OcrBox, ...] | list[OcrBox]) -> float:
    """Mean box confidence weighted by text length; 0.0 when there is no text."""
    total = sum(len(b.text) for b in boxes)
    if total == 0:
        return 0.0
    return sum(b.confidence * len(b.text) for b in boxes) / total
