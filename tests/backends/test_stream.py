"""The Workers AI stream end to end: the real server's bytes in, `wai ask --plain` stdout out.

Every ugly case Workers AI's streams show: padding, float neurons, events without `response`,
OpenAI-style chunks, split reads, CRLF, comments, missing/bare/second `[DONE]`, JSON envelopes
answering a streaming request, non-JSON events, multi-byte characters split mid-way.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import wai
from tests.servers.workers_ai import DEFAULT_MODEL, Reply, WorkersAIServer, envelope, sse

USAGE = {"prompt_tokens": 418, "completion_tokens": 41, "total_tokens": 459}
USAGE_LINE = "wai: usage: 418 prompt + 41 completion = 459 tokens\n"
CUT = "wai: the answer was cut at max_tokens (1024); raise --max-tokens\n"

# Workers AI's documented example stream, byte for byte.
NEW = b'data: {"response":"New"}\n\n'
YORK = b'data: {"response":" York"}\n\n'
USAGE_EVENT = (
    b'data: {"response":"","usage":{"prompt_tokens":418,"completion_tokens":41,'
    b'"total_tokens":459}}\n\n'
)
DONE = b"data: [DONE]\n\n"
NO_DONE = NEW + YORK + USAGE_EVENT
REFERENCE = NO_DONE + DONE


def chunk(**fields: Any) -> dict[str, Any]:
    """An OpenAI-style `chat.completion.chunk` with the given fields."""
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, **fields}


def delta(content: str | None, finish_reason: str | None = None) -> dict[str, Any]:
    part = {} if content is None else {"content": content}
    return chunk(choices=[{"index": 0, "delta": part, "finish_reason": finish_reason}])


OPENAI_STREAM = sse(
    delta("New"),
    delta(" York"),
    delta(None, finish_reason="length"),
    chunk(choices=[], usage=USAGE),
)

UNICODE_TOKENS = ("Grüße", " aus ", "東京", " — ", "🎉👍🏽", " ok")
UNICODE_STREAM = sse(
    *(json.dumps({"response": token}, ensure_ascii=False) for token in UNICODE_TOKENS),
    {"response": "", "usage": USAGE},
    newline="\r\n",
)
assert len(UNICODE_STREAM) > len(UNICODE_STREAM.decode())  # really multi-byte on the wire

STREAM_CASES = [
    pytest.param(Reply.stream(REFERENCE), "New York", id="reference-example"),
    pytest.param(
        Reply.stream(
            sse(
                {"response": "New", "p": "abdefgh"},
                {"response": " York", "p": "abdefghijklmnopqrstuvwxyz0123"},
                {"response": "", "usage": USAGE, "p": "ab"},
            )
        ),
        "New York",
        id="padding-p",
    ),
    pytest.param(
        Reply.stream(
            sse(
                {"response": "New"},
                {"response": " York"},
                {"response": "", "usage": {**USAGE, "neurons": 0.03891226}},
            )
        ),
        "New York",
        id="usage-float-neurons",
    ),
    pytest.param(
        Reply.stream(
            sse(
                {"response": "New"},
                {"tool_calls": [], "p": "abdefgh"},
                {"response": " York"},
                {"tool_calls": [], "p": "abdefgh"},
                {"response": "", "usage": USAGE},
            )
        ),
        "New York",
        id="events-without-response",
    ),
    pytest.param(Reply.stream(OPENAI_STREAM), "New York", id="openai-chunks"),  # cut: see below
    pytest.param(Reply.stream(REFERENCE, split=1), "New York", id="split-every-byte-lf"),
    pytest.param(
        Reply.stream(REFERENCE.replace(b"\n", b"\r\n"), split=1),
        "New York",
        id="split-every-byte-crlf",
    ),
    pytest.param(
        Reply.stream(
            b": keep-alive\n\n"
            + NEW
            + b": keep-alive\n"
            + YORK
            + b":\n\n"
            + USAGE_EVENT
            + b": keep-alive\n\n"
            + DONE,
            split=3,
        ),
        "New York",
        id="comment-lines",
    ),
    pytest.param(Reply.stream(NO_DONE), "New York", id="no-done"),
    pytest.param(Reply.stream(NO_DONE[:-2], split=5), "New York", id="no-blank-line-at-the-end"),
    pytest.param(Reply.stream(NO_DONE + b"[DONE]\n\n"), "New York", id="bare-done"),
    pytest.param(
        Reply.stream(
            REFERENCE
            + sse(
                {"response": " City", "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
                "not json after the end",
            )
        ),
        "New York",
        id="second-done",
    ),
    pytest.param(
        Reply.json(envelope({"response": "New York", "usage": USAGE})),
        "New York",
        id="json-envelope-response",
    ),
    pytest.param(
        Reply.json(
            envelope(
                {
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "New York"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": USAGE,
                }
            )
        ),
        "New York",
        id="json-envelope-choices",
    ),
    pytest.param(
        Reply.stream(UNICODE_STREAM, split=1), "".join(UNICODE_TOKENS), id="unicode-split-1"
    ),
]


@pytest.mark.parametrize(("reply", "stdout"), STREAM_CASES)
def test_stream_prints_exactly_the_text(server: WorkersAIServer, reply: Reply, stdout: str) -> None:
    server.enqueue(reply)

    run = wai("ask", "--plain", "-u", "hi")

    stderr = CUT + USAGE_LINE if reply.chunks == [OPENAI_STREAM] else USAGE_LINE
    assert (run.exit_code, run.stdout, run.stderr) == (0, stdout, stderr)
    assert len(server.run_requests) == 1
    assert server.last_body["stream"] is True
    assert server.last_body["messages"] == [{"role": "user", "content": "hi"}]


def test_openai_chunks_give_finish_reason_and_usage_to_json(server: WorkersAIServer) -> None:
    server.enqueue(Reply.stream(OPENAI_STREAM, split=7))

    run = wai("ask", "--json", "hi")

    assert (run.exit_code, run.stderr) == (0, CUT)
    assert run.stdout.endswith("}\n")
    assert run.stdout.count("\n") == 1
    document = json.loads(run.stdout)
    assert list(document) == [
        "response", "reasoning", "model", "backend", "usage", "finish_reason", "session"
    ]  # fmt: skip
    assert document["response"] == "New York"
    assert document["reasoning"] is None
    assert document["model"] == DEFAULT_MODEL
    assert document["backend"] == "cloudflare"
    assert document["usage"] == USAGE
    assert document["finish_reason"] == "length"
    # document["session"] depends on one-shot saving, which is not this file's subject.


@pytest.mark.parametrize(
    "result",
    [
        pytest.param({"response": "Paris, France.", "usage": USAGE}, id="response"),
        pytest.param(
            {
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Paris, France."},
                        "finish_reason": "stop",
                    }
                ],
                "usage": USAGE,
            },
            id="choices",
        ),
    ],
)
def test_no_stream_sends_stream_false_and_prints_the_envelope(
    server: WorkersAIServer, result: dict[str, Any]
) -> None:
    server.enqueue(Reply.json(envelope(result)))

    run = wai("ask", "--plain", "--no-stream", "-u", "hi")

    assert (run.exit_code, run.stdout, run.stderr) == (0, "Paris, France.", USAGE_LINE)
    assert len(server.run_requests) == 1
    assert server.last_body["stream"] is False
    assert "text/event-stream" not in server.run_requests[0].headers.get("Accept", "")


def test_event_that_is_not_json_is_skipped_with_one_warning(server: WorkersAIServer) -> None:
    server.enqueue(
        Reply.stream(
            sse(
                {"response": "New"},
                "{not json",
                {"response": " York"},
                {"response": "", "usage": USAGE},
            ),
            split=5,
        )
    )

    run = wai("ask", "--plain", "-u", "hi")

    assert (run.exit_code, run.stdout) == (0, "New York")
    assert run.stderr == (
        "wai: warning: skipped an event that is not JSON: '{not json'\n" + USAGE_LINE
    )


def test_empty_body_is_an_error_not_an_empty_answer(server: WorkersAIServer) -> None:
    server.enqueue(Reply(chunks=[]))

    run = wai("ask", "--plain", "hi")

    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        "wai: error: the backend sent an empty answer\n"
        "hint: try again; a local server does this when the prompt is longer than its context "
        "window\n"
    )
    assert len(server.run_requests) == 1
