"""Read stage with OCR (a fake engine): only pages without a text layer are OCR'd, images and
multi-page TIFFs are pages, every page's image is kept, bad files fail with a reason."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from kgrag.errors import DocumentError, NeedsOcrError
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.ingest.read import read_document
from kgrag.ocr.base import OcrResult, OcrUnavailableError
from kgrag.page_images import PageImages
from kgrag.settings import Settings

LIMITS = {"max_mb": 5.0, "min_page_chars": 16}


@dataclass
class FakeOcr:
    """Reads the mark `_scan` draws: the page's grey level says which page it is."""

    name: str = "fake"
    seen: list[tuple[int, int]] = field(default_factory=list)  # image sizes, in call order

    def recognize(self, image: Image.Image) -> OcrResult:
        self.seen.append(image.size)
        level = image.convert("L").getpixel((5, 5))
        return OcrResult(text=f"scanned page marked {level}", confidence=0.5, engine=self.name)


class Provider:
    """Counts how often the read stage asks for the engine (it must not when no page needs it)."""

    def __init__(self, engine: FakeOcr) -> None:
        self.engine, self.calls = engine, 0

    def __call__(self) -> FakeOcr:
        self.calls += 1
        return self.engine


@dataclass
class Sink:
    max_px: int = 300
    images: dict[int, tuple[int, int]] = field(default_factory=dict)

    def add(self, number: int, image: Image.Image) -> None:
        self.images[number] = image.size


def _scan(level: int, size: tuple[int, int] = (850, 1100)) -> Image.Image:
    """A 'scanned' page: uniform grey `level` (the fake engine reads it) with a black bar."""
    image = Image.new("L", size, level)
    ImageDraw.Draw(image).rectangle((100, 100, 600, 140), fill=0)
    return image


def _image_pdf(levels: list[int]) -> bytes:
    """An image-only PDF (no text layer), one page per level, written by Pillow at 100 dpi."""
    pages = [_scan(level) for level in levels]
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", resolution=100, save_all=True, append_images=pages[1:])
    return buf.getvalue()


def _text_pdf(texts: list[str]) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    for text in texts:
        pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _concat(*pdfs: bytes, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for data in pdfs:
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    if password:
        writer.encrypt(user_password=password, algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size and holds no pixels: what a decompression bomb looks like to
    a reader before it decodes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


NOISE = Image.effect_noise((300, 300), 60)
NOISE_PNG, NOISE_JPEG = _encoded(NOISE, "PNG"), _encoded(NOISE, "JPEG")


def test_mixed_pdf_ocrs_only_the_pages_without_a_text_layer():
    engine = FakeOcr()
    data = _concat(
        _text_pdf(["Born-digital page one with its own text layer"]),
        _image_pdf([40]),
        _text_pdf(["Born-digital page three, also with a text layer"]),
        _image_pdf([90]),
    )
    doc = read_document("mixed.pdf", data, **LIMITS, ocr=Provider(engine), ocr_dpi=144)

    assert [p.number for p in doc.pages] == [1, 2, 3, 4]
    assert "page one" in doc.pages[0].text and "page three" in doc.pages[2].text
    assert (doc.pages[0].ocr_engine, doc.pages[0].ocr_confidence) == (None, None)
    assert doc.pages[1].text == "scanned page marked 40"
    assert doc.pages[3].text == "scanned page marked 90"
    assert (doc.pages[1].ocr_engine, doc.pages[1].ocr_confidence) == ("fake", 0.5)
    # 850x1100 px at 100 dpi is 8.5x11 in; rendered at 144 dpi for OCR: 1224x1584
    assert engine.seen == [(1224, 1584), (1224, 1584)]


def test_text_layer_pdf_never_builds_the_engine_and_still_keeps_page_images():
    provider, sink = Provider(FakeOcr()), Sink(max_px=300)
    doc = read_document(
        "digital.pdf",
        _text_pdf(["A page with plenty of real text", "And a second one, also real"]),
        **LIMITS,
        ocr=provider,
        page_images=sink,
    )
    assert provider.calls == 0 and all(p.ocr_engine is None for p in doc.pages)
    assert sorted(sink.images) == [1, 2]
    assert all(max(size) == 300 for size in sink.images.values())  # rendered to fit max_px


def test_multi_page_tiff_pages_are_ocrd_in_order():
    engine, sink = FakeOcr(), Sink()
    frames = [_scan(level, (400, 500)) for level in (30, 60, 120)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    doc = read_document("fax.tif", buf.getvalue(), **LIMITS, ocr=Provider(engine), page_images=sink)
    assert [(p.number, p.text) for p in doc.pages] == [
        (1, "scanned page marked 30"),
        (2, "scanned page marked 60"),
        (3, "scanned page marked 120"),
    ]
    assert engine.seen == [(400, 500)] * 3 and sorted(sink.images) == [1, 2, 3]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "WEBP"])
def test_single_images_are_one_ocrd_page(fmt: str):
    data = _encoded(_scan(200, (300, 200)).convert("RGB"), fmt)
    doc = read_document(f"photo.{fmt.lower()}", data, **LIMITS, ocr=Provider(FakeOcr()))
    assert len(doc.pages) == 1 and doc.pages[0].ocr_engine == "fake"
    level = int(doc.pages[0].text.removeprefix("scanned page marked "))
    assert abs(level - 200) <= 3  # lossy formats shift the grey a little


def test_a_page_ocr_finds_nothing_on_is_kept_but_a_document_with_no_text_fails():
    class Blank(FakeOcr):
        def recognize(self, image: Image.Image) -> OcrResult:
            return OcrResult(text="", confidence=0.0, engine="fake")

    mixed = _concat(_text_pdf(["A real page of text, long enough"]), _image_pdf([0]))
    doc = read_document("m.pdf", mixed, **LIMITS, ocr=Provider(Blank()))
    assert [(p.number, p.text, p.ocr_confidence) for p in doc.pages][1] == (2, "", 0.0)
    with pytest.raises(DocumentError, match="no text found on any page"):
        read_document("blank.pdf", _image_pdf([0]), **LIMITS, ocr=Provider(Blank()))


def test_engine_errors_name_the_file_and_page_and_a_missing_engine_says_what_to_install():
    class Broken(FakeOcr):
        def recognize(self, image: Image.Image) -> OcrResult:
            raise RuntimeError("model exploded")

    with pytest.raises(DocumentError, match=r"scan.pdf: OCR \(fake\) failed on page 1.*exploded"):
        read_document("scan.pdf", _image_pdf([0]), **LIMITS, ocr=Provider(Broken()))

    def missing() -> FakeOcr:
        raise OcrUnavailableError("OCR needs Tesseract: apt-get install tesseract-ocr")

    with pytest.raises(OcrUnavailableError, match="apt-get install"):
        read_document("scan.png", _encoded(_scan(0, (50, 50)), "PNG"), **LIMITS, ocr=missing)


def test_without_an_engine_a_good_image_is_checked_then_refused_as_needing_ocr():
    with pytest.raises(NeedsOcrError, match=r"fax.png: image \(1 page\(s\)\) needs OCR"):
        read_document("fax.png", _encoded(_scan(0, (50, 50)), "PNG"), **LIMITS)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.png", b"", "empty file (0 bytes)"),
        ("empty.pdf", b"", "empty file (0 bytes)"),
        ("cut.png", NOISE_PNG[: len(NOISE_PNG) // 2], "corrupt or unreadable image"),
        ("cut.jpg", NOISE_JPEG[: len(NOISE_JPEG) // 2], "corrupt or unreadable image"),
        ("junk.tif", b"II*\x00" + b"\xff" * 64, "corrupt or unreadable image"),
        ("huge.png", _png_header(5000, 4000), "20,000,000 pixels, over the 1,000,000-pixel limit"),
        ("bomb.png", _png_header(60000, 60000), "too large to decode safely"),
        ("secret.pdf", _concat(_text_pdf(["Confidential text here"]), password="pw"), "password"),
    ],
    ids=lambda v: v if isinstance(v, str) and "." in v and len(v) < 20 else "",
)
def test_bad_files_fail_with_the_file_and_reason(name: str, data: bytes, reason: str):
    with pytest.raises(DocumentError) as info:
        read_document(name, data, **LIMITS, ocr=Provider(FakeOcr()), max_image_pixels=1_000_000)
    assert info.value.path == name and reason in info.value.reason


def test_poster_sized_pdf_pages_render_within_the_pixel_limit():
    engine = FakeOcr()
    read_document("poster.pdf", _image_pdf([0]), **LIMITS, ocr=Provider(engine), ocr_dpi=600,
                  max_image_pixels=1_000_000)  # fmt: skip
    ((width, height),) = engine.seen
    assert width * height <= 1_000_000 and width > 800  # scaled down, not refused


def test_a_bad_file_does_not_stop_the_others(tmp_path):
    (tmp_path / "a-scan.pdf").write_bytes(_image_pdf([70]))
    (tmp_path / "b-empty.png").write_bytes(b"")
    (tmp_path / "c-broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "d-notes.md").write_text("# Notes\n\nPlain text notes about the scan.")
    engine = FakeOcr()
    runtime = SimpleNamespace(settings=Settings(data_dir=tmp_path / "data"), ocr_engine=engine)
    chunks, failed = IngestPipeline(runtime).read_chunks([tmp_path])  # type: ignore[arg-type]
    assert sorted(c.text for c in chunks) == ["# Notes\n\nPlain text notes about the scan.",
                                              "scanned page marked 70"]  # fmt: skip
    errors = {f.source.rsplit("/", 1)[1]: f.error or "" for f in failed}
    assert sorted(errors) == ["b-empty.png", "c-broken.jpg"]
    assert errors["b-empty.png"] == "empty file (0 bytes)"
    assert errors["c-broken.jpg"].startswith("corrupt or unreadable image")


def test_page_images_are_staged_then_kept_bounded(tmp_path):
    store = PageImages(tmp_path / "pages", max_px=256)
    with store.staging("doc1") as staged:
        read_document("scan.pdf", _image_pdf([10, 20]), **LIMITS, ocr=Provider(FakeOcr()),
                      page_images=staged)  # fmt: skip
        assert store.path("doc1", 1) is None  # not before the document is stored
        staged.commit()
    for number in (1, 2):
        path = store.path("doc1", number)
        assert path is not None and path.parent == tmp_path / "pages" / "doc1"
        with Image.open(path) as image:
            assert max(image.size) == 256 and image.format == "PNG"
    assert [p.name for p in (tmp_path / "pages").iterdir()] == ["doc1"]  # no staging left
    store.remove("doc1")
    assert store.path("doc1", 1) is None


def test_a_failed_read_leaves_no_page_images(tmp_path):
    store = PageImages(tmp_path / "pages", max_px=256)
    broken = _concat(_text_pdf(["A page with plenty of real text"]), _image_pdf([0]))
    with pytest.raises(DocumentError), store.staging("doc2") as staged:
        read_document("b.pdf", broken, **LIMITS, ocr=Provider(_Failing()), page_images=staged)
    assert not (tmp_path / "pages").exists() or not any((tmp_path / "pages").iterdir())


class _Failing(FakeOcr):
    def recognize(self, image: Image.Image) -> OcrResult:
        raise ValueError("unreadable")


def test_page_image_paths_refuse_anything_but_a_document_id(tmp_path):
    store = PageImages(tmp_path, max_px=256)
    assert store.path("../etc", 1) is None and store.path("a/b", 1) is None
    with pytest.raises(ValueError):
        store.remove("..")


def test_pages_without_colour_are_kept_as_few_grey_levels_and_colour_pages_as_rgb(tmp_path):
    store = PageImages(tmp_path, max_px=256)
    grey = _scan(180, (600, 800)).convert("RGB")  # how pdfium hands over a black-and-white page
    colour = grey.copy()
    ImageDraw.Draw(colour).rectangle((10, 10, 200, 200), fill=(200, 30, 30))
    with store.staging("doc3") as staged:
        staged.add(1, grey)
        staged.add(2, colour)
        staged.commit()
    with Image.open(store.path("doc3", 1)) as page:
        assert page.mode == "P" and len(page.getcolors()) <= 16
        assert {r == g == b for r, g, b in page.convert("RGB").getdata()} == {True}
    with Image.open(store.path("doc3", 2)) as page:
        assert page.mode == "RGB" and (200, 30, 30) in {c for _, c in page.getcolors(1 << 20)}
