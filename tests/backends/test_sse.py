"""Events from an SSE body split at any byte (llama.cpp's `error:` lines included), and payload
decoding: exactly json.loads, or an InvalidEvent."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wai.backends.sse import InvalidEvent, SSEPayload, _decode, iter_payloads

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@given(JSON, st.sampled_from(["", " ", "\n", "\t \r\n"]), st.sampled_from(["", " ", "\r\n"]))
def test_any_json_value_with_surrounding_whitespace_decodes_as_json_loads(
    value: object, before: str, after: str
) -> None:
    text = before + json.dumps(value) + after
    assert _decode(text) == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": 1} x', '{"a": 1}{"b": 2}', "[DONE", "\ufeff{}", "", "nan"])
def test_anything_else_is_an_invalid_event(text: str) -> None:
    assert _decode(text) == InvalidEvent(text)


class Reads(httpx.SyncByteStream):
    """A response body that arrives in exactly these reads."""

    def __init__(self, reads: list[bytes]) -> None:
        self.reads = reads

    def __iter__(self) -> Iterator[bytes]:
        yield from self.reads


def payloads(*reads: bytes) -> list[SSEPayload]:
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=Reads(list(reads))
    )
    return list(iter_payloads(response))


def every_split(body: bytes) -> list[list[bytes]]:
    return [[body[:cut], body[cut:]] for cut in range(1, len(body))]


A, B = SSEPayload("message", {"a": 1}), SSEPayload("message", {"b": 2})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b'data: {"a": 1}\n\ndata: {"b": 2}\n\n', [A, B], id="two events"),
        pytest.param(b'data: {"a":\ndata: 1}\n\n', [A], id="data lines joined"),
        pytest.param(b'data:{"a": 1}\n\n', [A], id="no space after the colon"),
        pytest.param(b'data: {"a": 1}\r\n\r\ndata: {"b": 2}\r\r', [A, B], id="CRLF and CR"),
        pytest.param(
            b': ping\n\n: keep-alive\ndata: {"a": 1}\nid: 7\nretry: 5\n\n', [A], id="comments"
        ),
        pytest.param(
            b'event: update\ndata: {"a": 1}\n\ndata: {"b": 2}\n\n',
            [SSEPayload("update", {"a": 1}), B],
            id="event name, for one event",
        ),
        pytest.param(b'data: {"a": 1}', [A], id="no blank line at the end"),
        pytest.param(b'data: {"a": 1}\r\n', [A], id="no blank line at the end, CRLF"),
        pytest.param(b'data: {"a": 1}\r', [A], id="no blank line at the end, CR"),
        pytest.param(b'data: {"a": 1}\n\ndata: [DONE]\n\ndata: {"b": 2}\n\n', [A], id="[DONE]"),
        pytest.param(b'data: {"a": 1}\n\n[DONE]\n\ndata: {"b": 2}\n\n', [A, B], id="bare [DONE]"),
        pytest.param(b"event: ping\n\ndata\n\n", [], id="events without data"),
        pytest.param(
            b'data: {"a": 1}\n\ndata: {not json\n\n',
            [A, SSEPayload("message", InvalidEvent("{not json"))],
            id="not JSON",
        ),
        pytest.param(
            b'error: {"message": "boom"}\n\n',
            [SSEPayload("error", {"message": "boom"})],
            id="llama.cpp error line",
        ),
        pytest.param(
            b'data: {"a": 1}\r\n\r\nerror: {"message": "boom"}\r\n\r\ndata: [DONE]\r\n\r\n',
            [A, SSEPayload("error", {"message": "boom"})],
            id="llama.cpp error line after an event, CRLF",
        ),
        pytest.param(
            b'data: {"a": 1}\n\nerror: {"message": "boom"}',
            [A, SSEPayload("error", {"message": "boom"})],
            id="llama.cpp error line at the very end",
        ),
        pytest.param(
            b"data: error: {}\n\nerrors: {}\n\n",
            [SSEPayload("message", InvalidEvent("error: {}"))],
            id="error: elsewhere than a line's start",
        ),
        pytest.param(
            '{"response": "a\u2028b\u2029c\x85d"}'.join(["data: ", "\n\n"]).encode(),
            [SSEPayload("message", {"response": "a\u2028b\u2029c\x85d"})],
            id="Unicode line separators are not SSE line ends",
        ),
    ],
)
def test_events_split_at_any_byte_give_the_payloads(
    body: bytes, expected: list[SSEPayload]
) -> None:
    assert payloads(body) == expected
    for reads in every_split(body):
        assert payloads(*reads) == expected, reads
    assert payloads(*(body[i : i + 1] for i in range(len(body)))) == expected


LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[SSEPayload]]:
    """A body of data events and llama.cpp error lines, and what it should decode to."""
    parts: list[str] = []
    expected: list[SSEPayload] = []
    for _ in range(draw(st.integers(0, 6))):
        end = draw(LINE_ENDS)
        value = draw(JSON)
        if draw(st.booleans()):
            parts.append(f"error: {json.dumps(value, ensure_ascii=False)}{end}{end}")
            expected.append(SSEPayload("error", value))
        else:
            parts.append(f"data: {json.dumps(value, ensure_ascii=False)}{end}{end}")
            expected.append(SSEPayload("message", value))
        if draw(st.booleans()):
            parts.append(f": a comment{draw(LINE_ENDS)}")
    return "".join(parts).encode(), expected


@settings(max_examples=300)
@given(streams(), st.lists(st.integers(min_value=0), max_size=12))
def test_any_split_of_a_stream_gives_the_same_payloads(
    stream: tuple[bytes, list[SSEPayload]], cuts: list[int]
) -> None:
    body, expected = stream
    points = sorted({cut % (len(body) + 1) for cut in cuts})
    reads = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert payloads(*reads) == expected
