"""Rendered OCR test pages with exact ground truth, for the OCR tests and benchmarks/ocr.py.

Every page is drawn with PIL from known text, so CER/WER against `TestPage.truth` is exact.
Fonts come from the machine (Debian `fonts-dejavu-core`, `fonts-nanum`); `FontMissing` says
which package to install when one is absent.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from rapidfuzz.distance import Levenshtein

LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
HANGUL_FONTS = (
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)

ENGLISH = [
    "Maintenance manual for the HX-200 pump, revision 4, issued 12 March 2024.",
    "The pump must be inspected every 250 operating hours by a certified technician.",
    "Acme Industrial Ltd. of Rotterdam supplies spare seals under contract 4471-B.",
    "Replace the filter cartridge when the pressure drop exceeds 0.8 bar at full flow.",
    "Warranty claims are handled by Globex Services, 18 Harbour Road, Busan.",
    "Record each inspection in the logbook with the date, the hours and the signature.",
]
LEFT_COLUMN = [
    "The first column describes",
    "the intake valve and its",
    "spring, which wears out",
    "after two thousand cycles.",
    "Order part number V-17.",
]
RIGHT_COLUMN = [
    "The second column covers",
    "the outlet manifold, made",
    "of cast iron by Initech in",
    "Gdansk since 1998; check",
    "its bolts every month.",
]
KOREAN = [
    "이 계약서는 2024년 3월 12일 서울에서 체결되었다.",
    "한빛전자는 부산 공장에 새 펌프 스무 대를 납품한다.",
    "정비 기술자는 매달 필터를 점검하고 기록을 남긴다.",
    "보증 기간은 납품일로부터 이 년이며 연장할 수 있다.",
]


class FontMissing(RuntimeError):
    """No TTF for a script on this machine; the message names the Debian package."""


@dataclass(frozen=True)
class TestPage:
    """One rendered page and the text a perfect OCR returns for it (reading order)."""

    __test__ = False  # not a pytest test class

    name: str
    image: Image.Image
    truth: str
    language: str  # "eng" | "kor"


def find_font(script: str = "latin") -> Path:
    candidates = HANGUL_FONTS if script == "hangul" else LATIN_FONTS
    for path in candidates:
        if Path(path).exists():
            return Path(path)
    package = "fonts-nanum" if script == "hangul" else "fonts-dejavu-core"
    raise FontMissing(f"no {script} font found; install it: apt-get install {package}")


def _font(script: str, dpi: int, points: float = 12) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_font(script)), round(points * dpi / 72))


def render_lines(
    lines: list[str], script: str = "latin", dpi: int = 200, width_in: float = 8.27
) -> Image.Image:
    """Lines of text on a white page `width_in` wide, 1-inch margins, 1.5 line spacing."""
    font = _font(script, dpi)
    step = round(font.size * 1.5)
    margin = dpi
    image = Image.new("L", (round(width_in * dpi), 2 * margin + step * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * step), line, font=font, fill=0)
    return image.convert("RGB")


def render_two_columns(dpi: int = 200) -> Image.Image:
    """A full-width title over two columns (left column first in reading order)."""
    font = _font("latin", dpi)
    title_font = _font("latin", dpi, 16)
    step = round(font.size * 1.5)
    margin, width = dpi, round(8.27 * dpi)
    top = margin + round(title_font.size * 2.5)
    image = Image.new("L", (width, top + step * len(LEFT_COLUMN) + margin), 255)
    draw = ImageDraw.Draw(image)
    draw.text((margin, margin), TWO_COLUMN_TITLE, font=title_font, fill=0)
    right_x = width // 2 + dpi // 4
    for i, (left, right) in enumerate(zip(LEFT_COLUMN, RIGHT_COLUMN, strict=True)):
        draw.text((margin, top + i * step), left, font=font, fill=0)
        draw.text((right_x, top + i * step), right, font=font, fill=0)
    return image.convert("RGB")


TWO_COLUMN_TITLE = "Service bulletin 12: valves and manifolds of the HX-200 pump"


def degrade(image: Image.Image, seed: int = 7, jpeg_quality: int = 30) -> Image.Image:
    """A fax-like scan: blur, salt-and-pepper specks, grey noise, then lossy JPEG."""
    rng = random.Random(seed)
    grey = image.convert("L").filter(ImageFilter.GaussianBlur(0.8))
    pixels = grey.load()
    w, h = grey.size
    for _ in range(w * h // 400):
        pixels[rng.randrange(w), rng.randrange(h)] = rng.choice((0, 255))
    noise = Image.effect_noise((w, h), 25)
    grey = Image.blend(grey, noise, 0.15)
    buf = io.BytesIO()
    grey.convert("RGB").save(buf, "JPEG", quality=jpeg_quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def rotate(image: Image.Image, degrees: float) -> Image.Image:
    """Rotate counter-clockwise by `degrees`, growing the canvas, white fill."""
    return image.rotate(degrees, expand=True, fillcolor=(255, 255, 255))


def image_only_pdf(image: Image.Image, dpi: int = 200) -> bytes:
    """A one-page PDF whose only content is `image` (a scan without a text layer)."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PDF", resolution=float(dpi))
    return buf.getvalue()


def pdf_page_image(pdf: bytes) -> Image.Image:
    """The embedded image of the first page of an image-only PDF (as a scanner wrote it)."""
    from pypdf import PdfReader

    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    if not images:
        raise ValueError("the PDF page holds no image")
    return images[0].image.convert("RGB")


def english_page(dpi: int = 200) -> TestPage:
    return TestPage("clean", render_lines(ENGLISH, dpi=dpi), "\n".join(ENGLISH), "eng")


def korean_page(dpi: int = 200) -> TestPage:
    """Raises FontMissing when no Hangul font is installed."""
    image = render_lines(KOREAN, script="hangul", dpi=dpi)
    return TestPage("korean", image, "\n".join(KOREAN), "kor")


def two_column_page(dpi: int = 200) -> TestPage:
    truth = "\n".join([TWO_COLUMN_TITLE, *LEFT_COLUMN, *RIGHT_COLUMN])
    return TestPage("two-column", render_two_columns(dpi), truth, "eng")


def benchmark_pages() -> list[TestPage]:
    """Every case of benchmarks/ocr.py; Korean only when a Hangul font is installed."""
    clean = english_page()
    pages = [
        clean,
        two_column_page(),
        TestPage("noisy+jpeg", degrade(clean.image), clean.truth, "eng"),
        TestPage("rotated 3°", rotate(clean.image, 3), clean.truth, "eng"),
        TestPage("rotated 90°", rotate(clean.image, 90), clean.truth, "eng"),
        TestPage("75 dpi", render_lines(ENGLISH, dpi=75), clean.truth, "eng"),
        TestPage("image-only PDF", pdf_page_image(image_only_pdf(clean.image)), clean.truth, "eng"),
    ]
    try:
        pages.append(korean_page())
    except FontMissing:
        pass
    return pages


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def cer(predicted: str, truth: str) -> float:
    """Character error rate after collapsing whitespace (edit distance / truth length)."""
    gold = _norm(truth)
    return Levenshtein.distance(_norm(predicted), gold) / max(len(gold), 1)


def wer(predicted: str, truth: str) -> float:
    """Word error rate: edit distance over whitespace-separated words / truth word count."""
    gold = truth.split()
    return Levenshtein.distance(predicted.split(), gold) / max(len(gold), 1)
