"""OCR for scanned pages: PaddleOCR (Latin) and Tesseract (Korean) behind one OcrEngine port."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

from kgrag.ocr.base import OcrBox, OcrEngine, OcrResult, OcrUnavailableError
from kgrag.ocr.engine import KOREAN_LANGS, PageOcr
from kgrag.ocr.paddle import PaddleReader, check_paddleocr
from kgrag.ocr.tesseract import TesseractReader, check_tesseract
from kgrag.settings import Settings

__all__ = ["OcrBox", "OcrEngine", "OcrResult", "OcrUnavailableError", "build_ocr_engine"]

log = logging.getLogger(__name__)


def ocr_languages(settings: Settings) -> list[str]:
    return [lang for lang in re.split(r"[,+\s]+", settings.ocr_languages) if lang]


@lru_cache(maxsize=4)
def _paddle_reader(cache_dir: Path, data_dir: Path, device: str) -> PaddleReader:
    """One PaddleOCR per process and configuration: its models load once, on first use."""
    return PaddleReader(cache_dir, data_dir, device)


def build_ocr_engine(settings: Settings) -> OcrEngine:
    """The configured engine; raises OcrUnavailableError naming what to install.

    Cheap to call per document: PaddleOCR's models load once per process, on first use.
    """
    langs = ocr_languages(settings)
    korean_langs = [lang for lang in langs if lang in KOREAN_LANGS]
    latin_langs = [lang for lang in langs if lang not in KOREAN_LANGS] or ["eng"]
    engine = settings.ocr_engine
    if engine == "paddleocr":
        check_paddleocr()
        try:
            check_tesseract([])
            osd: TesseractReader | None = TesseractReader(["osd"])
        except OcrUnavailableError as exc:
            log.warning("no rotation correction for OCR: %s", exc)
            osd = None
    else:
        check_tesseract(langs if engine == "tesseract" else korean_langs)
        osd = TesseractReader(["osd"])
    if engine == "tesseract":
        latin = TesseractReader(latin_langs)
    else:
        check_paddleocr()
        latin = _paddle_reader(settings.cache_dir, settings.data_dir, settings.ocr_device)
    return PageOcr(
        name=engine,
        engine=engine,
        latin=latin,
        korean=TesseractReader(korean_langs) if korean_langs else None,
        osd=osd,
        min_rotation_confidence=settings.ocr_rotation_min_confidence,
    )
