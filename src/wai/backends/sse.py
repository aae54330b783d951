"""The one place that turns an HTTP response body into decoded events."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import httpx


class InvalidEvent(NamedTuple):
    """An event whose data is not JSON; it is skipped with a warning."""

    data: str


class SSEPayload(NamedTuple):  # one per token: a tuple is the cheapest thing to build
    event: str
    data: Any  # the decoded JSON, or InvalidEvent


def is_event_stream(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower() == "text/event-stream"


def iter_payloads(response: httpx.Response) -> Iterator[SSEPayload]:
    """Decoded `data:` payloads of an event stream up to the first `[DONE]` (or its end).

    httpx-sse reads the events: `data:` lines joined, `event:` names, comments and unknown
    fields (a bare `[DONE]` among them) ignored, any line ends, events split across reads at any
    byte. It reads the body as `_as_sse` mends it.
    """
    import httpx
    from httpx_sse import EventSource

    mended = httpx.Response(  # the charset stays; iter_bytes has undone any Content-Encoding
        response.status_code,
        headers={"content-type": response.headers.get("content-type", "")},
        content=_as_sse(response.iter_bytes()),
    )
    for event in EventSource(mended).iter_sse():
        data = event.data
        if not data:  # no `data:` line: nothing to decode
            continue
        if data.strip() == "[DONE]":
            return
        yield SSEPayload(event.event, _decode(data))


_ERROR = b"error:"
_ERROR_EVENT = b"event: error\ndata:"


def _as_sse(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The body with llama.cpp's two departures from SSE mended, read by read.

    llama.cpp's server sends a failure as a line `error: {...}`, a field SSE does not have (so
    httpx-sse drops it): the line becomes `event: error` + `data: {...}`. A line's first bytes
    are held back while they may yet become `error:`, so a read may end anywhere. And it may end
    the stream without the blank line that ends the last event (SSE drops such an event): one is
    added at the end.
    """
    held = b""  # the first bytes of a line that may yet turn out to be `error:`
    line_start = True  # the next piece (after `held`) begins a line
    for piece in pieces:
        if held:
            piece, held = held + piece, b""
        if _ERROR in piece:  # rare; this test is all most pieces cost
            if line_start and piece.startswith(_ERROR):
                piece = _ERROR_EVENT + piece[len(_ERROR) :]
            for end in (b"\n", b"\r"):  # a line after a CR LF starts after its LF
                piece = piece.replace(end + _ERROR, end + _ERROR_EVENT)
        last = max(piece.rfind(b"\n"), piece.rfind(b"\r")) + 1  # where its last line starts
        if last or line_start:  # that line starts in this piece
            tail = piece[last:]
            line_start = len(tail) < len(_ERROR) and _ERROR.startswith(tail)  # b"" included
            if line_start:
                piece, held = piece[:last], tail
        if piece:
            yield piece
    yield held + b"\n\n"


_raw_decode = json.JSONDecoder().raw_decode


def _decode(data: str) -> Any:
    """json.loads(data), or InvalidEvent. A payload is almost always exactly one JSON value, and
    raw_decode reads that in half json.loads's time (which first and last matches whitespace)."""
    try:
        value, end = _raw_decode(data)
        if end == len(data):
            return value
    except ValueError:
        pass
    try:  # surrounding whitespace, or not JSON
        return json.loads(data)
    except ValueError:
        return InvalidEvent(data)
