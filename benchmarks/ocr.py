"""OCR engines on rendered pages with exact ground truth: CER, WER and seconds per page.

    python benchmarks/ocr.py                         # paddleocr, tesseract and auto, every page
    python benchmarks/ocr.py --engines auto --pages clean korean

Pages come from kgrag/ocr/testpages.py (clean, two-column, noisy+JPEG, 3° and 90° rotation,
75 dpi, an image-only PDF, Korean). CER/WER are whitespace-normalised; model loading is
timed apart from the pages. Goal (issue 3): CER ≤ 1% on every case, no page read empty.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kgrag.errors import OcrUnavailableError
from kgrag.ocr import build_ocr_engine
from kgrag.ocr.testpages import benchmark_pages, cer, english_page, wer
from kgrag.settings import Settings

ENGINES = ("paddleocr", "tesseract", "auto")


def run(engine_name: str, pages, data_dir: Path) -> list[dict]:
    settings = Settings(ocr_engine=engine_name, data_dir=data_dir)
    engine = build_ocr_engine(settings)
    start = time.perf_counter()
    engine.recognize(english_page(dpi=75).image)  # loads models
    print(f"{engine_name}: first page incl. model load {time.perf_counter() - start:.1f}s")
    rows = []
    for page in pages:
        start = time.perf_counter()
        result = engine.recognize(page.image)
        rows.append(
            {
                "engine": engine_name,
                "page": page.name,
                "cer": cer(result.text, page.truth),
                "wer": wer(result.text, page.truth),
                "s": time.perf_counter() - start,
                "used": result.engine,
                "rotation": result.rotation,
                "conf": result.confidence,
                "empty": not result.text.strip(),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--pages", nargs="+", help="page names (default: all)")
    args = parser.parse_args()
    pages = [p for p in benchmark_pages() if not args.pages or p.name in args.pages]
    if not any(p.language == "kor" for p in pages) and not args.pages:
        print("no Hangul font (apt-get install fonts-nanum): Korean page left out")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="kgrag-ocr-bench-") as tmp:
        for name in args.engines:
            try:
                rows += run(name, pages, Path(tmp))
            except OcrUnavailableError as exc:
                print(f"{name}: unavailable: {exc}")
    print()
    head = "| CER    | WER    | s/page | read by        | rot | conf |"
    print(f"| {'engine':9} | {'page':15} {head}")
    print(f"|{'-' * 11}|{'-' * 17}|--------|--------|--------|{'-' * 16}|-----|------|")
    for r in rows:
        flag = " EMPTY" if r["empty"] else ""
        print(
            f"| {r['engine']:9} | {r['page']:15} | {r['cer']:6.1%} | {r['wer']:6.1%} | "
            f"{r['s']:6.1f} | {r['used']:14} | {r['rotation']:3} | {r['conf']:.2f} |{flag}"
        )
    print()
    for name in args.engines:
        mine = [r for r in rows if r["engine"] == name]
        if mine:
            worst = max(mine, key=lambda r: r["cer"])
            print(
                f"{name}: mean CER {sum(r['cer'] for r in mine) / len(mine):.2%}, worst "
                f"{worst['cer']:.1%} ({worst['page']}), {sum(r['s'] for r in mine) / len(mine):.1f}"
                f" s/page, {sum(r['cer'] <= 0.01 for r in mine)}/{len(mine)} pages ≤ 1% CER"
            )


if __name__ == "__main__":
    main()
