"""Read stage cost per page: text layer vs OCR, and what keeping page images adds.

    python benchmarks/read_pages.py              # 6-page PDFs, the configured OCR engine
    python benchmarks/read_pages.py --pages 3 --dpi 150

Builds two PDFs at run time: a born-digital one (reportlab text layer) and an image-only
scan of the same text (Pillow, 200 dpi). Prints seconds per page of `read_document` without
page images, with them (render + PNG), and for the scan with OCR (`build_ocr_engine`), plus
the PNG bytes per page kept on disk.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfgen import canvas

from kgrag.ingest.read import read_document, read_limits
from kgrag.ocr import build_ocr_engine
from kgrag.page_images import PageImages
from kgrag.settings import Settings

LINES = [f"Line {i}: the Kelvin-7 buoy logs sea temperature every ten minutes." for i in range(30)]


def digital_pdf(pages: int) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    for _ in range(pages):
        for i, line in enumerate(LINES):
            pdf.drawString(72, 760 - i * 22, line)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def scanned_pdf(pages: int) -> bytes:
    font = ImageFont.truetype("DejaVuSans.ttf", 30)
    images = []
    for _ in range(pages):
        page = Image.new("L", (1700, 2200), 255)
        draw = ImageDraw.Draw(page)
        for i, line in enumerate(LINES):
            draw.text((150, 150 + i * 61), line, fill=0, font=font)
        images.append(page)
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", resolution=200, save_all=True, append_images=images[1:])
    return buf.getvalue()


def timed(name: str, data: bytes, settings: Settings, *, ocr: bool, images: bool) -> None:
    engine = build_ocr_engine(settings) if ocr else None
    with tempfile.TemporaryDirectory() as tmp:
        store = PageImages(Path(tmp), settings.page_image_max_px)
        with store.staging("bench") as staged:
            start = time.perf_counter()
            doc = read_document(
                name,
                data,
                **read_limits(settings),
                ocr=(lambda: engine) if engine else None,
                page_images=staged if images else None,
            )
            seconds = time.perf_counter() - start
            staged.commit()
        sizes = [p.stat().st_size for p in (Path(tmp) / "bench").glob("*.png")] if images else []
    per_page = seconds / len(doc.pages)
    png = f"{sum(sizes) / len(sizes) / 1024:8.0f}" if sizes else "       -"
    engine_name = doc.pages[0].ocr_engine or "text layer"
    print(f"{name:12} {engine_name:16} {str(images):7} {per_page:9.3f} {png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--dpi", type=int, default=200, help="ocr_dpi")
    args = parser.parse_args()
    settings = Settings(ocr_dpi=args.dpi)
    digital, scan = digital_pdf(args.pages), scanned_pdf(args.pages)
    print(f"{args.pages} pages, ocr_dpi {args.dpi}, page_image_max_px {settings.page_image_max_px}")
    print(f"{'file':12} {'text from':16} {'images':7} {'s/page':>9} {'KiB/png':>8}")
    timed("digital.pdf", digital, settings, ocr=False, images=False)
    timed("digital.pdf", digital, settings, ocr=False, images=True)
    timed("scan.pdf", scan, settings, ocr=True, images=False)
    timed("scan.pdf", scan, settings, ocr=True, images=True)


if __name__ == "__main__":
    main()
