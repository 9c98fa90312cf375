"""Tesseract (Debian `tesseract-ocr`, `tesseract-ocr-kor`) run as a subprocess: boxes and OSD.

`--psm 6` (one uniform block) measured far better than the default page segmentation on
noisy scans and on Korean. One run writes both the text (`txt`, whose word spacing is right
for Korean) and the word boxes (`tsv`, which splits Korean words into syllables); each line
takes its text from the former and its box from the latter. Columns are recovered by
splitting lines at wide gaps and sorting the pieces (kgrag.ocr.layout).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from PIL import Image

from kgrag.ocr.base import OcrBox, OcrUnavailableError

INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-kor"
LINE_SPLIT_GAP = 1.5  # a gap wider than this many word heights splits a line (a gutter)
TIMEOUT_S = 300


@dataclass(frozen=True)
class Orientation:
    """Tesseract OSD's answer: rotate the page clockwise by `rotate` degrees to read it."""

    rotate: int
    confidence: float
    script: str


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("tesseract")
    if binary is None:
        raise OcrUnavailableError(f"the tesseract binary is not installed: {INSTALL_HINT}")
    return subprocess.run(
        [binary, *args], capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )


def check_tesseract(languages: list[str]) -> None:
    """Raise OcrUnavailableError naming the binary or language data that is missing."""
    listed = _run(["--list-langs"]).stdout.splitlines()[1:]
    missing = [lang for lang in [*languages, "osd"] if lang not in listed]
    if missing:
        packages = " ".join(f"tesseract-ocr-{lang.replace('_', '-')}" for lang in missing)
        raise OcrUnavailableError(
            f"Tesseract language data missing ({', '.join(missing)}): apt-get install {packages}"
        )


class TesseractReader:
    """Reads line boxes with Tesseract in the given languages (e.g. ["kor"])."""

    name = "tesseract"

    def __init__(self, languages: list[str]) -> None:
        self.languages = languages

    def read_boxes(self, image: Image.Image) -> list[OcrBox]:
        with tempfile.TemporaryDirectory(prefix="kgrag-tess-") as tmp:
            src, out = Path(tmp) / "page.png", Path(tmp) / "out"
            image.save(src)
            lang = "+".join(self.languages)
            proc = _run([str(src), str(out), "-l", lang, "--psm", "6", "txt", "tsv"])
            if proc.returncode != 0:
                raise OcrUnavailableError(f"tesseract failed: {proc.stderr.strip()[-300:]}")
            text = out.with_suffix(".txt").read_text(encoding="utf-8")
            tsv = out.with_suffix(".tsv").read_text(encoding="utf-8")
        words = _tsv_lines(tsv)
        texts = [line.strip() for line in text.splitlines() if line.strip()]
        if len(texts) != len(words):  # not expected; keep the boxes' own words
            texts = [" ".join(w.text for w in line) for line in words]
        return [
            seg for line, txt in zip(words, texts, strict=True) for seg in split_line(line, txt)
        ]

    def orientation(self, image: Image.Image) -> Orientation | None:
        """OSD on the page; None when Tesseract cannot tell (too little text)."""
        with tempfile.TemporaryDirectory(prefix="kgrag-osd-") as tmp:
            src = Path(tmp) / "page.png"
            image.save(src)
            proc = _run([str(src), "-", "--psm", "0"])
        fields = dict(line.split(":", 1) for line in proc.stdout.splitlines() if ":" in line)
        if proc.returncode != 0 or "Rotate" not in fields:
            return None
        return Orientation(
            int(fields["Rotate"]), float(fields["Orientation confidence"]), fields["Script"].strip()
        )


def _tsv_lines(tsv: str) -> list[list[OcrBox]]:
    """Word boxes grouped by Tesseract line, in Tesseract's order."""
    lines: dict[tuple[str, str, str], list[OcrBox]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip() or float(cols[10]) < 0:
            continue
        x, y, w, h = (int(v) for v in cols[6:10])
        word = OcrBox(cols[11].strip(), float(cols[10]) / 100, x, y, x + w, y + h)
        lines.setdefault((cols[2], cols[3], cols[4]), []).append(word)
    return list(lines.values())


def split_line(words: list[OcrBox], text: str) -> list[OcrBox]:
    """One line's boxes, split where a gutter separates its words; `text` is the line's text.

    Each piece takes its share of `text` by counting non-space characters, which keeps the
    text's own spacing (Korean words are not the TSV's words).
    """
    gap = LINE_SPLIT_GAP * median(w.height for w in words)
    groups: list[list[OcrBox]] = [[words[0]]]
    for word in words[1:]:
        if word.x0 - groups[-1][-1].x1 > gap:
            groups.append([])
        groups[-1].append(word)
    if "".join(text.split()) != "".join(w.text for w in words):
        text = " ".join(w.text for w in words)
    pieces, rest = [], text
    for group in groups:
        count = sum(len(w.text) for w in group)
        end, seen = 0, 0
        while seen < count:
            seen += not rest[end].isspace()
            end += 1
        pieces.append(rest[:end].strip())
        rest = rest[end:]
    return [_box(group, piece) for group, piece in zip(groups, pieces, strict=True)]


def _box(words: list[OcrBox], text: str) -> OcrBox:
    chars = sum(len(w.text) for w in words)
    conf = sum(w.confidence * len(w.text) for w in words) / chars
    return OcrBox(
        text,
        conf,
        min(w.x0 for w in words),
        min(w.y0 for w in words),
        max(w.x1 for w in words),
        max(w.y1 for w in words),
    )
