"""Image files as pages: every frame of a multi-page TIFF is a page; bombs and damage refused."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator

from PIL import Image, ImageOps, ImageSequence

from kgrag.errors import DocumentError


def image_pages(name: str, data: bytes, *, max_pixels: int) -> Iterator[Image.Image]:
    """Decoded pages (EXIF orientation applied, RGB or greyscale), one at a time."""
    try:
        with warnings.catch_warnings():
            # Pillow warns between its limit and twice that; here `max_pixels` decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                yield _decoded(name, number, frame, max_pixels)
    except DocumentError:
        raise
    except Image.DecompressionBombError as exc:
        raise DocumentError(name, f"image is too large to decode safely ({exc})") from exc
    except Exception as exc:  # Pillow's decoders fail on damaged files in many ways
        raise DocumentError(
            name, f"corrupt or unreadable image ({type(exc).__name__}: {exc})"
        ) from exc


def _decoded(name: str, number: int, frame: Image.Image, max_pixels: int) -> Image.Image:
    width, height = frame.size
    if width * height > max_pixels:
        raise DocumentError(
            name,
            f"page {number} is {width}x{height} = {width * height:,} pixels, over the "
            f"{max_pixels:,}-pixel limit (max_image_pixels)",
        )
    if width == 0 or height == 0:
        raise DocumentError(name, f"page {number} is empty (0 pixels)")
    frame.load()
    page = ImageOps.exif_transpose(frame)
    if page.mode in ("1", "L", "RGB"):
        return page.copy()  # detached from the file, which closes after iteration
    if page.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return ImageOps.autocontrast(page.convert("I").point(lambda v: v / 256).convert("L"))
    return page.convert("RGB")
