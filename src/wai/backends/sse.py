"""The one place that turns an HTTP response body into decoded events."""

from __future__ import annotations

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

    httpx-sse's decoders parse complete lines only, so events split across reads at any byte,
    CRLF line ends and comment lines are handled there; a bare `[DONE]` line is a field they
    ignore. They are fed line by line (rather than through `EventSource`) to see llama.cpp's
    `error: {...}` lines, and to keep a last event that the stream ended without a blank line.
    """
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    lines = SSELineDecoder()
    events = SSEDecoder()

    def decoded(texts: Iterator[str]) -> Iterator[SSEPayload | None]:
        for text in texts:
            for line in lines.decode(text):
                if line.startswith("error:"):  # llama.cpp's server: `error: {"message": ...}`
                    yield SSEPayload("error", _decode(line[6:].strip()))
                    continue
                sse = events.decode(line)
                if sse is not None:
                    yield _payload(sse.event, sse.data)
        for line in [*lines.flush(), ""]:  # the end of the stream ends a pending event too
            sse = events.decode(line)
            if sse is not None:
                yield _payload(sse.event, sse.data)

    for payload in decoded(response.iter_text()):
        if payload is DONE:
            return
        if payload is not None:
            yield payload


DONE: Any = object()


def _payload(event: str, data: str) -> SSEPayload | None:
    if not data:
        return None
    if data.strip() == "[DONE]":
        return DONE
    return SSEPayload(event, _decode(data))


def _decode(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return InvalidEvent(data)
