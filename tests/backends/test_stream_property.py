"""Property: however the network splits a valid stream, CloudflareBackend.events() sees the same,
and the reasoning and the answer come out as they were encoded: native tokens, OpenAI chunks
with reasoning apart, native text with inline `<think>…</think>` (explicit, or opened by the
chat template)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.servers.workers_ai import DEFAULT_MODEL, sse
from wai.backends.answers import events_from_response
from wai.backends.base import Event, Finish, Notice, ReasoningDelta, TextDelta, Usage
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


def backend() -> CloudflareBackend:
    return CloudflareBackend(
        BackendSettings(
            name="cloudflare", type="cloudflare", model=DEFAULT_MODEL, base_url=CLOUDFLARE_API_BASE
        ),
        RetryPolicy(),
    )


def response_of(chunks: list[bytes]) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=ChunkStream(chunks)
    )


def events_of(chunks: list[bytes]) -> list[Event]:
    return list(backend().events(response_of(chunks)))


def answer_events_of(chunks: list[bytes], *, thinking_opened: bool) -> list[Event]:
    response = response_of(chunks)
    return list(events_from_response(response, backend().error, thinking_opened=thinking_opened))


def split_anywhere(draw: st.DrawFn, body: bytes) -> list[bytes]:
    """`body` cut at any bytes: what the network may deliver in each read."""
    cuts = sorted(draw(st.sets(st.integers(1, len(body) - 1))))
    return [body[start:end] for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True)]


def texts_of(events: list[Event], kind: type[TextDelta | ReasoningDelta]) -> list[str]:
    return [event.text for event in events if isinstance(event, kind)]


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
    return Encoded(tokens, usage, body, split_anywhere(draw, body))


@settings(max_examples=300, deadline=None)
@given(streams())
def test_split_stream_decodes_like_the_whole_stream(stream: Encoded) -> None:
    assert b"".join(stream.chunks) == stream.body

    split = events_of(stream.chunks)
    whole = events_of([stream.body])

    assert split == whole
    texts = texts_of(split, TextDelta)
    assert "".join(texts) == "".join(stream.tokens)
    # Leading tokens that might have begun `<think>` (whitespace, `<t`) come out as one piece,
    # every later token as it came.
    tokens = [token for token in stream.tokens if token]
    merged = len(tokens) - len(texts) + 1
    assert texts == (["".join(tokens[:merged]), *tokens[merged:]] if tokens else [])
    assert not texts_of(split, ReasoningDelta)
    usages = [event for event in split if isinstance(event, Usage)]
    assert (usages[-1] if usages else None) == stream.usage
    assert not [event for event in split if isinstance(event, Notice)]
    assert split[-1] == Finish("stop")


@dataclass(frozen=True)
class EncodedAnswer:
    reasoning: str
    answer: str
    usage: Usage | None
    finish_reason: str
    body: bytes
    chunks: list[bytes]


def check_answer(stream: EncodedAnswer, *, thinking_opened: bool = False) -> list[Event]:
    """The events of the split stream, once checked against the whole stream and the encoding."""
    assert b"".join(stream.chunks) == stream.body

    split = answer_events_of(stream.chunks, thinking_opened=thinking_opened)
    whole = answer_events_of([stream.body], thinking_opened=thinking_opened)

    assert split == whole
    reasoning, texts = texts_of(split, ReasoningDelta), texts_of(split, TextDelta)
    assert "".join(reasoning) == stream.reasoning
    assert "".join(texts) == stream.answer
    assert all(reasoning) and all(texts)  # no empty pieces
    usages = [event for event in split if isinstance(event, Usage)]
    assert (usages[-1] if usages else None) == stream.usage
    assert not [event for event in split if isinstance(event, Notice)]
    assert split[-1] == Finish(stream.finish_reason)
    return split


FINISH_REASONS = {"stop": "stop", "length": "length", "model_length": "length"}


def usage_fields(usage: Usage) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.reasoning_tokens is not None:
        fields["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return fields


def no_think_tag_first(texts: list[str]) -> bool:
    return not "".join(texts).lstrip().startswith("<think>")


@st.composite
def openai_streams(draw: st.DrawFn) -> EncodedAnswer:
    """Chunks with reasoning (`reasoning_content`, or Nemotron's `reasoning`), then content, some
    chunks with both; cumulative usage on every chunk or none, a `delta: {}` chunk with the
    finish reason, the final `choices: []` chunk, maybe a late all-zero usage."""
    key = draw(st.sampled_from(["reasoning_content", "reasoning"]))
    reasoning = draw(st.lists(token_texts, max_size=8))
    content = draw(st.lists(token_texts, min_size=1, max_size=8).filter(no_think_tag_first))
    both = draw(st.integers(0, min(len(reasoning), len(content))))  # chunks that carry both
    alone = len(reasoning) - both
    deltas: list[dict[str, Any]] = [{key: text} for text in reasoning[:alone]]
    deltas += [
        {key: thought, "content": text}
        for thought, text in zip(reasoning[alone:], content[:both], strict=True)
    ]
    deltas += [{"content": text} for text in content[both:]]
    deltas[0] = {"role": "assistant", **deltas[0]}
    prompt = draw(st.integers(1, 10**4))
    cumulative = draw(st.booleans())
    events: list[dict[str, Any]] = []
    for completion, delta in enumerate(deltas, start=1):
        event: dict[str, Any] = {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        if cumulative:
            event["usage"] = usage_fields(Usage(prompt, completion, prompt + completion))
        events.append(event)
    reason = draw(st.sampled_from(sorted(FINISH_REASONS)))
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
    completion = len(deltas) + 1
    final = Usage(prompt, completion, prompt + completion, draw(st.none() | st.integers(0, 9)))
    events.append({"choices": [], "usage": usage_fields(final)})
    if draw(st.booleans()):
        events.append({"choices": [], "usage": usage_fields(Usage(0, 0, 0))})
    body = sse(
        *(json.dumps(event, ensure_ascii=False) for event in events),
        done=draw(st.booleans()),
        newline=draw(st.sampled_from(["\n", "\r\n"])),
    )
    return EncodedAnswer(
        "".join(reasoning),
        "".join(content),
        final,
        FINISH_REASONS[reason],
        body,
        split_anywhere(draw, body),
    )


@settings(max_examples=300, deadline=None)
@given(openai_streams())
def test_split_openai_stream_gives_the_reasoning_and_the_answer_apart(
    stream: EncodedAnswer,
) -> None:
    check_answer(stream)


# Text rich in what tags are made of, so that partial tags turn up.
tag_texts = st.lists(
    st.sampled_from(["<", "/", ">", "think", "th", "a", " ", "\n", "é", "🎉"]), max_size=16
).map("".join)


def tagless(text: str) -> bool:
    return "<think>" not in text and "</think>" not in text


@st.composite
def inline_thinking_streams(draw: st.DrawFn, *, opened: bool) -> EncodedAnswer:
    """Native tokens of `<think>reasoning</think>` then the answer, cut at any character: the
    opening tag explicit (after some whitespace) or, when `opened`, maybe left out; the closing
    tag maybe never sent (the stream ends inside the reasoning)."""
    reasoning = draw(tag_texts.filter(tagless))
    explicit = not opened or draw(st.booleans())
    text = reasoning
    if explicit:
        text = draw(st.sampled_from(["", "\n", " \n "])) + "<think>" + text
    answer = ""
    if draw(st.booleans()):  # closed
        answer = draw(tag_texts)
        text += "</think>" + draw(st.sampled_from(["", "\n\n", "\n"])) + answer
        answer = answer.lstrip()  # the whitespace before the answer is dropped
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)))))
    tokens = [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    events: list[dict[str, Any]] = [
        {"response": token, "p": draw(st.text("abcdefgh", max_size=8))} for token in tokens
    ]
    usage = draw(st.none() | st.builds(Usage, counts, counts, counts, st.none()))
    if usage is not None:
        events.append({"response": "", "usage": usage_fields(usage)})
    body = sse(
        *(json.dumps(event, ensure_ascii=False) for event in events),
        done=draw(st.booleans()),
        newline=draw(st.sampled_from(["\n", "\r\n"])),
    )
    return EncodedAnswer(reasoning, answer, usage, "stop", body, split_anywhere(draw, body))


@settings(max_examples=300, deadline=None)
@given(inline_thinking_streams(opened=False))
def test_split_native_stream_with_an_explicit_think_tag(stream: EncodedAnswer) -> None:
    events = check_answer(stream)

    kinds = [type(event) for event in events if isinstance(event, ReasoningDelta | TextDelta)]
    assert kinds == sorted(kinds, key=lambda kind: kind is TextDelta)  # reasoning first


@settings(max_examples=300, deadline=None)
@given(inline_thinking_streams(opened=True))
def test_split_native_stream_whose_template_opened_the_think_tag(stream: EncodedAnswer) -> None:
    events = check_answer(stream, thinking_opened=True)

    kinds = [type(event) for event in events if isinstance(event, ReasoningDelta | TextDelta)]
    assert kinds == sorted(kinds, key=lambda kind: kind is TextDelta)  # reasoning first
