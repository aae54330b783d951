"""`wai ask --continue-answer` and `/continue`: an answer cut short (interrupted, or cut at
max_tokens) goes on where it stopped. What each backend is sent (a raw prompt in the model's
template, vLLM's `continue_final_message`, or the messages with the partial answer last), what
stdout gets (only the new text), and the session file after (the same answer, grown)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wai
from tests.servers import models_2026 as m
from tests.servers.openai_compat import MODELS, OpenAIServer, chat_events
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_MODEL,
    DEFAULT_USAGE,
    LLAMA4_SCOUT,
    QWEN3_30B,
    Reply,
    WorkersAIServer,
    sse,
    token_events,
)
from tests.test_repl import AFFINITY, TIME, Chat, stamped

LLAMA_33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
MISTRAL_PROMPT = "<s>[INST] Be brief.\n\nSay hello [/INST]Bonjour, le"
FIRST_USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
MORE_USAGE = {"prompt_tokens": 18, "completion_tokens": 2, "total_tokens": 20}
NOTHING_TO_CONTINUE = (
    "wai: error: the last answer is complete: there is nothing to continue\n"
    "hint: only an answer that was interrupted or cut at max_tokens can be continued\n"
)


def cut_off(server: WorkersAIServer | OpenAIServer, *tokens: str, chat: bool = False) -> None:
    """The next answer: `tokens`, then the connection closes mid-stream."""
    events = chat_events(tokens, finish_reason=None) if chat else token_events(tokens)
    server.enqueue(Reply.stream(sse(*events, done=False), cut=True))


def answers(server: WorkersAIServer, *tokens: str, usage: dict | None = MORE_USAGE, **last: Any):
    """The next answer: `tokens`, then an event with `last` (a finish reason) and the usage."""
    events = token_events(tokens)
    if last or usage:
        events.append({"response": "", **last, **({"usage": usage} if usage else {})})
    server.enqueue(Reply.stream(sse(*events)))


def session(isolated: Path, name: str) -> dict[str, Any]:
    return stamped(json.loads((isolated / "data" / "sessions" / f"{name}.json").read_text()))


def session_bytes(isolated: Path, name: str) -> bytes:
    return (isolated / "data" / "sessions" / f"{name}.json").read_bytes()


def answer(content: str, model: str = DEFAULT_MODEL, **meta: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": content, "meta": {"time": TIME, "model": model, **meta}}


def asked(content: str) -> dict[str, Any]:
    return {"role": "user", "content": content, "meta": {"time": TIME}}


def interrupted_work_session(server: WorkersAIServer) -> None:
    """The session `work`: a system message, then an answer cut off after "Bonjour, le"."""
    cut_off(server, "Bonjour", ", le")
    run = wai("ask", "--session", "work", "-s", "Be brief.", "Say hello")
    assert (run.exit_code, run.stdout) == (4, "Bonjour, le")


# --- Workers AI ------------------------------------------------------------------------------


def test_an_interrupted_answer_goes_on_from_a_mistral_raw_prompt(
    server: WorkersAIServer, isolated: Path
) -> None:
    interrupted_work_session(server)
    answers(server, " monde", "!")
    run = wai("ask", "--session", "work", "--continue-answer")
    assert (run.exit_code, run.stdout, run.stderr) == (0, " monde!", "")

    request = server.run_requests[-1]
    assert request.path == f"/client/v4/accounts/{ACCOUNT}/ai/run/{DEFAULT_MODEL}"
    assert request.body == {
        "prompt": MISTRAL_PROMPT,
        "raw": True,
        "stream": True,
        "max_tokens": 1024,
    }
    assert (
        request.headers["x-session-affinity"]
        == server.run_requests[0].headers["x-session-affinity"]
    )
    document = session(isolated, "work")
    assert document["messages"] == [
        {"role": "system", "content": "Be brief."},
        asked("Say hello"),
        answer("Bonjour, le monde!", usage=MORE_USAGE),  # no longer interrupted
    ]
    assert document["affinity"] == AFFINITY


def test_an_answer_cut_at_max_tokens_goes_on_with_c_and_its_usage_adds_up(
    server: WorkersAIServer, isolated: Path
) -> None:
    answers(server, "One, two,", usage=FIRST_USAGE, finish_reason="length")
    run = wai("ask", "--session", "count", "--max-tokens", "3", "Count to five")
    assert (run.exit_code, run.stdout) == (0, "One, two,")
    assert run.stderr == "wai: the answer was cut at max_tokens (3); raise --max-tokens\n"
    assert session(isolated, "count")["messages"][-1] == answer(
        "One, two,", usage=FIRST_USAGE, finish_reason="length"
    )

    answers(server, " three, four, five.", finish_reason="stop")
    run = wai("ask", "-c", "--continue-answer")
    assert (run.exit_code, run.stdout, run.stderr) == (0, " three, four, five.", "")
    assert server.last_body == {
        "prompt": "<s>[INST] Count to five [/INST]One, two,",
        "raw": True,
        "stream": True,
        "max_tokens": 3,  # the session's own parameters
    }
    document = session(isolated, "count")
    assert document["params"] == {"max_tokens": 3}
    assert document["messages"] == [
        asked("Count to five"),
        answer(
            "One, two, three, four, five.",
            usage={"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35},
        ),
    ]


def test_a_continuation_cut_at_max_tokens_again_says_so_and_keeps_the_mark(
    server: WorkersAIServer, isolated: Path
) -> None:
    answers(server, "One,", usage=FIRST_USAGE, finish_reason="length")
    assert wai("ask", "--session", "count", "--max-tokens", "2", "Count").exit_code == 0
    answers(server, " two,", finish_reason="length")
    run = wai("ask", "--session", "count", "--continue-answer")
    assert (run.exit_code, run.stdout) == (0, " two,")
    assert run.stderr == (
        "wai: the answer was cut at max_tokens (2) again; continue it once more, or raise "
        "--max-tokens\n"
    )
    assert session(isolated, "count")["messages"][-1] == answer(
        "One, two,",
        usage={"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35},
        finish_reason="length",
    )


def test_a_continuation_interrupted_again_is_kept_and_marked_again(
    server: WorkersAIServer, isolated: Path
) -> None:
    interrupted_work_session(server)
    cut_off(server, " mon")
    run = wai("ask", "--session", "work", "--continue-answer")
    assert (run.exit_code, run.stdout) == (4, " mon")
    assert run.stderr == (
        f"wai: error: the answer is incomplete: the connection to 127.0.0.1:{server.port} was "
        "cut off\nhint: what arrived is kept above; ask again to get a whole answer\n"
    )
    assert session(isolated, "work")["messages"][-1] == answer("Bonjour, le mon", interrupted=True)

    # ... and goes on once more, from all of it.
    answers(server, "de!")
    assert wai("ask", "-c", "--continue-answer").stdout == "de!"
    assert server.last_body["prompt"] == MISTRAL_PROMPT + " mon"
    assert session(isolated, "work")["messages"][-1] == answer(
        "Bonjour, le monde!", usage=MORE_USAGE
    )


def test_json_prints_the_continuations_fields(server: WorkersAIServer, isolated: Path) -> None:
    interrupted_work_session(server)
    answers(server, " monde", "!")
    run = wai("ask", "--session", "work", "--continue-answer", "--json")
    assert run.exit_code == 0
    assert json.loads(run.stdout) == {
        "response": " monde!",
        "reasoning": None,
        "model": DEFAULT_MODEL,
        "backend": "cloudflare",
        "usage": MORE_USAGE,
        "finish_reason": "stop",
        "session": "work",
    }
    assert session(isolated, "work")["messages"][-1]["content"] == "Bonjour, le monde!"


def test_show_request_prints_the_continuation_and_sends_nothing(
    server: WorkersAIServer, isolated: Path
) -> None:
    interrupted_work_session(server)
    before = session_bytes(isolated, "work")
    sent = len(server.requests)
    run = wai("ask", "--session", "work", "--continue-answer", "--show-request")
    assert (run.exit_code, run.stderr) == (0, "")
    payload = json.dumps(
        {"prompt": MISTRAL_PROMPT, "raw": True, "stream": True, "max_tokens": 1024}
    )
    assert run.stdout == (
        f"curl -sN -X POST {server.base_url}/accounts/{ACCOUNT}/ai/run/{DEFAULT_MODEL} \\\n"
        "  -H 'Authorization: Bearer '\"$CLOUDFLARE_API_TOKEN\" \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        "  -H 'Accept: text/event-stream' \\\n"
        f"  -d '{payload}'\n"
    )
    assert len(server.requests) == sent
    assert session_bytes(isolated, "work") == before


def test_llama_3_3_gets_its_own_template(server: WorkersAIServer, isolated: Path) -> None:
    server.models.append(LLAMA_33)
    cut_off(server, "The sky is")
    assert wai("ask", "-m", LLAMA_33, "--session", "sky", "Why is the sky blue?").exit_code == 4
    answers(server, " blue because of Rayleigh scattering.")
    run = wai("ask", "-c", "--continue-answer")
    assert (run.exit_code, run.stdout) == (0, " blue because of Rayleigh scattering.")
    assert server.run_requests[-1].path == f"/client/v4/accounts/{ACCOUNT}/ai/run/{LLAMA_33}"
    assert server.last_body == {
        "prompt": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWhy is the sky blue?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nThe sky is",
        "raw": True,
        "stream": True,
        "max_tokens": 1024,
    }


def test_a_model_with_no_known_template_gets_the_partial_answer_as_the_last_message(
    server: WorkersAIServer, isolated: Path
) -> None:
    cut_off(server, "Hello", "!")
    assert wai("ask", "-m", LLAMA4_SCOUT, "--session", "scout", "Greet me").exit_code == 4
    answers(server, " I am Llama 4 Scout")
    run = wai("ask", "--session", "scout", "--continue-answer")
    assert (run.exit_code, run.stdout) == (0, " I am Llama 4 Scout")
    assert server.last_body == {
        "messages": [
            {"role": "user", "content": "Greet me"},
            {"role": "assistant", "content": "Hello!"},
        ],
        "stream": True,
        "max_tokens": 1024,
    }
    assert session(isolated, "scout")["messages"][-1] == answer(
        "Hello! I am Llama 4 Scout", LLAMA4_SCOUT, usage=MORE_USAGE
    )


def test_the_history_is_trimmed_to_the_window_and_the_raw_prompt_fits(
    server: WorkersAIServer, isolated: Path, config_file: Path
) -> None:
    long = "word " * 1500  # about 500 tokens
    for question in ("First " + long, "Second " + long):
        answers(server, "Noted.", usage=DEFAULT_USAGE)
        assert wai("ask", "--session", "long", "--max-tokens", "200", question).exit_code == 0
    cut_off(server, "Bonjour, le")
    assert wai("ask", "--session", "long", "Say hello").exit_code == 4
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[backends.cloudflare]\ncontext_window = 1000\n")

    answers(server, " monde!")
    run = wai("ask", "--session", "long", "--continue-answer")
    assert (run.exit_code, run.stdout) == (0, " monde!")
    assert run.stderr == "wai: 4 older messages left out to fit the 1000-token context window\n"
    assert server.last_body == {
        "prompt": "<s>[INST] Say hello [/INST]Bonjour, le",
        "raw": True,
        "stream": True,
        "max_tokens": 200,
    }
    assert len(session(isolated, "long")["messages"]) == 6  # the file keeps them all


# --- errors: nothing to continue -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (
            ["--session", "done"],
            "the last answer is complete: there is nothing to continue",
            "only an answer that was interrupted or cut at max_tokens can be continued",
        ),
        (
            ["-c"],
            "the last answer is complete: there is nothing to continue",
            "only an answer that was interrupted or cut at max_tokens can be continued",
        ),
        (
            ["--session", "done", "and more"],
            "--continue-answer takes no prompt: it resumes the last answer",
            "leave the words out, or drop --continue-answer to ask a new question",
        ),
        (
            [],
            "--continue-answer needs the session whose answer to resume",
            "add -c (the most recent session) or --session NAME",
        ),
        (
            ["--session", "nope"],
            "no session named 'nope'",
            "`wai sessions list` shows the sessions",
        ),
    ],
)
def test_nothing_to_continue_is_a_usage_error_and_the_session_stays(
    server: WorkersAIServer, isolated: Path, args: list[str], message: str, hint: str
) -> None:
    assert wai("ask", "--session", "done", "hi").exit_code == 0
    before = session_bytes(isolated, "done")
    sent = len(server.requests)
    run = wai("ask", "--continue-answer", *args)
    assert (run.exit_code, run.stdout, run.stderr) == (
        2,
        "",
        f"wai: error: {message}\nhint: {hint}\n",
    )
    assert len(server.requests) == sent
    assert session_bytes(isolated, "done") == before
    assert sorted(p.name for p in (isolated / "data" / "sessions").glob("*.json")) == ["done.json"]


def test_an_answer_cut_while_thinking_has_no_text_to_continue(
    server: WorkersAIServer, isolated: Path
) -> None:
    events = m.reasoning_chunks(["Let me think."], [], model=QWEN3_30B)[:2]  # role, reasoning
    server.enqueue(Reply.stream(m.stream_body(events, done=False), cut=True))
    assert wai("ask", "-m", QWEN3_30B, "--session", "thinking", "hi").exit_code == 4
    before = session_bytes(isolated, "thinking")
    assert json.loads(before)["messages"][-1]["content"] == ""
    run = wai("ask", "-c", "--continue-answer")
    assert (run.exit_code, run.stdout, run.stderr) == (
        2,
        "",
        "wai: error: the last answer was cut before any text: there is nothing to continue\n"
        "hint: ask again instead\n",
    )
    assert session_bytes(isolated, "thinking") == before


def test_an_answer_too_long_for_the_window_is_refused_and_the_session_stays(
    server: WorkersAIServer, isolated: Path, config_file: Path
) -> None:
    cut_off(server, "word " * 1200)  # about 400 tokens
    assert wai("ask", "--session", "big", "Write a lot").exit_code == 4
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[backends.cloudflare]\ncontext_window = 300\n")
    before, sent = session_bytes(isolated, "big"), len(server.requests)
    run = wai("ask", "--session", "big", "--continue-answer")
    assert (run.exit_code, run.stdout, run.stderr) == (
        2,
        "",
        "wai: error: the answer so far and its question leave no room to continue it in the "
        f"300-token context window of {DEFAULT_MODEL}\n"
        "hint: ask again instead, or lower --max-tokens to leave more room\n",
    )
    assert len(server.requests) == sent
    assert session_bytes(isolated, "big") == before


def test_an_answer_with_no_question_before_it_cannot_be_continued(
    server: WorkersAIServer, isolated: Path
) -> None:
    sessions = isolated / "data" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "odd.json").write_text(
        json.dumps(
            {
                "format": "wai.session/1",
                "name": "odd",
                "created": "2026-01-02T03:04:05.000Z",
                "updated": "2026-01-02T03:04:05.000Z",
                "backend": "cloudflare",
                "model": DEFAULT_MODEL,
                "params": {},
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "assistant", "content": "Once upon", "meta": {"interrupted": True}},
                ],
            }
        )
    )
    before = session_bytes(isolated, "odd")
    run = wai("ask", "--session", "odd", "--continue-answer")
    assert (run.exit_code, run.stdout, run.stderr) == (
        2,
        "",
        "wai: error: the answer to continue follows no question\nhint: ask again instead\n",
    )
    assert server.requests == []
    assert session_bytes(isolated, "odd") == before


def test_no_session_at_all(server: WorkersAIServer, isolated: Path) -> None:
    run = wai("ask", "-c", "--continue-answer")
    assert (run.exit_code, run.stdout, run.stderr) == (
        2,
        "",
        'wai: error: there is no session to continue yet\nhint: start one with `wai ask "..."`\n',
    )
    assert server.requests == []


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--raw"], "--raw"),
        (["--json-mode"], "--json-mode and --schema"),
        (["-s", "Be terse."], "--system"),
        (["--role", "poet"], "--role"),
    ],
)
def test_flags_that_change_the_question_are_refused(
    server: WorkersAIServer, isolated: Path, flags: list[str], named: str
) -> None:
    interrupted_work_session(server)
    before = session_bytes(isolated, "work")
    run = wai("ask", "--session", "work", "--continue-answer", *flags)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"wai: error: {named} cannot be used with --continue-answer\n"
    assert session_bytes(isolated, "work") == before


# --- OpenAI-compatible servers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "extra"),
    [
        ("vllm", {"continue_final_message": True, "add_generation_prompt": False}),
        ("llamacpp", {}),  # continues a trailing assistant message on its own
        ("ollama", {}),  # ... as Ollama does
        ("lmstudio", {}),  # not known to: the same messages, the fallback
    ],
)
def test_openai_servers_get_the_partial_answer_last(
    openai_server: OpenAIServer,
    isolated: Path,
    config_file: Path,
    backend: str,
    extra: dict[str, Any],
) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'[backends.{backend}]\nbase_url = "{openai_server.base_url}"\n')
    cut_off(openai_server, "Bonjour", ", le", chat=True)
    run = wai("ask", "-b", backend, "--session", "local", "Say hello")
    assert (run.exit_code, run.stdout) == (4, "Bonjour, le")

    openai_server.tokens = (" monde", "!")
    run = wai("ask", "-c", "--continue-answer")
    assert (run.exit_code, run.stdout, run.stderr) == (0, " monde!", "")
    assert openai_server.generation_requests[-1].path == "/v1/chat/completions"
    assert openai_server.last_body == {
        "model": MODELS[0],
        "messages": [
            {"role": "user", "content": "Say hello"},
            {"role": "assistant", "content": "Bonjour, le"},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        **extra,
        "max_tokens": 1024,
    }
    document = session(isolated, "local")
    assert document["backend"] == backend
    assert document["messages"] == [
        asked("Say hello"),
        answer(
            "Bonjour, le monde!",
            MODELS[0],
            usage={"prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25},
        ),
    ]


# --- /continue in the REPL -------------------------------------------------------------------


def test_slash_continue_goes_on_with_the_answer_a_cut_stream_left(
    server: WorkersAIServer, isolated: Path
) -> None:
    from wai.settings import Overrides

    chat = Chat(Overrides(system="Be brief."))
    chat.type("/rename work")
    cut_off(server, "Bonjour", ", le")
    chat.type("Say hello")
    chat.output()
    answers(server, " monde", "!")
    chat.type("/continue")
    assert chat.output() == (" monde!", "")
    assert server.last_body == {
        "prompt": MISTRAL_PROMPT,
        "raw": True,
        "stream": True,
        "max_tokens": 1024,
    }
    assert session(isolated, "work")["messages"][-1] == answer(
        "Bonjour, le monde!", usage=MORE_USAGE
    )

    # Complete now: /continue says so, sends nothing, and the REPL goes on.
    sent = len(server.requests)
    chat.type("/continue")
    assert chat.output() == ("", NOTHING_TO_CONTINUE)
    assert len(server.requests) == sent
    chat.type("And now?")
    assert chat.output() == ("Hello, world!", "")


def test_slash_continue_in_a_new_chat_has_nothing_to_continue(server: WorkersAIServer) -> None:
    chat = Chat()
    chat.type("/continue")
    assert chat.output() == (
        "",
        "wai: error: there is no answer to continue yet\n"
        "hint: only an answer that was interrupted or cut at max_tokens can be continued\n",
    )
    assert server.requests == []


def test_slash_continue_cut_at_max_tokens_again_names_the_repls_commands(
    server: WorkersAIServer,
) -> None:
    chat = Chat()
    chat.type("/set max_tokens 2")
    answers(server, "One,", usage=FIRST_USAGE, finish_reason="length")
    chat.type("Count")
    assert chat.output() == (
        "One,",
        "wai: max_tokens = 2\n"
        "wai: the answer was cut at max_tokens (2); /continue goes on, or raise it with "
        "/set max_tokens N\n",
    )
    answers(server, " two,", finish_reason="length")
    chat.type("/continue")
    assert chat.output() == (
        " two,",
        "wai: the answer was cut at max_tokens (2) again; /continue goes on, or raise it with "
        "/set max_tokens N\n",
    )
