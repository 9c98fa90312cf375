"""Reading order of OCR boxes: columns found from gutters in the union of box x-ranges, then y.

Text detectors return boxes, not reading order; sorting a two-column page by y alone
interleaves its columns. Here boxes that cross a gutter (a full-width title) split the page
into bands; inside a band each column is read top to bottom, left column first.
"""

from __future__ import annotations

from statistics import median

from kgrag.ocr.base import OcrBox

NARROW = 0.55  # boxes wider than this share of the text width never define columns
PARAGRAPH_GAP = 1.2  # a vertical gap above this many line heights starts a paragraph


def _merge(ranges: list[tuple[float, float]], min_gap: float) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for x0, x1 in sorted(ranges):
        if merged and x0 - merged[-1][1] < min_gap:
            merged[-1][1] = max(merged[-1][1], x1)
        else:
            merged.append([x0, x1])
    return [(a, b) for a, b in merged]


def columns(boxes: list[OcrBox]) -> list[tuple[float, float]]:
    """x-ranges of the text columns (one range for a single-column page)."""
    left = min(b.x0 for b in boxes)
    right = max(b.x1 for b in boxes)
    line_h = median(b.height for b in boxes)
    narrow = [(b.x0, b.x1) for b in boxes if b.width <= NARROW * (right - left)]
    if not narrow:
        return [(left, right)]
    return _merge(narrow, min_gap=max(line_h, 0.01 * (right - left)))


def _column_of(box: OcrBox, cols: list[tuple[float, float]]) -> int | None:
    """Index of the column holding the box, None when it crosses a gutter."""
    hits = [i for i, (x0, x1) in enumerate(cols) if box.x0 < x1 and box.x1 > x0]
    if len(hits) == 1:
        return hits[0]
    if not hits:  # a wide box between columns: nearest column by centre
        centre = (box.x0 + box.x1) / 2
        return min(range(len(cols)), key=lambda i: abs(centre - sum(cols[i]) / 2))
    return None


def _lines(boxes: list[OcrBox]) -> list[list[OcrBox]]:
    """Group boxes of one column into lines by vertical overlap, each line left to right."""
    lines: list[list[OcrBox]] = []
    for box in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        centre = (box.y0 + box.y1) / 2
        if lines:
            last = lines[-1]
            top = min(b.y0 for b in last)
            bottom = max(b.y1 for b in last)
            if top <= centre <= bottom:
                last.append(box)
                continue
        lines.append([box])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


def _block_text(lines: list[list[OcrBox]], line_h: float) -> str:
    out: list[str] = []
    prev_bottom: float | None = None
    for line in lines:
        top = min(b.y0 for b in line)
        if prev_bottom is not None:
            out.append("\n\n" if top - prev_bottom > PARAGRAPH_GAP * line_h else "\n")
        out.append(" ".join(b.text for b in line))
        prev_bottom = max(b.y1 for b in line)
    return "".join(out)


def reading_order(boxes: list[OcrBox]) -> tuple[str, tuple[OcrBox, ...]]:
    """Page text in reading order and the boxes in that order."""
    boxes = [b for b in boxes if b.text.strip()]
    if not boxes:
        return "", ()
    cols = columns(boxes)
    line_h = median(b.height for b in boxes)
    blocks: list[list[OcrBox]] = []
    band: dict[int, list[OcrBox]] = {}
    spanning = False  # the last block holds gutter-crossing boxes

    def flush() -> None:
        blocks.extend(band[i] for i in sorted(band))
        band.clear()

    for box in sorted(boxes, key=lambda b: (b.y0, b.x0)):
        col = _column_of(box, cols)
        if col is None:  # spans a gutter: ends the band above it
            if band or not spanning:
                flush()
                blocks.append([])
            blocks[-1].append(box)
            spanning = True
        else:
            spanning = False
            band.setdefault(col, []).append(box)
    flush()
    texts, ordered = [], []
    for block in blocks:
        lines = _lines(block)
        texts.append(_block_text(lines, line_h))
        ordered.extend(b for line in lines for b in line)
    return "\n\n".join(texts), tuple(ordered)
