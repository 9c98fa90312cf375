"""Server-sent events: the wire format both streaming endpoints use."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import StreamingResponse

DONE = "data: [DONE]\n\n"


def event(data: Any, name: str | None = None) -> str:
    """One SSE event: an optional `event:` line and the data as one JSON line."""
    prefix = f"event: {name}\n" if name else ""
    return f"{prefix}data: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse_response(events) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def word_pieces(text: str) -> list[str]:
    """The text as word-sized deltas (each keeps its leading space), joined back exactly."""
    pieces: list[str] = []
    for i, word in enumerate(text.split(" ")):
        pieces.append(word if i == 0 else " " + word)
    return [p for p in pieces if p]
