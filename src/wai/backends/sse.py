"""The one place that turns an HTTP response body into decoded events."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
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
    """Decoded `data:` payloads up to the first `[DONE]` (or the end of the stream).

    httpx-sse's line decoder splits the text into complete lines (so events split across reads
    at any byte and CR or CRLF line ends are handled there); the fields are read here, one test
    per line, as its event decoder reads them: `data:` lines joined with newlines, `event:`
    names the event, comments and other fields (a bare `[DONE]` among them) are ignored, and a
    blank line or the end of the stream ends an event. llama.cpp's `error: {...}` lines are
    errors.
    """
    from httpx_sse._decoders import SSELineDecoder

    decoder = SSELineDecoder()
    event, data = "", []
    for text in itertools.chain(response.iter_text(), [None]):  # None: the end
        lines = decoder.decode(text) if text is not None else [*decoder.flush(), ""]
        for line in lines:
            if not line:
                if data:
                    payload = "\n".join(data) if len(data) > 1 else data[0]
                    if payload.strip() == "[DONE]":
                        return
                    if payload:
                        yield SSEPayload(event or "message", _decode(payload))
                    data = []
                event = ""
            elif line.startswith("data:"):
                data.append(line[6:] if line[5:6] == " " else line[5:])
            elif line == "data":  # a field without a colon has an empty value
                data.append("")
            elif line.startswith("error:"):  # llama.cpp's server: `error: {"message": ...}`
                yield SSEPayload("error", _decode(line[6:].strip()))
            elif line.startswith("event:"):
                event = line[7:] if line[6:7] == " " else line[6:]


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
