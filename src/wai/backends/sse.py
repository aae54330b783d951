"""The one place that turns an HTTP response body into decoded events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class InvalidEvent:
    """An event whose data is not JSON; it is skipped with a warning."""

    data: str


@dataclass(frozen=True)
class SSEPayload:
    event: str
    data: Any  # the decoded JSON, or InvalidEvent


def is_event_stream(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower() == "text/event-stream"


def iter_payloads(response: httpx.Response) -> Iterator[SSEPayload]:
    """Decoded `data:` payloads up to the first `[DONE]` (or the end of the stream).

    httpx-sse parses complete lines only, so events split across reads at any byte, CRLF line
    ends and comment lines are handled there; a bare `[DONE]` line is a field it ignores.
    """
    from httpx_sse import EventSource

    for sse in EventSource(response).iter_sse():
        data = sse.data
        if not data:
            continue
        if data.strip() == "[DONE]":
            return
        try:
            payload = json.loads(data)
        except ValueError:
            payload = InvalidEvent(data)
        yield SSEPayload(sse.event, payload)
