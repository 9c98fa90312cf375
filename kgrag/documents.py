"""What `kgrag documents show` and `GET /documents/{id}` show of one stored document."""

from __future__ import annotations

from typing import Any

from kgrag.runtime import Runtime


def document_view(rt: Runtime, document_id: str) -> dict[str, Any] | None:
    """The stored document with, per page, its OCR engine and confidence and the URL of its
    image; OCR'd pages below `ocr_low_confidence` are listed apart. None if absent."""
    found = rt.store.document(document_id)
    if found is None:
        return None
    threshold = rt.settings.ocr_low_confidence
    for page in found["page_list"]:
        kept = rt.page_images.path(document_id, page["number"]) is not None
        page["image_url"] = rt.page_images.url(document_id, page["number"]) if kept else None
    found["low_confidence_pages"] = [
        page
        for page in found["page_list"]
        if page.get("ocr_confidence") is not None and page["ocr_confidence"] < threshold
    ]
    return found
