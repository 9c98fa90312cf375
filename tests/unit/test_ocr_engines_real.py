"""The real engines on rendered pages with exact ground truth (models from `make install`)."""

from __future__ import annotations

import shutil

import pytest

from kgrag.ocr import build_ocr_engine
from kgrag.ocr.testpages import FontMissing, cer, english_page, korean_page, two_column_page
from kgrag.settings import Settings

pytestmark = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract not installed (make install)"
)


@pytest.fixture(scope="module")
def auto(tmp_path_factory):
    return build_ocr_engine(Settings(ocr_engine="auto", data_dir=tmp_path_factory.mktemp("d")))


def test_paddleocr_reads_a_clean_english_page(auto):
    page = english_page()
    result = auto.recognize(page.image)
    assert result.engine == "paddleocr-onnx"
    assert cer(result.text, page.truth) < 0.01
    assert result.confidence > 0.9
    assert len(result.boxes) == len(page.truth.splitlines())


def test_korean_page_is_read_by_tesseract(auto):
    try:
        page = korean_page()
    except FontMissing as exc:
        pytest.skip(reason=f"no Hangul font (make install adds fonts-nanum): {exc}")
    result = auto.recognize(page.image)
    assert result.engine == "tesseract"
    assert cer(result.text, page.truth) < 0.01


def test_tesseract_reads_two_columns_in_order(tmp_path):
    page = two_column_page()
    engine = build_ocr_engine(Settings(ocr_engine="tesseract", data_dir=tmp_path))
    result = engine.recognize(page.image)
    assert cer(result.text, page.truth) < 0.01
    assert result.text.index("Order part number") < result.text.index("The second column")
