"""Property: however the network splits a valid stream, CloudflareBackend.events() sees the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.servers.workers_ai import DEFAULT_MODEL, sse
from wai.backends.base import Event, Finish, Notice, TextDelta, Usage
from wai.backends.cloudflare import CloudflareBackend
from wai.backends.http import RetryPolicy
from wai.settings import CLOUDFLARE_API_BASE, BackendSettings


class ChunkStream(httpx.SyncByteStream):
    """A response body that arrives in exactly these reads."""

    def __init__(self, chunks: list[bytes]):
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks


@dataclass(frozen=True)
class Encoded:
    tokens: list[str]
    usage: Usage | None
    body: bytes
    chunks: list[bytes]


def events_of(chunks: list[bytes]) -> list[Event]:
    backend = CloudflareBackend(
        BackendSettings(
            name="cloudflare", type="cloudflare", model=DEFAULT_MODEL, base_url=CLOUDFLARE_API_BASE
        ),
        RetryPolicy(),
    )
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=ChunkStream(chunks)
    )
    return list(backend.events(response))


token_texts = st.text(st.characters(codec="utf-8"), max_size=6)
counts = st.integers(min_value=0, max_value=10**6)


@st.composite
def streams(draw: st.DrawFn) -> Encoded:
    tokens = draw(st.lists(token_texts, min_size=1, max_size=10))
    events: list[dict[str, Any]] = [
        {"response": token, "p": draw(st.text("abcdefghijklmnop", max_size=12))} for token in tokens
    ]
    usage = draw(st.none() | st.builds(Usage, counts, counts, counts, st.none()))
    if usage is not None:
        fields: dict[str, Any] = usage.as_dict()
        if draw(st.booleans()):
            fields["neurons"] = draw(st.floats(0, 1000, allow_nan=False))
        events.append({"response": "", "usage": fields})
    body = sse(
        *(json.dumps(event, ensure_ascii=False) for event in events),  # raw UTF-8 on the wire
        done=draw(st.booleans()),
        newline=draw(st.sampled_from(["\n", "\r\n"])),
    )
    cuts = sorted(draw(st.sets(st.integers(1, len(body) - 1))))
    chunks = [body[start:end] for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    return Encoded(tokens, usage, body, chunks)


@settings(max_examples=300, deadline=None)
@given(streams())
def test_split_stream_decodes_like_the_whole_stream(stream: Encoded) -> None:
    assert b"".join(stream.chunks) == stream.body

    split = events_of(stream.chunks)
    whole = events_of([stream.body])

    assert split == whole
    texts = [event.text for event in split if isinstance(event, TextDelta)]
    assert texts == [token for token in stream.tokens if token]
    assert "".join(texts) == "".join(stream.tokens)
    usages = [event for event in split if isinstance(event, Usage)]
    assert (usages[-1] if usages else None) == stream.usage
    assert not [event for event in split if isinstance(event, Notice)]
    assert split[-1] == Finish("stop")
