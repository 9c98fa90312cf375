"""One page through OCR: orientation (Tesseract OSD), engine choice by script, reading order.

Routing ("auto"): Hangul pages go to Tesseract `kor` (the shipped PP-OCR models have no
Hangul), every other page to PaddleOCR. The script comes from the same OSD call that gives
the rotation; when OSD cannot tell (little text), a Tesseract `kor` pass decides and its
result is kept if the page turns out to be Korean.

Rotation: OSD's answer is applied when its confidence reaches `min_rotation_confidence`
(it answered a wrong 180° at 1–5 on noisy or low-resolution pages); a weaker non-zero answer
is checked by reading the page both ways and keeping the more confident reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from PIL import Image

from kgrag.ocr.base import OcrBox, OcrResult, mean_confidence
from kgrag.ocr.layout import reading_order
from kgrag.ocr.tesseract import Orientation, TesseractReader

KOREAN_LANGS = ("kor", "kor_vert")
KOREAN_SCRIPTS = ("Korean", "Hangul")
EngineName = Literal["auto", "paddleocr", "tesseract"]


class BoxReader(Protocol):
    name: str

    def read_boxes(self, image: Image.Image) -> list[OcrBox]: ...


def hangul_share(text: str) -> float:
    """Share of the letters in `text` that are Hangul."""
    letters = [c for c in text if c.isalpha()]
    hangul = [c for c in letters if "\uac00" <= c <= "\ud7a3" or "\u1100" <= c <= "\u11ff"]
    return len(hangul) / len(letters) if letters else 0.0


def rotations_to_try(osd: Orientation | None, min_confidence: float) -> list[int]:
    """Rotations to read the page at: OSD's alone when confident, else 0 first and OSD's."""
    if osd is None or osd.rotate % 360 == 0:
        return [0]
    if osd.confidence >= min_confidence:
        return [osd.rotate % 360]
    return [0, osd.rotate % 360]


def upright(image: Image.Image) -> Image.Image:
    """RGB on white (transparent parts become white)."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        page = Image.new("RGB", rgba.size, (255, 255, 255))
        page.paste(rgba, mask=rgba.getchannel("A"))
        return page
    return image.convert("RGB")


@dataclass
class PageOcr:
    """The OcrEngine the read stage gets: `engine` picks the reader(s) per page."""

    name: str
    engine: EngineName
    latin: BoxReader  # PaddleOCR, or Tesseract with the non-Korean languages
    korean: TesseractReader | None  # Tesseract `kor`, when a Korean language is configured
    osd: TesseractReader | None  # Tesseract for OSD; None: no rotation handling
    min_rotation_confidence: float

    def recognize(self, image: Image.Image) -> OcrResult:
        page = upright(image)
        osd = self.osd.orientation(page) if self.osd is not None else None
        results = [
            self._read(page.rotate(-rotation, expand=True) if rotation else page, rotation, osd)
            for rotation in rotations_to_try(osd, self.min_rotation_confidence)
        ]
        return max(results, key=lambda r: r.confidence)  # first (unrotated) wins ties

    def _read(self, page: Image.Image, rotation: int, osd: Orientation | None) -> OcrResult:
        if self.korean is None or self.engine == "paddleocr":
            return _result(self.latin, self.latin.read_boxes(page), rotation)
        if osd is not None:
            reader = self.korean if osd.script in KOREAN_SCRIPTS else self.latin
            return _result(reader, reader.read_boxes(page), rotation)
        korean = _result(self.korean, self.korean.read_boxes(page), rotation)
        if hangul_share(korean.text) >= 0.5:
            return korean
        return _result(self.latin, self.latin.read_boxes(page), rotation)


def _result(reader: BoxReader, boxes: list[OcrBox], rotation: int) -> OcrResult:
    text, ordered = reading_order(boxes)
    return OcrResult(text, mean_confidence(ordered), reader.name, rotation, ordered)
