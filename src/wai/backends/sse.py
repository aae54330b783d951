"""The one place that turns an HTTP response body into decoded events."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from wai.errors import BackendError

if TYPE_CHECKING:
    import httpx

BODY_EXTENSION = "wai.body"  # the transport's ResponseBody, in the response's extensions
MAX_EVENT = 16 << 20  # bytes: past this, one event is refused, not gathered in memory
TOO_LARGE = BackendError(
    f"the backend sent an event larger than {MAX_EVENT >> 20} MiB; wai stopped reading it",
    hint="what arrived before it is kept",
)


class InvalidEvent(NamedTuple):
    """An event whose data is not JSON; it is skipped with a warning."""

    data: str


class SSEPayload(NamedTuple):  # one per token: a tuple is the cheapest thing to build
    event: str
    data: Any  # the decoded JSON, or InvalidEvent


def is_event_stream(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower() == "text/event-stream"


def iter_payloads(response: httpx.Response, *, with_done: bool = False) -> Iterator[SSEPayload]:
    """Decoded `data:` payloads of an event stream up to the first `[DONE]` (or its end);
    `with_done` yields DONE for that `[DONE]`, so that a caller knows the stream ended with it.

    httpx-sse reads the events: `data:` lines joined, `event:` names, comments and unknown
    fields (a bare `[DONE]` among them) ignored, any line ends, events split across reads at any
    byte. It reads the body as `_as_sse` mends it.
    """
    import httpx
    from httpx_sse import EventSource

    # The transport's body (wai's own) counts read_timeout from the last event, not the last byte.
    body = response.extensions.get(BODY_EXTENSION)
    arrived: Callable[[], None] = getattr(body, "event_arrived", _nothing)
    arrived()
    mended = httpx.Response(  # the charset stays; iter_bytes has undone any Content-Encoding
        response.status_code,
        headers={"content-type": response.headers.get("content-type", "")},
        content=_as_sse(response.iter_bytes()),
    )
    for event in EventSource(mended).iter_sse():
        data = event.data
        if not data:  # no `data:` line: nothing to decode
            continue
        arrived()
        if data.strip() == "[DONE]":
            if with_done:
                yield DONE
            return
        yield SSEPayload(event.event, _decode(data))


def _nothing() -> None:
    return None


DONE = SSEPayload("", None)  # the last payload of a stream that ended with `[DONE]`


_ERROR = b"error:"
_ERROR_EVENT = b"event: error\ndata:"


def _as_sse(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The body with llama.cpp's two departures from SSE mended, read by read.

    llama.cpp's server sends a failure as a line `error: {...}`, a field SSE does not have (so
    httpx-sse drops it): the line becomes `event: error` + `data: {...}`. A line's first bytes
    are held back while they may yet become `error:`, so a read may end anywhere. And it may end
    the stream without the blank line that ends the last event (SSE drops such an event): one is
    added at the end.

    An event of more than MAX_EVENT bytes raises TOO_LARGE as soon as it passes that size.
    """
    size = 0  # the bytes since the last blank line (an event's end)
    previous = b""  # the last byte of the previous piece: a blank line may straddle two
    held = b""  # the first bytes of a line that may yet turn out to be `error:`
    line_start = True  # the next piece (after `held`) begins a line
    for piece in pieces:
        window = previous + piece
        end = max(window.rfind(b"\n\n"), window.rfind(b"\r\r"), window.rfind(b"\n\r"))
        size = size + len(piece) if end < 0 else len(window) - end - 2
        if size > MAX_EVENT:
            raise TOO_LARGE
        previous = piece[-1:]
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
    raw_decode reads that in half json.loads's time (which first and last matches whitespace).
    A lone surrogate (`"\\ud800"`, which no UTF-8 can carry) becomes U+FFFD."""
    try:
        value = _loads(data)
    except ValueError:
        return InvalidEvent(data)
    except RecursionError:
        raise BackendError("the backend sent an event nested too deeply to read") from None
    if "\\u" in data and _ESCAPED_SURROGATE.search(data):
        return without_surrogates(value)
    return value


def _loads(data: str) -> Any:
    try:
        value, end = _raw_decode(data)
        if end == len(data):
            return value
    except ValueError:
        pass
    return json.loads(data)  # surrounding whitespace, or not JSON


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys included) replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    return value
