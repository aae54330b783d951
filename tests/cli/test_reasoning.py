"""Reasoning models end to end through the real CLI: the answer alone on stdout, the reasoning in
`--json` and in the session's meta (never sent back), gpt-oss through Workers AI's
OpenAI-compatible endpoint, a JSON answer without text asked again, cut and empty answers,
reasoning tokens in `-u`, local servers that reason, and `--reasoning` with its config key."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.backends.test_openai import chat_body, use_server, user
from tests.conftest import wai_process
from tests.conversation.test_conversation import saved, sessions_dir
from tests.servers import models_2026 as m
from tests.servers.openai_compat import MODELS, OpenAIServer, inline_think_tokens
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_MODEL,
    GLM_47_FLASH,
    GPT_OSS_120B,
    LLAMA4_SCOUT,
    NEMOTRON_3,
    QWEN3_30B,
    R1_DISTILL,
    V1_PATH,
    Reply,
    WorkersAIServer,
    envelope,
    sse,
)

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
REASONING_ROOM = 16_384  # a reasoning model's max_tokens when none is chosen
DEFAULT_ROOM = 1024
JSON_KEYS = ["response", "reasoning", "model", "backend", "usage", "finish_reason", "session"]
STREAMING = {"stream": True, "stream_options": {"include_usage": True}}
RETRY_V1 = (
    "wai: the model answered a streamed request with JSON and no text; asking again through "
    "Workers AI's OpenAI-compatible endpoint\n"
)
RETRY_WHOLE = (
    "wai: the model answered a streamed request with JSON and no text; asking again without "
    "streaming\n"
)
EMPTY = "wai: error: the model sent an empty answer\nhint: ask again, or raise --max-tokens\n"
NO_ANSWER = (
    "wai: error: the model sent its reasoning but no answer\n"
    "hint: ask again, or raise --max-tokens\n"
)
LOCAL = MODELS[0]  # the local server's first listed model: the one wai picks


# --- helpers ---------------------------------------------------------------------------------


def usage(prompt: int, completion: int, total: int, reasoning: int | None = None) -> dict:
    """A usage as wai reports and saves it: its key order, `reasoning_tokens` only when sent."""
    counts = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
    return counts if reasoning is None else {**counts, "reasoning_tokens": reasoning}


def cut_while_reasoning(max_tokens: int) -> str:
    return (
        f"wai: error: the answer was cut at max_tokens ({max_tokens}) while the model was still "
        "reasoning\nhint: raise --max-tokens\n"
    )


def cut_notice(max_tokens: int) -> str:
    return f"wai: the answer was cut at max_tokens ({max_tokens}); raise --max-tokens\n"


def ask(*args: str) -> subprocess.CompletedProcess[bytes]:
    """`wai ask ARGS` as a real process, stdout and stderr on pipes."""
    return wai_process("ask", *args)


def outcome(done: subprocess.CompletedProcess[bytes]) -> tuple[int, bytes, bytes]:
    return done.returncode, done.stdout, done.stderr


def answered(text: str, stderr: str = "") -> tuple[int, bytes, bytes]:
    return 0, text.encode(), stderr.encode()


def failed(stderr: str, code: int = 1) -> tuple[int, bytes, bytes]:
    return code, b"", stderr.encode()


def json_line(
    response: str,
    reasoning: str | None,
    model: str,
    counts: dict | None,
    session: str | None,
    *,
    finish_reason: str = "stop",
    backend: str = "cloudflare",
) -> bytes:
    """The exact line `--json` prints (its keys in this order)."""
    document = dict(
        zip(
            JSON_KEYS,
            (response, reasoning, model, backend, counts, finish_reason, session),
            strict=True,
        )
    )
    return (json.dumps(document, ensure_ascii=False) + "\n").encode()


def run_path(model: str) -> str:
    return f"/client/v4/accounts/{ACCOUNT}/ai/run/{model}"


def run_body(*messages: dict, max_tokens: int, stream: bool = True) -> dict:
    return {"messages": list(messages), "stream": stream, "max_tokens": max_tokens}


def v1_body(model: str, *messages: dict, max_tokens: int) -> dict:
    return {"model": model, "messages": list(messages), **STREAMING, "max_tokens": max_tokens}


def raw_body(prompt: str, *, stream: bool, max_tokens: int) -> dict:
    return {"prompt": prompt, "raw": True, "stream": stream, "max_tokens": max_tokens}


def assistant(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


def assert_sent(server: WorkersAIServer | OpenAIServer, *expected: tuple[str, dict]) -> None:
    """Exactly these POSTs (path, body), in this order, each body's keys in the given order."""
    posts = [(r.path, r.body) for r in server.requests if r.method == "POST"]
    assert posts == list(expected)
    assert [list(body) for _, body in posts] == [list(body) for _, body in expected]


def session_file(isolated: Path, name: str) -> dict[str, Any]:
    """The saved session, its timestamps checked and taken out (a message's meta keeps the rest)."""
    document = json.loads((sessions_dir(isolated) / f"{name}.json").read_text(encoding="utf-8"))
    for key in ("created", "updated"):
        assert STAMP.fullmatch(document.pop(key)), document
    assert re.fullmatch(r"ses_[0-9a-f]{16}", document.pop("affinity")), document
    for message in document["messages"]:
        assert STAMP.fullmatch(message["meta"].pop("time")), message
    return document


def session(
    name: str, model: str, *messages: dict, backend: str = "cloudflare", params: dict | None = None
) -> dict[str, Any]:
    """A session document as `session_file` returns it."""
    return {
        "format": "wai.session/1",
        "name": name,
        "backend": backend,
        "model": model,
        "params": params or {},
        "messages": list(messages),
    }


def asked(prompt: str) -> dict[str, Any]:
    return {"role": "user", "content": prompt, "meta": {}}


def answer_message(
    text: str,
    model: str,
    counts: dict | None,
    reasoning: str | None = None,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """A saved answer: its meta holds the model, the last usage, the reasoning, and the finish
    reason when it was not "stop"."""
    meta: dict[str, Any] = {"model": model}
    if counts is not None:
        meta["usage"] = counts
    if reasoning is not None:
        meta["reasoning"] = reasoning
    if finish_reason is not None:
        meta["finish_reason"] = finish_reason
    return {"role": "assistant", "content": text, "meta": meta}


def stream_of(events: list[dict[str, Any]]) -> Reply:
    return Reply.stream(m.stream_body(events))


# --- every Workers AI shape ------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """How one model answers on Workers AI, and what wai makes of it."""

    model: str
    answer: str
    reasoning: str | None
    counts: dict[str, int]  # the usage wai keeps (the last real one)
    max_tokens: int
    events: tuple[dict[str, Any], ...] = ()  # a scripted first answer; none: the server's own
    v1: bool = False  # streamed through /ai/v1/chat/completions

    def script(self, server: WorkersAIServer) -> None:
        if self.events:
            server.enqueue(stream_of(list(self.events)))

    def request(self, *messages: dict) -> tuple[str, dict]:
        """The (path, body) wai sends this model for `messages`."""
        if self.v1:
            return V1_PATH, v1_body(self.model, *messages, max_tokens=self.max_tokens)
        return run_path(self.model), run_body(*messages, max_tokens=self.max_tokens)


CHUNKS_USAGE = usage(m.REASONING_PROMPT_TOKENS, 5, m.REASONING_PROMPT_TOKENS + 5)
THINK_USAGE = usage(9, 31, 40)
GPT_OSS_ANSWER = "The answer is 42"
GPT_OSS_REASONING = "Let me think step by step"
# The text between the tags, without the line breaks around it (`<think>\n…\n</think>`).
THOUGHT = "Okay, the user wants a number."

SHAPES = [
    pytest.param(
        Shape(QWEN3_30B, "A **cow** is", "Okay, the", CHUNKS_USAGE, REASONING_ROOM),
        id="qwen3-reasoning_content",
    ),
    pytest.param(
        Shape(GLM_47_FLASH, "A **cow** is", "Okay, the", CHUNKS_USAGE, REASONING_ROOM),
        id="glm-reasoning_content",
    ),
    pytest.param(
        Shape(NEMOTRON_3, "A **cow** is", "Okay, the", CHUNKS_USAGE, REASONING_ROOM),
        id="nemotron-delta.reasoning",
    ),
    pytest.param(
        Shape(R1_DISTILL, "42", THOUGHT, THINK_USAGE, REASONING_ROOM),
        id="r1-distill-no-opening-tag",
    ),
    pytest.param(
        Shape(
            R1_DISTILL,
            "42",
            THOUGHT,
            THINK_USAGE,
            REASONING_ROOM,
            tuple(m.think_events(opening=True)),
        ),
        id="r1-distill-opening-tag-too",
    ),
    pytest.param(
        Shape(
            DEFAULT_MODEL,
            "42",
            THOUGHT,
            THINK_USAGE,
            DEFAULT_ROOM,
            tuple(m.think_events(opening=True)),
        ),
        id="explicit-think-tags-native-model",
    ),
    pytest.param(
        Shape(LLAMA4_SCOUT, "Hello! I am Llama 4 Scout", None, usage(42, 23, 65), DEFAULT_ROOM),
        id="llama4-scout-padding",
    ),
    pytest.param(
        Shape(
            GPT_OSS_120B,
            GPT_OSS_ANSWER,
            GPT_OSS_REASONING,
            usage(136, 37, 173),
            REASONING_ROOM,
            v1=True,
        ),
        id="gpt-oss-v1-chunks",
    ),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_pipe_gets_the_answer_alone(server: WorkersAIServer, shape: Shape) -> None:
    shape.script(server)

    done = ask("-m", shape.model, "What is it?")

    assert outcome(done) == answered(shape.answer)
    assert_sent(server, shape.request(user("What is it?")))


@pytest.mark.parametrize("shape", SHAPES)
def test_json_has_the_reasoning_apart(server: WorkersAIServer, shape: Shape) -> None:
    shape.script(server)

    done = ask("--json", "-m", shape.model, "--session", "doc", "What is it?")

    line = json_line(shape.answer, shape.reasoning, shape.model, shape.counts, "doc")
    assert outcome(done) == (0, line, b"")
    assert list(json.loads(done.stdout)) == JSON_KEYS


@pytest.mark.parametrize("shape", SHAPES)
def test_the_session_keeps_the_reasoning_and_never_sends_it_back(
    server: WorkersAIServer, isolated: Path, shape: Shape
) -> None:
    shape.script(server)

    first = ask("-m", shape.model, "--session", "talk", "What is it?")

    assert outcome(first) == answered(shape.answer)
    assert session_file(isolated, "talk") == session(
        "talk",
        shape.model,
        asked("What is it?"),
        answer_message(shape.answer, shape.model, shape.counts, shape.reasoning),
    )

    second = ask("--session", "talk", "Why?")

    assert second.returncode == 0, second.stderr
    assert_sent(
        server,
        shape.request(user("What is it?")),
        shape.request(user("What is it?"), assistant(shape.answer), user("Why?")),
    )


@pytest.mark.parametrize(
    "shape", [p for p in SHAPES if p.id in ("r1-distill-no-opening-tag", "gpt-oss-v1-chunks")]
)
def test_continue_sends_no_reasoning_back(
    server: WorkersAIServer, isolated: Path, shape: Shape
) -> None:
    shape.script(server)
    assert outcome(ask("-m", shape.model, "What is it?")) == answered(shape.answer)

    done = ask("-c", "Why?")

    assert done.returncode == 0, done.stderr
    assert_sent(
        server,
        shape.request(user("What is it?")),
        shape.request(user("What is it?"), assistant(shape.answer), user("Why?")),
    )
    [name] = saved(isolated)
    messages = session_file(isolated, name.removesuffix(".json"))["messages"]
    assert [message["content"] for message in messages] == [
        "What is it?", shape.answer, "Why?", shape.answer
    ]  # fmt: skip


def test_a_zero_usage_after_the_real_one_never_wins(
    server: WorkersAIServer, isolated: Path
) -> None:
    zero = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    events = m.reasoning_chunks(model=QWEN3_30B)
    events.append({**events[-1], "usage": zero})
    server.enqueue(stream_of(events))

    done = ask("--json", "-m", QWEN3_30B, "--session", "zero", "-u", "What is it?")

    assert outcome(done) == (
        0,
        json_line("A **cow** is", "Okay, the", QWEN3_30B, CHUNKS_USAGE, "zero"),
        b"wai: usage: 13 prompt + 5 completion = 18 tokens\n",
    )
    assert session_file(isolated, "zero")["messages"][1]["meta"]["usage"] == CHUNKS_USAGE


# --- gpt-oss ---------------------------------------------------------------------------------


def test_gpt_oss_streams_through_the_openai_compatible_endpoint(server: WorkersAIServer) -> None:
    done = ask("-m", GPT_OSS_120B, "hi")

    assert outcome(done) == answered(GPT_OSS_ANSWER)
    [request] = server.requests
    assert request.path == V1_PATH
    assert request.headers["Accept"] == "text/event-stream"
    assert json.dumps(request.body) == json.dumps(
        {
            "model": GPT_OSS_120B,
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 16384,
        }
    )
    assert server.run_requests == []


def test_gpt_oss_show_request_is_a_curl_to_that_endpoint(server: WorkersAIServer) -> None:
    done = ask("--show-request", "-m", GPT_OSS_120B, "hi")

    url = f"{server.base_url}/accounts/{ACCOUNT}/ai/v1/chat/completions"
    body = (
        f'{{"model": "{GPT_OSS_120B}", "messages": [{{"role": "user", "content": "hi"}}], '
        '"stream": true, "stream_options": {"include_usage": true}, "max_tokens": 16384}'
    )
    assert outcome(done) == answered(
        f"curl -sN -X POST {url} \\\n"
        "  -H 'Authorization: Bearer '\"$CLOUDFLARE_API_TOKEN\" \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        "  -H 'Accept: text/event-stream' \\\n"
        f"  -d '{body}'\n"
    )
    assert server.requests == []


def test_gpt_oss_through_the_gateway(server: WorkersAIServer, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        f'[backends.cloudflare]\ngateway = "g"\ngateway_base_url = "{server.gateway_base_url}"\n'
    )

    done = ask("-m", GPT_OSS_120B, "hi")

    assert outcome(done) == answered(GPT_OSS_ANSWER)
    assert_sent(
        server,
        (
            f"/gateway/v1/{ACCOUNT}/g/workers-ai/v1/chat/completions",
            v1_body(GPT_OSS_120B, user("hi"), max_tokens=REASONING_ROOM),
        ),
    )


def test_gpt_oss_no_stream_asks_ai_run_and_renders_the_chat_completion(
    server: WorkersAIServer, isolated: Path
) -> None:
    done = ask("--no-stream", "--json", "-m", GPT_OSS_120B, "--session", "whole", "hi")

    assert outcome(done) == (
        0,
        json_line(GPT_OSS_ANSWER, GPT_OSS_REASONING, GPT_OSS_120B, usage(1, 2, 3), "whole"),
        b"",
    )
    assert_sent(
        server,
        (run_path(GPT_OSS_120B), run_body(user("hi"), max_tokens=REASONING_ROOM, stream=False)),
    )
    assert "text/event-stream" not in server.requests[0].headers.get("Accept", "")
    assert session_file(isolated, "whole")["messages"][1] == answer_message(
        GPT_OSS_ANSWER, GPT_OSS_120B, usage(1, 2, 3), GPT_OSS_REASONING
    )


def test_gpt_oss_no_stream_plain(server: WorkersAIServer) -> None:
    done = ask("--no-stream", "-m", GPT_OSS_120B, "hi")

    assert outcome(done) == answered(GPT_OSS_ANSWER)


def test_gpt_oss_raw_prompt_is_asked_again_without_streaming(server: WorkersAIServer) -> None:
    done = ask("--raw", "-m", GPT_OSS_120B, "hi")

    assert outcome(done) == answered(GPT_OSS_ANSWER, RETRY_WHOLE)
    assert_sent(
        server,
        (run_path(GPT_OSS_120B), raw_body("hi", stream=True, max_tokens=REASONING_ROOM)),
        (run_path(GPT_OSS_120B), raw_body("hi", stream=False, max_tokens=REASONING_ROOM)),
    )


# --- a JSON answer to a streamed request -----------------------------------------------------

HELLO = "Hello, world!"
HELLO_USAGE = usage(12, 4, 16)


def test_json_without_text_is_asked_again_through_the_openai_compatible_endpoint(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.enqueue(Reply.json(m.empty_result()))

    done = ask("--json", "-m", DEFAULT_MODEL, "--session", "again", "hi")

    assert outcome(done) == (
        0,
        json_line(HELLO, None, DEFAULT_MODEL, HELLO_USAGE, "again"),
        RETRY_V1.encode(),
    )
    assert_sent(
        server,
        (run_path(DEFAULT_MODEL), run_body(user("hi"), max_tokens=DEFAULT_ROOM)),
        (V1_PATH, v1_body(DEFAULT_MODEL, user("hi"), max_tokens=DEFAULT_ROOM)),
    )
    # The v1 stream's second final chunk counts zero: the real usage before it is kept.
    assert session_file(isolated, "again")["messages"][1] == answer_message(
        HELLO, DEFAULT_MODEL, HELLO_USAGE
    )


def test_json_without_text_piped_prints_the_v1_answer(server: WorkersAIServer) -> None:
    server.enqueue(Reply.json(m.empty_result()))

    done = ask("-m", DEFAULT_MODEL, "hi")

    assert outcome(done) == answered(HELLO, RETRY_V1)


def test_when_the_v1_endpoint_fails_too_it_asks_without_streaming(
    server: WorkersAIServer,
) -> None:
    server.enqueue(Reply.json(m.empty_result()), Reply.error(400, 5007, "No such model or task"))

    done = ask("-m", DEFAULT_MODEL, "hi")

    failure = f"the model {DEFAULT_MODEL} is not available: No such model or task"
    assert outcome(done) == answered(
        HELLO,
        RETRY_V1 + f"wai: that failed too ({failure}); asking again without streaming\n",
    )
    assert_sent(
        server,
        (run_path(DEFAULT_MODEL), run_body(user("hi"), max_tokens=DEFAULT_ROOM)),
        (V1_PATH, v1_body(DEFAULT_MODEL, user("hi"), max_tokens=DEFAULT_ROOM)),
        (run_path(DEFAULT_MODEL), run_body(user("hi"), max_tokens=DEFAULT_ROOM, stream=False)),
    )


RESPONSES_WITH_DETAILS = {
    "input_tokens": 12,
    "output_tokens": 30,
    "total_tokens": 42,
    "output_tokens_details": {"reasoning_tokens": 20},
}


@pytest.mark.parametrize(
    ("body", "text", "reasoning", "counts"),
    [
        pytest.param(
            envelope(m.chat_completion_body(model=DEFAULT_MODEL)),
            m.COMPLETION_CONTENT,
            m.COMPLETION_REASONING,
            usage(1, 2, 3),
            id="chat-completion-enveloped",
        ),
        pytest.param(
            json.dumps(m.chat_completion_body(model=DEFAULT_MODEL, field="reasoning")).encode(),
            m.COMPLETION_CONTENT,
            m.COMPLETION_REASONING,
            usage(1, 2, 3),
            id="chat-completion-bare-reasoning-field",
        ),
        pytest.param(
            envelope(m.responses_body()),
            m.RESPONSES_TEXT,
            m.RESPONSES_REASONING,
            usage(12, 30, 42),
            id="responses-enveloped",
        ),
        pytest.param(
            json.dumps(m.responses_body(usage=RESPONSES_WITH_DETAILS)).encode(),
            m.RESPONSES_TEXT,
            m.RESPONSES_REASONING,
            usage(12, 30, 42, 20),
            id="responses-bare-reasoning-tokens",
        ),
    ],
)
def test_a_stream_answered_with_a_whole_json_answer_renders_it(
    server: WorkersAIServer,
    isolated: Path,
    body: bytes,
    text: str,
    reasoning: str,
    counts: dict,
) -> None:
    server.enqueue(Reply.json(body), Reply.json(body))

    piped = ask("-m", DEFAULT_MODEL, "--no-save", "hi")
    as_json = ask("--json", "-m", DEFAULT_MODEL, "--session", "whole", "hi")

    assert outcome(piped) == answered(text)
    assert outcome(as_json) == (0, json_line(text, reasoning, DEFAULT_MODEL, counts, "whole"), b"")
    request = (run_path(DEFAULT_MODEL), run_body(user("hi"), max_tokens=DEFAULT_ROOM))
    assert_sent(server, request, request)
    assert session_file(isolated, "whole")["messages"][1] == answer_message(
        text, DEFAULT_MODEL, counts, reasoning
    )


# --- cut and empty answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "events", "args", "max_tokens", "text", "reasoning", "counts", "params"),
    [
        pytest.param(
            LLAMA4_SCOUT,
            m.scout_events(("New", " York"), finish_reason="length"),
            (),
            DEFAULT_ROOM,
            "New York",
            None,
            usage(42, 23, 65),
            {},
            id="native-length",
        ),
        pytest.param(
            LLAMA4_SCOUT,
            m.scout_events(("New", " York"), finish_reason="model_length"),
            (),
            DEFAULT_ROOM,
            "New York",
            None,
            usage(42, 23, 65),
            {},
            id="native-model_length",
        ),
        pytest.param(
            QWEN3_30B,
            m.reasoning_chunks(model=QWEN3_30B, finish_reason="length"),
            ("--max-tokens", "300"),
            300,
            "A **cow** is",
            "Okay, the",
            CHUNKS_USAGE,
            {"max_tokens": 300},
            id="reasoning-chunks-max-tokens-chosen",
        ),
    ],
)
def test_an_answer_cut_at_max_tokens_is_kept_with_a_notice(
    server: WorkersAIServer,
    isolated: Path,
    model: str,
    events: list[dict[str, Any]],
    args: tuple[str, ...],
    max_tokens: int,
    text: str,
    reasoning: str | None,
    counts: dict,
    params: dict,
) -> None:
    server.enqueue(stream_of(events), stream_of(events))

    piped = ask("-m", model, *args, "--no-save", "Where?")
    as_json = ask("--json", "-m", model, *args, "--session", "cut", "Where?")

    assert outcome(piped) == answered(text, cut_notice(max_tokens))
    line = json_line(text, reasoning, model, counts, "cut", finish_reason="length")
    assert outcome(as_json) == (0, line, cut_notice(max_tokens).encode())
    request = (run_path(model), run_body(user("Where?"), max_tokens=max_tokens))
    assert_sent(server, request, request)
    assert session_file(isolated, "cut") == session(
        "cut",
        model,
        asked("Where?"),
        answer_message(text, model, counts, reasoning, "length"),
        params=params,
    )


def test_a_budget_spent_reasoning_is_an_error_and_the_session_keeps_it(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.enqueue(stream_of(m.budget_spent_chunks(model=QWEN3_30B)))

    done = ask("-m", QWEN3_30B, "--session", "spent", "Think hard.")

    assert outcome(done) == failed(cut_while_reasoning(REASONING_ROOM))
    assert_sent(
        server, (run_path(QWEN3_30B), run_body(user("Think hard."), max_tokens=REASONING_ROOM))
    )
    assert session_file(isolated, "spent") == session(
        "spent",
        QWEN3_30B,
        asked("Think hard."),
        answer_message("", QWEN3_30B, usage(13, 4, 17), "Okay, the", "length"),
    )


def test_a_budget_spent_reasoning_in_json(server: WorkersAIServer) -> None:
    server.enqueue(stream_of(m.budget_spent_chunks(model=QWEN3_30B)))

    done = ask("--json", "-m", QWEN3_30B, "--session", "spent", "Think hard.")

    line = json_line("", "Okay, the", QWEN3_30B, usage(13, 4, 17), "spent", finish_reason="length")
    assert outcome(done) == (1, line, cut_while_reasoning(REASONING_ROOM).encode())


def test_a_responses_answer_cut_while_reasoning_is_an_error(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.enqueue(Reply.json(envelope(m.responses_incomplete_body())))

    done = ask("--no-stream", "-m", GPT_OSS_120B, "--session", "spent", "Think hard.")

    assert outcome(done) == failed(cut_while_reasoning(REASONING_ROOM))
    assert_sent(
        server,
        (
            run_path(GPT_OSS_120B),
            run_body(user("Think hard."), max_tokens=REASONING_ROOM, stream=False),
        ),
    )
    assert session_file(isolated, "spent")["messages"][1] == answer_message(
        "", GPT_OSS_120B, usage(12, 30, 42), m.RESPONSES_REASONING, "length"
    )


def test_a_connection_cut_while_reasoning_is_not_asked_again_and_keeps_the_reasoning(
    server: WorkersAIServer, isolated: Path
) -> None:
    # Asked again, the reasoning would stream again: the answer has started once it comes.
    events = m.reasoning_chunks(["Okay", ", the"], [], model=QWEN3_30B, finish_reason=None)
    body = m.stream_body(events[:-1], done=False)  # the role chunk, the reasoning, no end
    server.enqueue(Reply.stream(body, cut=True))

    done = ask("-m", QWEN3_30B, "--session", "cut", "What is it?")

    assert outcome(done) == (
        4,
        b"",
        f"wai: error: the answer is incomplete: the connection to 127.0.0.1:{server.port} was "
        "cut off\nhint: what arrived is kept above; ask again to get a whole answer\n".encode(),
    )
    assert_sent(
        server,
        (run_path(QWEN3_30B), run_body(user("What is it?"), max_tokens=REASONING_ROOM)),
    )
    answer = session_file(isolated, "cut")["messages"][1]
    assert answer == {
        "role": "assistant",
        "content": "",
        "meta": {"model": QWEN3_30B, "reasoning": "Okay, the", "interrupted": True},
    }


@pytest.mark.parametrize("named", [True, False], ids=["session", "one-shot"])
def test_an_answer_with_no_text_is_an_error_and_saves_nothing(
    server: WorkersAIServer, isolated: Path, named: bool
) -> None:
    server.enqueue(Reply.stream(sse({"response": "", "usage": m.THINK_USAGE})))

    done = ask("-m", DEFAULT_MODEL, *(("--session", "empty") if named else ()), "hi")

    assert outcome(done) == failed(EMPTY)
    assert_sent(server, (run_path(DEFAULT_MODEL), run_body(user("hi"), max_tokens=DEFAULT_ROOM)))
    assert saved(isolated) == []


def test_an_answer_with_no_text_leaves_the_session_as_it_was(
    server: WorkersAIServer, isolated: Path
) -> None:
    assert outcome(ask("-m", DEFAULT_MODEL, "--session", "kept", "hi")) == answered(HELLO)
    before = (sessions_dir(isolated) / "kept.json").read_bytes()
    server.enqueue(Reply.stream(sse({"response": "", "usage": m.THINK_USAGE})))

    done = ask("--session", "kept", "again")

    assert outcome(done) == failed(EMPTY)
    assert (sessions_dir(isolated) / "kept.json").read_bytes() == before
    assert saved(isolated) == ["kept.json"]


def test_reasoning_with_no_answer_is_an_error(server: WorkersAIServer, isolated: Path) -> None:
    server.enqueue(stream_of(m.reasoning_chunks(answer=(), model=QWEN3_30B)))

    done = ask("-m", QWEN3_30B, "--session", "mute", "hi")

    assert outcome(done) == failed(NO_ANSWER)
    assert session_file(isolated, "mute")["messages"] == [
        asked("hi"),
        answer_message("", QWEN3_30B, usage(13, 4, 17), "Okay, the"),
    ]


# --- -u --------------------------------------------------------------------------------------


def test_usage_counts_the_reasoning_tokens_when_the_server_sends_them(
    server: WorkersAIServer, isolated: Path
) -> None:
    events = m.reasoning_chunks(model=QWEN3_30B)
    details = {"completion_tokens_details": {"reasoning_tokens": 2}}
    events[-1] = {**events[-1], "usage": {**events[-1]["usage"], **details}}
    server.enqueue(stream_of(events))

    done = ask("-u", "-m", QWEN3_30B, "--session", "counted", "What is it?")

    assert outcome(done) == answered(
        "A **cow** is", "wai: usage: 13 prompt + 5 completion (2 reasoning) = 18 tokens\n"
    )
    assert session_file(isolated, "counted")["messages"][1]["meta"]["usage"] == usage(13, 5, 18, 2)


def test_usage_without_reasoning_tokens_says_nothing_of_them(server: WorkersAIServer) -> None:
    done = ask("-u", "-m", QWEN3_30B, "What is it?")

    assert outcome(done) == answered(
        "A **cow** is", "wai: usage: 13 prompt + 5 completion = 18 tokens\n"
    )


# --- local OpenAI-compatible servers ---------------------------------------------------------

THINKING = ("Let me", " think.")


@dataclass(frozen=True)
class Local:
    """How a local server answers: its thinking (in `field`), its answer's tokens, and the
    reasoning tokens its usage counts (None: one per piece of thinking)."""

    reasoning: tuple[str, ...] = ()
    field: str = "reasoning_content"
    tokens: tuple[str, ...] = ("Hello", ",", " world", "!")
    reasoning_tokens: int | None = None

    def serve(self, server: OpenAIServer) -> None:
        server.reasoning, server.reasoning_field = self.reasoning, self.field
        server.tokens, server.reasoning_tokens = self.tokens, self.reasoning_tokens


LOCAL_SHAPES = [
    pytest.param(
        Local(THINKING),
        "Hello, world!",
        usage(21, 4, 25, 2),
        "wai: usage: 21 prompt + 4 completion (2 reasoning) = 25 tokens\n",
        id="llama.cpp",
    ),
    pytest.param(
        Local(THINKING, "reasoning", reasoning_tokens=7),
        "Hello, world!",
        usage(21, 4, 25, 7),
        "wai: usage: 21 prompt + 4 completion (7 reasoning) = 25 tokens\n",
        id="ollama",
    ),
    pytest.param(
        Local(tokens=inline_think_tokens(THINKING, ("Hello", ", world!"))),
        "Hello, world!",
        usage(21, 4, 25),
        "wai: usage: 21 prompt + 4 completion = 25 tokens\n",
        id="inline-think",
    ),
]


@pytest.mark.parametrize(("local", "answer", "counts", "usage_line"), LOCAL_SHAPES)
def test_a_local_servers_reasoning_stays_apart(
    openai_server: OpenAIServer,
    config_file: Path,
    isolated: Path,
    local: Local,
    answer: str,
    counts: dict,
    usage_line: str,
) -> None:
    use_server(config_file, openai_server)
    local.serve(openai_server)

    piped = ask("--no-save", "-u", "What is it?")
    as_json = ask("--json", "--session", "local", "What is it?")
    openai_server.reasoning, openai_server.tokens = (), ("Because.",)
    follow_up = ask("--session", "local", "Why?")

    assert outcome(piped) == answered(answer, usage_line)
    line = json_line(answer, "Let me think.", LOCAL, counts, "local", backend="local")
    assert outcome(as_json) == (0, line, b"")
    assert outcome(follow_up) == answered("Because.")
    assert session_file(isolated, "local") == session(
        "local",
        LOCAL,
        asked("What is it?"),
        answer_message(answer, LOCAL, counts, "Let me think."),
        asked("Why?"),
        answer_message("Because.", LOCAL, usage(21, 4, 25)),
        backend="local",
    )
    assert_sent(
        openai_server,
        ("/v1/chat/completions", chat_body(LOCAL, user("What is it?"))),
        ("/v1/chat/completions", chat_body(LOCAL, user("What is it?"))),
        (
            "/v1/chat/completions",
            chat_body(LOCAL, user("What is it?"), assistant(answer), user("Why?")),
        ),
    )


# --- --reasoning and its config key ----------------------------------------------------------


@pytest.mark.parametrize("mode", ["hide", "show", "auto"])
def test_every_reasoning_mode_leaves_a_pipe_the_answer_alone(
    server: WorkersAIServer, mode: str
) -> None:
    done = ask("--reasoning", mode, "-m", QWEN3_30B, "What is it?")

    assert outcome(done) == answered("A **cow** is")


@pytest.mark.parametrize("mode", ["hide", "show", "auto"])
def test_the_config_reasoning_key_is_taken(
    server: WorkersAIServer, config_file: Path, mode: str
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(f'reasoning = "{mode}"\n')

    done = ask("-m", QWEN3_30B, "What is it?")

    assert outcome(done) == answered("A **cow** is")


def test_an_unknown_reasoning_mode_is_a_usage_error(server: WorkersAIServer) -> None:
    done = ask("--reasoning", "loud", "-m", QWEN3_30B, "What is it?")

    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr == (
        b"wai: error: invalid value for '--reasoning': 'loud' is not one of 'auto', 'show', "
        b"'hide'\nhint: `wai ask --help` shows how to use it\n"
    )
    assert server.requests == []


def test_an_unknown_reasoning_mode_in_the_config_is_exit_3(
    server: WorkersAIServer, config_file: Path, isolated: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_bytes(b'# mine\nreasoning = "loud"\n')

    done = ask("-m", QWEN3_30B, "What is it?")

    assert outcome(done) == failed(
        f"wai: error: {config_file}: reasoning: must be one of auto, show, hide, got 'loud'\n"
        "hint: fix it with `wai config set reasoning VALUE` or `wai config unset reasoning`\n",
        code=3,
    )
    assert config_file.read_bytes() == b'# mine\nreasoning = "loud"\n'
    assert server.requests == []
    assert saved(isolated) == []
