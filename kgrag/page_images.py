"""Rendered PNGs of document pages, kept under `<data_dir>/pages/<document id>/<n>.png`.

Ingest writes a document's images into a staging folder while it reads the file and moves
them into place only once the document is stored, so a failed ingest leaves none behind.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import TracebackType

from PIL import Image, ImageChops

from kgrag.errors import KgragError

_DOCUMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # never a path: no dots, no separators
GREY_LEVELS = 16  # pages without colour are kept with this many grey levels


class PageImageError(KgragError):
    """A page image could not be written (disk full, permissions)."""


def _compact(image: Image.Image) -> Image.Image:
    """Greyscale ("L") when the page has no colour (pdfium renders every page as RGB), else
    RGB."""
    if image.mode in ("1", "L"):
        return image.convert("L")
    rgb = image.convert("RGB")
    red, green, blue = rgb.split()
    if ImageChops.difference(red, green).getbbox() or ImageChops.difference(red, blue).getbbox():
        return rgb
    return red


class StagedPages:
    """One document's page images while it is being ingested (the read stage's sink)."""

    def __init__(self, folder: Path, final: Path, max_px: int) -> None:
        self.folder, self.final, self.max_px = folder, final, max_px
        self.count = 0

    def add(self, number: int, image: Image.Image) -> None:
        """Save the page shrunk to `max_px` on its longest side (never enlarged)."""
        page = _compact(image.copy())
        page.thumbnail((self.max_px, self.max_px), Image.Resampling.LANCZOS)
        if page.mode == "L":
            page = page.quantize(GREY_LEVELS)  # 4-bit PNG: a text page is ~10x smaller
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            page.save(self.folder / f"{number}.png", format="PNG")
        except OSError as exc:
            raise PageImageError(f"cannot write page image {number}: {exc}") from exc
        self.count += 1

    def commit(self) -> None:
        """Move the images into place, replacing any earlier ones of this document."""
        try:
            if self.final.exists():
                shutil.rmtree(self.final)
            if self.count:
                self.final.parent.mkdir(parents=True, exist_ok=True)
                self.folder.rename(self.final)
        except OSError as exc:
            raise PageImageError(f"cannot store page images in {self.final}: {exc}") from exc

    def __enter__(self) -> StagedPages:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:  # a failed read leaves none; a read one stays staged until
            shutil.rmtree(self.folder, ignore_errors=True)  # commit, also for a resumed ingest


class PageImages:
    """The page-image folder of one data dir."""

    def __init__(self, root: Path, max_px: int) -> None:
        self.root, self.max_px = root, max_px

    def folder(self, document_id: str) -> Path:
        if not _DOCUMENT_ID.fullmatch(document_id):
            raise ValueError(f"not a document id: {document_id!r}")
        return self.root / document_id

    def path(self, document_id: str, number: int) -> Path | None:
        """The PNG of page `number`, or None when none is kept (or the id is malformed)."""
        if not _DOCUMENT_ID.fullmatch(document_id):
            return None
        found = self.folder(document_id) / f"{number}.png"
        return found if found.is_file() else None

    def staging(self, document_id: str) -> StagedPages:
        """A fresh staging folder for the document's images (any earlier one is dropped)."""
        staged = self.staged(document_id)
        shutil.rmtree(staged.folder, ignore_errors=True)
        staged.count = 0
        return staged

    def staged(self, document_id: str) -> StagedPages:
        """The images an interrupted ingest of the document staged (none if it staged none)."""
        folder = self.root / f".staging-{self.folder(document_id).name}"
        staged = StagedPages(folder, self.folder(document_id), self.max_px)
        staged.count = len(list(folder.glob("*.png"))) if folder.is_dir() else 0
        return staged

    def remove(self, document_id: str) -> None:
        shutil.rmtree(self.folder(document_id), ignore_errors=True)

    @staticmethod
    def url(document_id: str, number: int) -> str:
        """The API route that serves the image (relative to the API's base URL)."""
        return f"/documents/{document_id}/pages/{number}.png"
