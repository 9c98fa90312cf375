"""Reading order of OCR boxes: columns from gutters, full-width boxes, lines, paragraphs."""

from kgrag.ocr.base import OcrBox, mean_confidence
from kgrag.ocr.layout import columns, reading_order
from kgrag.ocr.testpages import cer, wer


def box(text: str, x0: float, y0: float, x1: float, conf: float = 0.9) -> OcrBox:
    return OcrBox(text, conf, x0, y0, x1, y0 + 30)


def two_columns(top: float, prefix: str) -> list[OcrBox]:
    """Three lines per column at the same heights, left column x 100-420, right 520-840."""
    out = []
    for i in range(3):
        y = top + i * 45
        out.append(box(f"{prefix}L{i}", 100, y, 380 + 10 * i))
        out.append(box(f"{prefix}R{i}", 520, y, 800 + 10 * i))
    return out


def test_two_columns_read_left_column_first():
    text, ordered = reading_order(two_columns(100, ""))
    assert text == "L0\nL1\nL2\n\nR0\nR1\nR2"
    assert [b.text for b in ordered] == ["L0", "L1", "L2", "R0", "R1", "R2"]
    assert len(columns(ordered)) == 2


def test_full_width_title_over_two_columns_comes_first():
    boxes = [*two_columns(200, ""), box("Title across the page", 100, 100, 840)]
    text, _ = reading_order(boxes)
    assert text == "Title across the page\n\nL0\nL1\nL2\n\nR0\nR1\nR2"


def test_full_width_lines_between_two_column_bands_keep_their_place():
    full = [box("Middle line one", 100, 400, 840), box("Middle line two", 100, 445, 840)]
    boxes = [*two_columns(100, "a"), *full, *two_columns(600, "b")]
    text, _ = reading_order(boxes)
    assert text.split("\n\n") == [
        "aL0\naL1\naL2",
        "aR0\naR1\naR2",
        "Middle line one\nMiddle line two",
        "bL0\nbL1\nbL2",
        "bR0\nbR1\nbR2",
    ]


def test_single_column_lines_pieces_and_paragraphs():
    boxes = [
        box("second half", 400, 100, 700),  # same line as "first half", detected apart
        box("first half", 100, 102, 380),
        box("next line", 100, 145, 650),
        box("new paragraph", 100, 260, 600),  # gap > 1.2 line heights
    ]
    text, _ = reading_order(boxes)
    assert text == "first half second half\nnext line\n\nnew paragraph"


def test_no_boxes_and_blank_boxes_give_empty_text():
    assert reading_order([]) == ("", ())
    assert reading_order([box("  ", 0, 0, 10)]) == ("", ())


def test_confidence_is_weighted_by_text_length():
    boxes = [box("aaaa", 0, 0, 10, conf=1.0), box("b", 0, 50, 10, conf=0.5)]
    assert mean_confidence(boxes) == (4 * 1.0 + 0.5) / 5
    assert mean_confidence([]) == 0.0


def test_cer_and_wer_normalise_whitespace():
    assert cer("a  b\nc", "a b c") == 0.0
    assert cer("abXd", "abcd") == 0.25
    assert wer("one two three", "one too three") == 1 / 3
