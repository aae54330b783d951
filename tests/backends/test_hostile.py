"""Hostile servers, through the real CLI: malformed data is an error (never "unexpected …"), a
cut stream is never complete, read_timeout bounds the wait between events, redirects are not
followed, loopback skips proxies. And a property: the stream decoder lets out wai's errors only."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import wai
from tests.conversation.test_conversation import sessions_dir
from tests.servers.hostile import (
    HostileServer,
    Script,
    delayed,
    head,
    huge_line,
    pieces,
    trickle,
)
from wai.backends.answers import events_from_response
from wai.backends.http import RetryPolicy
from wai.backends.openai import OpenAIBackend
from wai.errors import WaiError
from wai.settings import BackendSettings

HINT_KEPT = "hint: what arrived is kept above; ask again to get a whole answer\n"


def event(data: dict[str, Any] | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"data: {text}\n\n".encode()


def token(text: str) -> bytes:
    return event({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})


FINISH = event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
DONE = b"data: [DONE]\n\n"


@pytest.fixture
def hostile(config_file: Path) -> Iterator[Any]:
    """Start a HostileServer with a script; the config points the `h` backend at it."""
    servers: list[HostileServer] = []

    def start(script: Script, **settings: Any) -> HostileServer:
        server = HostileServer(script).start()
        servers.append(server)
        config_file.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "backend": "h",
            "retry_backoff": 0,
            **settings,
            "backends": {"h": {"type": "openai", "base_url": server.base_url, "model": "m"}},
        }
        config_file.write_text(tomli_w.dumps(document))
        return server

    yield start
    for server in servers:
        server.stop()


def session(isolated: Path, name: str) -> list[dict[str, Any]]:
    document = json.loads((sessions_dir(isolated) / f"{name}.json").read_text(encoding="utf-8"))
    messages: list[dict[str, Any]] = document["messages"]
    return messages


def where(server: HostileServer) -> str:
    return f"the h server at {server.base_url}"


def outcome(run: Any) -> tuple[int, str, str]:
    return run.exit_code, run.stdout, run.stderr


# --- 6: malformed data ------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e999"])
def test_usage_counts_that_are_not_finite_are_ignored(hostile: Any, number: str) -> None:
    usage = f'{{"prompt_tokens": {number}, "completion_tokens": 2, "total_tokens": {number}}}'
    hostile(pieces(head(), token("Hi"), FINISH, event(f'{{"choices": [], "usage": {usage}}}')))
    run = wai("ask", "--plain", "--no-save", "hi")
    assert outcome(run) == (0, "Hi", "")  # no usage line: not a terminal


def test_json_nested_too_deeply_is_an_error_and_keeps_the_answer(hostile: Any) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    hostile(pieces(head(), token("Hi"), event(deep), FINISH, DONE))
    run = wai("ask", "--plain", "--no-save", "hi")
    assert outcome(run) == (
        1,
        "Hi",
        "wai: error: the backend sent an event nested too deeply to read\n",
    )


def test_a_json_answer_nested_too_deeply_is_an_error(hostile: Any) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    hostile(pieces(head(content_type="application/json"), deep))
    run = wai("ask", "--plain", "--no-save", "--no-stream", "hi")
    assert outcome(run) == (
        1,
        "",
        "wai: error: the backend sent an answer nested too deeply to read\n",
    )


def test_a_lone_surrogate_becomes_a_replacement_character(hostile: Any, isolated: Path) -> None:
    hostile(pieces(head(), event('{"choices": [{"delta": {"content": "a\\ud800b"}}]}'), DONE))
    run = wai("ask", "--plain", "--session", "s", "hi")
    assert outcome(run) == (0, "a\ufffdb", "")
    assert session(isolated, "s")[1]["content"] == "a\ufffdb"


def test_a_200_mb_line_is_refused_at_16_mib_and_the_answer_kept(
    hostile: Any, isolated: Path
) -> None:
    server = hostile(huge_line(head() + token("Hi"), 200 << 20))
    run = wai("ask", "--plain", "--session", "big", "hi")
    assert outcome(run) == (
        1,
        "Hi",
        "wai: error: the backend sent an event larger than 16 MiB; wai stopped reading it\n"
        "hint: what arrived before it is kept\n",
    )
    server.stop()
    assert server.sent < 64 << 20  # wai stopped reading: the server could send no more
    assert session(isolated, "big")[1]["content"] == "Hi"


# --- 8: a cut stream --------------------------------------------------------------------------


def test_a_close_delimited_stream_without_an_end_is_incomplete(
    hostile: Any, isolated: Path
) -> None:
    server = hostile(pieces(head(), token("Hel"), token("lo")))
    run = wai("ask", "--plain", "--session", "cut", "hi")
    assert outcome(run) == (
        4,
        "Hello",
        f"wai: error: the answer is incomplete: the connection to {where(server)} was cut off\n"
        f"{HINT_KEPT}",
    )
    assert session(isolated, "cut")[1]["meta"]["interrupted"] is True
    assert session(isolated, "cut")[1]["content"] == "Hello"


@pytest.mark.parametrize(
    "end", [pytest.param(DONE, id="done"), pytest.param(FINISH, id="finish-reason")]
)
def test_a_close_delimited_stream_with_an_end_is_complete(hostile: Any, end: bytes) -> None:
    hostile(pieces(head(), token("Hel"), token("lo"), end))
    assert outcome(wai("ask", "--plain", "--no-save", "hi")) == (0, "Hello", "")


def test_a_chunked_stream_that_ends_properly_without_done_is_complete(hostile: Any) -> None:
    body = token("Hel") + token("lo")
    hostile(pieces(head(chunked=True), b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)))
    assert outcome(wai("ask", "--plain", "--no-save", "hi")) == (0, "Hello", "")


# --- 9: read_timeout between events -----------------------------------------------------------


@pytest.mark.parametrize(
    "drip",
    [pytest.param(b":", id="one-byte"), pytest.param(b": ping\n\n", id="comments")],
)
def test_a_trickle_without_events_times_out(hostile: Any, drip: bytes) -> None:
    server = hostile(trickle(head() + token("Hi"), drip, 0.2), read_timeout=1)
    run = wai("ask", "--plain", "--no-save", "hi")
    assert outcome(run) == (
        4,
        "Hi",
        f"wai: error: the answer is incomplete: {where(server)} sent no event for 1 s\n{HINT_KEPT}",
    )


# --- 11a, 11g: redirects, proxies ----------------------------------------------------------------


def test_a_redirect_is_an_error_naming_its_location(hostile: Any) -> None:
    location = "https://elsewhere.example/v1/chat/completions"
    server = hostile(pieces(head("302 Found", "text/plain", extra=f"Location: {location}\r\n")))
    run = wai("ask", "--plain", "--no-save", "hi")
    assert outcome(run) == (
        1,
        "",
        f"wai: error: {where(server)} answered 302 Found, a redirect to {location}; wai "
        "does not follow redirects\nhint: point base_url at the address it names, if you trust "
        "it\n",
    )
    assert len(server.requests) == 1


@pytest.mark.parametrize("proxy", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_loopback_base_url_skips_the_proxy(hostile: Any, closed_port: int, proxy: str) -> None:
    hostile(pieces(head(), token("Hello"), DONE))
    run = wai("ask", "--plain", "--no-save", "hi", env={proxy: f"http://127.0.0.1:{closed_port}"})
    assert outcome(run) == (0, "Hello", "")


# --- the decoder lets out wai's own errors only -------------------------------------------------


class Chunks(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks


def backend() -> OpenAIBackend:
    return OpenAIBackend(
        BackendSettings(name="h", type="openai", model="m", base_url="http://127.0.0.1:1/v1"),
        RetryPolicy(),
    )


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.floats() | st.integers() | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )


def shaped() -> st.SearchStrategy[Any]:
    """JSON shaped like answers, with anything in their fields."""
    value = json_values()
    return st.one_of(
        value,
        st.fixed_dictionaries({"response": value}, optional={"usage": value, "error": value}),
        st.fixed_dictionaries(
            {"choices": st.lists(st.fixed_dictionaries({"delta": value}), max_size=2)},
            optional={"usage": value, "finish_reason": value},
        ),
        st.fixed_dictionaries(
            {"result": value}, optional={"errors": value, "success": value, "output": value}
        ),
    )


def decoded(body: bytes, content_type: str) -> None:
    response = httpx.Response(200, headers={"content-type": content_type}, stream=Chunks([body]))
    with contextlib.suppress(WaiError):
        list(events_from_response(response, backend().error))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["text/event-stream", "application/json"]))
def test_any_bytes_give_events_or_wais_errors(body: bytes, content_type: str) -> None:
    decoded(body, content_type)


@settings(max_examples=300, deadline=None)
@given(st.lists(shaped(), min_size=1, max_size=4), st.booleans())
def test_any_json_gives_events_or_wais_errors(values: list[Any], stream: bool) -> None:
    if stream:
        body = b"".join(event(json.dumps(value)) for value in values)
        decoded(body, "text/event-stream")
    else:
        decoded(json.dumps(values[0]).encode(), "application/json")


# --- 9: connect_timeout bounds the wait for a streamed answer's response --------------------


def test_a_server_that_never_answers_a_streamed_request_times_out_at_connect_timeout(
    hostile: Any,
) -> None:
    server = hostile(trickle(b"", b"", 0.2), connect_timeout=1, read_timeout=60, retries=0)
    run = wai("ask", "--plain", "--no-save", "hi")
    assert outcome(run) == (
        4,
        "",
        f"wai: error: {where(server)} sent no response within 1 s\n"
        "hint: the server may be overloaded; raise connect_timeout with "
        "`wai config set connect_timeout SECONDS`\n",
    )


def test_a_whole_answer_may_take_longer_than_connect_timeout(hostile: Any) -> None:
    body = b'{"choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]}'
    late = head(content_type="application/json", extra=f"Content-Length: {len(body)}\r\n")
    server = hostile(delayed(late + body, 1.5), connect_timeout=1, read_timeout=60, retries=0)
    run = wai("ask", "--plain", "--no-save", "--no-stream", "hi")
    assert outcome(run) == (0, "Hi", "")
    assert len(server.requests) == 1
