"""The OpenAI-compatible backend end to end: `wai ask` against a llama.cpp/vLLM/Ollama-style
server: the exact requests, the exact output, the default model from /models, sessions, API
keys, errors, retries, broken streams and the ready-made backends with nothing listening."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.conftest import Run, wai
from tests.servers.openai_compat import (
    CHAT_PATH,
    COMPLETIONS_PATH,
    MODELS,
    MODELS_PATH,
    OpenAIServer,
    chat_chunk,
    chat_completion,
    chat_events,
    error_event,
    error_reply,
    text_completion,
    text_events,
)
from tests.servers.workers_ai import Reply, sse

FIRST, SECOND = MODELS
ANSWER = "Hello, world!"
TOKENS = ("Hel", "lo", " there")
PARTIAL = "Hello there"
USAGE = {"prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25}
USAGE_LINE = "wai: usage: 21 prompt + 4 completion = 25 tokens\n"
KEY = "sk-local-Q7wR3tY9uI1oP5aSd8Fg"
MASK = "********"
INCOMPLETE_HINT = "hint: what arrived is kept above; ask again to get a whole answer"
CONTEXT_HINT = (
    "hint: the prompt is probably longer than the server's context window: shorten it (`/new` in "
    "chat), set backends.{}.context_window, or start the server with a larger context "
    "(llama.cpp: -c / --n_ctx)"
)
START = {
    "llamacpp": "llama-server -m MODEL.gguf --port 8080",
    "ollama": "ollama serve (and `ollama pull MODEL` once)",
    "vllm": "vllm serve MODEL --port 8000",
    "lmstudio": "lms server start (or the Developer tab of LM Studio)",
}
STREAMING = {"stream": True, "stream_options": {"include_usage": True}}

CUT = "wai: the answer was cut at max_tokens (1024); raise --max-tokens\n"


# --- helpers ---------------------------------------------------------------------------------


def write_config(config_file: Path, **document: Any) -> None:
    """config.toml with `document`, and no waiting between retries."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(tomli_w.dumps({"retry_backoff": 0, **document}))


def use_server(
    config_file: Path,
    server: OpenAIServer,
    name: str = "local",
    *,
    default: bool = True,
    top: dict[str, Any] | None = None,
    **table: Any,
) -> None:
    """A `[backends.NAME]` table pointing at `server` (the default backend unless told)."""
    write_config(
        config_file,
        **({"backend": name} if default else {}),
        **(top or {}),
        backends={name: {"type": "openai", "base_url": server.base_url, **table}},
    )


def where(server: OpenAIServer, name: str = "local") -> str:
    return f"the {name} server at {server.base_url}"


def lines(*items: str) -> str:
    return "".join(f"{item}\n" for item in items)


def user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def chat_body(model: str, *messages: dict[str, str], **params: Any) -> dict[str, Any]:
    return {"model": model, "messages": list(messages), **STREAMING, "max_tokens": 1024, **params}


def retry_notice(message: str, attempt: int) -> str:
    return f"wai: {message.rstrip('.')}; retrying in 0.0 s (attempt {attempt} of 3)"


def saved_sessions(isolated: Path) -> list[dict[str, Any]]:
    directory = isolated / "data" / "sessions"
    return [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]


def scoped(session: dict[str, Any]) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": m["content"]} for m in session["messages"]]


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outcome(run: Run) -> tuple[int, str, str]:
    return run.exit_code, run.stdout, run.stderr


# --- requests and answers --------------------------------------------------------------------


def test_answer_streams_from_chat_completions(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server, model=SECOND)

    run = wai("ask", "hi")

    assert outcome(run) == (0, ANSWER, "")
    assert openai_server.calls == [("POST", CHAT_PATH)]
    request = openai_server.requests[0]
    assert request.body == {
        "model": SECOND,
        "messages": [user("hi")],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 1024,
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "text/event-stream"
    assert "Authorization" not in request.headers


def test_every_parameter_is_a_field_of_the_body(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server, model=FIRST)

    run = wai(
        "ask",
        "-s",
        "Be brief.",
        "--max-tokens",
        "64",
        "--temperature",
        "0.2",
        "--top-p",
        "0.9",
        "--top-k",
        "40",
        "--seed",
        "7",
        "--repetition-penalty",
        "1.1",
        "--frequency-penalty",
        "0.5",
        "--presence-penalty=-0.5",
        "hi",
    )

    assert outcome(run) == (0, ANSWER, "")
    expected = {
        "model": FIRST,
        "messages": [{"role": "system", "content": "Be brief."}, user("hi")],
        **STREAMING,
        "max_tokens": 64,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "seed": 7,
        "repetition_penalty": 1.1,
        "frequency_penalty": 0.5,
        "presence_penalty": -0.5,
    }
    assert openai_server.last_body == expected
    assert list(openai_server.last_body) == list(expected)


def test_config_system_and_params_are_sent(openai_server: OpenAIServer, config_file: Path) -> None:
    use_server(
        config_file,
        openai_server,
        model=FIRST,
        top={"system": "You are terse.", "params": {"temperature": 0.6, "top_k": 5}},
    )

    run = wai("ask", "--temperature", "0.1", "hi")

    assert outcome(run) == (0, ANSWER, "")
    assert openai_server.last_body == chat_body(
        FIRST,
        {"role": "system", "content": "You are terse."},
        user("hi"),
        temperature=0.1,
        top_k=5,
    )


def test_usage_comes_from_the_final_chunk(openai_server: OpenAIServer, config_file: Path) -> None:
    use_server(config_file, openai_server, model=FIRST)
    openai_server.usage = {"prompt_tokens": 418, "completion_tokens": 41, "total_tokens": 459}

    run = wai("ask", "-u", "hi")

    assert outcome(run) == (0, ANSWER, "wai: usage: 418 prompt + 41 completion = 459 tokens\n")


def test_a_stream_without_a_usage_chunk_says_so(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server, model=FIRST)
    openai_server.enqueue(Reply.stream(sse(*chat_events(TOKENS))))

    run = wai("ask", "-u", "hi")

    assert outcome(run) == (0, PARTIAL, "wai: usage: the backend reported no token counts\n")


@pytest.mark.parametrize("split", [None, 5], ids=["one read", "split reads"])
def test_multibyte_text_ping_comments_and_crlf(
    openai_server: OpenAIServer, config_file: Path, split: int | None
) -> None:
    """sse-starlette (llama-cpp-python's server) sends `: ping` comments; CRLF line ends."""
    use_server(config_file, openai_server, model=FIRST)
    tokens = ("Grüße", " aus ", "東京", " 🎉👍🏽")
    events = [json.dumps(e, ensure_ascii=False) for e in chat_events(tokens, USAGE)]
    body = b": ping - 2024-06-01 00:00:00\r\n\r\n" + sse(*events, newline="\r\n")
    openai_server.enqueue(Reply.stream(body, split=split))

    run = wai("ask", "-u", "hi")

    assert outcome(run) == (0, "Grüße aus 東京 🎉👍🏽", USAGE_LINE)


# --- the model -------------------------------------------------------------------------------


def test_without_a_model_the_first_listed_is_used_and_saved(
    openai_server: OpenAIServer, config_file: Path, isolated: Path
) -> None:
    use_server(config_file, openai_server)

    run = wai("ask", "hi")

    assert outcome(run) == (0, ANSWER, "")
    assert openai_server.calls == [("GET", MODELS_PATH), ("POST", CHAT_PATH)]
    assert openai_server.last_body == chat_body(FIRST, user("hi"))
    [session] = saved_sessions(isolated)
    assert (session["backend"], session["model"]) == ("local", FIRST)
    assert session["messages"][-1]["meta"]["model"] == FIRST


def test_model_flag_picks_another_and_skips_the_list(
    openai_server: OpenAIServer, config_file: Path, isolated: Path
) -> None:
    use_server(config_file, openai_server)

    run = wai("ask", "-m", SECOND, "hi")

    assert outcome(run) == (0, ANSWER, "")
    assert openai_server.calls == [("POST", CHAT_PATH)]
    assert openai_server.last_body == chat_body(SECOND, user("hi"))
    [session] = saved_sessions(isolated)
    assert (session["backend"], session["model"]) == ("local", SECOND)


def test_a_server_with_no_models(openai_server: OpenAIServer, config_file: Path) -> None:
    openai_server.models = []
    use_server(config_file, openai_server)

    run = wai("ask", "hi")

    assert outcome(run) == (
        1,
        "",
        lines(
            f"wai: error: {where(openai_server)} offers no models",
            "hint: load a model into the server, or name one with -m MODEL",
        ),
    )
    assert openai_server.calls == [("GET", MODELS_PATH)]


def test_a_failing_model_list_is_reported(openai_server: OpenAIServer, config_file: Path) -> None:
    openai_server.model_replies.append(
        Reply(status=502, content_type="text/html", chunks=[b"<html>Bad Gateway</html>\n"])
    )
    use_server(config_file, openai_server)

    run = wai("ask", "hi")

    assert outcome(run) == (
        1,
        "",
        f"wai: error: {where(openai_server)} answered HTTP 502: <html>Bad Gateway</html>\n",
    )
    assert openai_server.calls == [("GET", MODELS_PATH)]


def test_a_session_carries_the_conversation_and_its_model(
    openai_server: OpenAIServer, config_file: Path, isolated: Path
) -> None:
    use_server(config_file, openai_server)

    first = wai("ask", "--session", "pair", "hi")
    openai_server.tokens = ("Fine", ".")
    second = wai("ask", "--session", "pair", "and then?")

    assert outcome(first) == (0, ANSWER, "")
    assert outcome(second) == (0, "Fine.", "")
    # The model listed for the first turn is the session's: the second turn does not ask again.
    assert openai_server.calls == [("GET", MODELS_PATH), ("POST", CHAT_PATH), ("POST", CHAT_PATH)]
    assert [r.body for r in openai_server.generation_requests] == [
        chat_body(FIRST, user("hi")),
        chat_body(FIRST, user("hi"), {"role": "assistant", "content": ANSWER}, user("and then?")),
    ]
    [session] = saved_sessions(isolated)
    assert (session["name"], session["backend"], session["model"]) == ("pair", "local", FIRST)
    assert scoped(session) == [
        user("hi"),
        {"role": "assistant", "content": ANSWER},
        user("and then?"),
        {"role": "assistant", "content": "Fine."},
    ]


# --- raw prompts, whole answers, JSON --------------------------------------------------------


def test_raw_posts_the_prompt_to_completions(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server, model=FIRST)

    run = wai("ask", "--raw", "-u", "[INST] hi [/INST]")

    assert outcome(run) == (0, ANSWER, USAGE_LINE)
    assert openai_server.calls == [("POST", COMPLETIONS_PATH)]
    assert openai_server.last_body == {
        "model": FIRST,
        "prompt": "[INST] hi [/INST]",
        **STREAMING,
        "max_tokens": 1024,
    }


def test_raw_prints_the_text_byte_for_byte(openai_server: OpenAIServer, config_file: Path) -> None:
    use_server(config_file, openai_server, model=FIRST)
    openai_server.enqueue(
        Reply.stream(sse(*text_events(("  **not", " markdown**", "\n\n"), USAGE)))
    )

    run = wai("ask", "--raw", "--markdown", "go")

    assert outcome(run) == (0, "  **not markdown**\n\n", "")


@pytest.mark.parametrize(
    ("args", "path", "fields"),
    [
        pytest.param((), CHAT_PATH, {"messages": [user("hi")]}, id="chat"),
        pytest.param(("--raw",), COMPLETIONS_PATH, {"prompt": "hi"}, id="raw"),
    ],
)
def test_no_stream_reads_the_whole_json_answer(
    openai_server: OpenAIServer,
    config_file: Path,
    args: tuple[str, ...],
    path: str,
    fields: dict[str, Any],
) -> None:
    use_server(config_file, openai_server, model=FIRST)

    run = wai("ask", "--no-stream", "-u", *args, "hi")

    assert outcome(run) == (0, ANSWER, USAGE_LINE)
    assert openai_server.calls == [("POST", path)]
    assert openai_server.last_body == {
        "model": FIRST,
        **fields,
        "stream": False,
        "max_tokens": 1024,
    }
    assert openai_server.requests[0].headers["Accept"] == "*/*"  # httpx's default


@pytest.mark.parametrize(
    ("reply", "args", "text"),
    [
        pytest.param(
            Reply.json(chat_completion("A whole answer.", USAGE, "length")),
            (),
            "A whole answer.",
            id="chat.completion",
        ),
        pytest.param(
            Reply.json(text_completion(" a raw one", USAGE, "length")),
            ("--raw",),
            " a raw one",
            id="text_completion",
        ),
    ],
)
def test_no_stream_json_answer_in_json_output(
    openai_server: OpenAIServer,
    config_file: Path,
    reply: Reply,
    args: tuple[str, ...],
    text: str,
) -> None:
    use_server(config_file, openai_server, model=FIRST)
    openai_server.enqueue(reply)

    run = wai("ask", "--no-stream", "--json", "--no-save", *args, "hi")

    assert (run.exit_code, run.stderr) == (0, CUT)
    assert run.stdout.endswith("}\n") and run.stdout.count("\n") == 1
    assert json.loads(run.stdout) == {
        "response": text,
        "reasoning": None,
        "model": FIRST,
        "backend": "local",
        "usage": USAGE,
        "finish_reason": "length",
        "session": None,
    }


@pytest.mark.parametrize(
    ("args", "model", "calls"),
    [
        pytest.param((), FIRST, [("GET", MODELS_PATH), ("POST", CHAT_PATH)], id="listed model"),
        pytest.param(("-m", SECOND), SECOND, [("POST", CHAT_PATH)], id="-m"),
    ],
)
def test_json_output(
    openai_server: OpenAIServer,
    config_file: Path,
    args: tuple[str, ...],
    model: str,
    calls: list[tuple[str, str]],
) -> None:
    use_server(config_file, openai_server)
    openai_server.enqueue(Reply.stream(sse(*chat_events(TOKENS, USAGE, "length", model=model))))

    run = wai("ask", "--json", "--session", "as-json", *args, "hi")

    assert (run.exit_code, run.stderr) == (0, CUT)
    assert run.stdout.endswith("}\n") and run.stdout.count("\n") == 1
    assert json.loads(run.stdout) == {
        "response": PARTIAL,
        "reasoning": None,
        "model": model,
        "backend": "local",
        "usage": USAGE,
        "finish_reason": "length",
        "session": "as-json",
    }
    assert openai_server.calls == calls


# --- which backend ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "args", "env"),
    [
        pytest.param("local", (), {}, id="backend = local"),
        pytest.param(None, ("-b", "local"), {}, id="-b local"),
        pytest.param(None, (), {"WAI_BACKEND": "local"}, id="WAI_BACKEND"),
        pytest.param("cloudflare", ("-b", "local"), {}, id="-b over the config"),
    ],
)
def test_the_backend_is_chosen_by_config_flag_or_environment(
    openai_server: OpenAIServer,
    config_file: Path,
    backend: str | None,
    args: tuple[str, ...],
    env: dict[str, str],
) -> None:
    use_server(
        config_file,
        openai_server,
        default=False,
        top={"backend": backend} if backend else {},
        model=FIRST,
    )

    run = wai("ask", "--json", "--no-save", *args, "hi", env=env)

    assert (run.exit_code, run.stderr) == (0, "")
    assert json.loads(run.stdout)["backend"] == "local"
    assert openai_server.calls == [("POST", CHAT_PATH)]


def test_the_top_level_model_belongs_to_the_default_backend(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server, top={"model": SECOND})

    run = wai("ask", "hi")

    assert outcome(run) == (0, ANSWER, "")
    assert openai_server.calls == [("POST", CHAT_PATH)]
    assert openai_server.last_body == chat_body(SECOND, user("hi"))


@pytest.mark.parametrize("name", sorted(START))
def test_a_ready_made_backend_takes_a_base_url_override(
    openai_server: OpenAIServer, config_file: Path, name: str
) -> None:
    # No `type`: the ready-made backend supplies it.
    write_config(config_file, backends={name: {"base_url": openai_server.base_url}})

    run = wai("ask", "-b", name, "--json", "--no-save", "hi")

    assert (run.exit_code, run.stderr) == (0, "")
    assert json.loads(run.stdout) == {
        "response": ANSWER,
        "reasoning": None,
        "model": FIRST,
        "backend": name,
        "usage": USAGE,
        "finish_reason": "stop",
        "session": None,
    }
    assert openai_server.calls == [("GET", MODELS_PATH), ("POST", CHAT_PATH)]


@pytest.mark.parametrize(
    ("name", "base_url"),
    [
        ("llamacpp", "http://127.0.0.1:8080/v1"),
        ("ollama", "http://127.0.0.1:11434/v1"),
        ("vllm", "http://127.0.0.1:8000/v1"),
        ("lmstudio", "http://127.0.0.1:1234/v1"),
    ],
)
def test_ready_made_backends_need_no_config(name: str, base_url: str) -> None:
    run = wai("ask", "-b", name, "-m", "some-model", "--show-request", "--no-stream", "hi")

    body = {"model": "some-model", "messages": [user("hi")], "stream": False, "max_tokens": 1024}
    assert outcome(run) == (
        0,
        f"curl -s -X POST {base_url}/chat/completions \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{json.dumps(body)}'\n",
        "",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--raw", "--lora", "my-adapter"),
            "--lora is for Workers AI; this backend does not take it",
            id="--raw --lora",
        ),
        pytest.param(
            ("--lora", "my-adapter"),
            "--lora works only with --raw (Workers AI takes LoRA with a prompt)",
            id="--lora",
        ),
    ],
)
def test_lora_is_a_usage_error(
    openai_server: OpenAIServer,
    config_file: Path,
    isolated: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    use_server(config_file, openai_server, model=FIRST)

    run = wai("ask", *args, "hi")

    assert outcome(run) == (2, "", f"wai: error: {message}\n")
    assert openai_server.requests == []
    assert saved_sessions(isolated) == []


# --- the API key -----------------------------------------------------------------------------


def test_api_key_is_sent_as_bearer_and_never_shown(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    openai_server.api_key = KEY
    use_server(config_file, openai_server, api_key=KEY)

    run = wai("ask", "-u", "hi")

    assert outcome(run) == (0, ANSWER, USAGE_LINE)
    assert openai_server.calls == [("GET", MODELS_PATH), ("POST", CHAT_PATH)]
    assert [r.headers["Authorization"] for r in openai_server.requests] == [f"Bearer {KEY}"] * 2
    run.assert_secret_absent(KEY)


def test_show_request_names_the_key_without_showing_it(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server, model=FIRST, api_key=KEY)

    run = wai("ask", "--show-request", "-s", "Be brief.", "hi")

    body = chat_body(FIRST, {"role": "system", "content": "Be brief."}, user("hi"))
    assert outcome(run) == (
        0,
        f"curl -sN -X POST {openai_server.base_url}/chat/completions \\\n"
        "  -H 'Authorization: Bearer '\"$API_KEY\" \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        "  -H 'Accept: text/event-stream' \\\n"
        f"  -d '{json.dumps(body)}'\n",
        "",
    )
    assert openai_server.requests == []
    run.assert_secret_absent(KEY)


def test_show_request_without_a_key_has_no_authorization(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server, model=FIRST)

    run = wai("ask", "--show-request", "--raw", "--no-stream", "hi")

    body = {"model": FIRST, "prompt": "hi", "stream": False, "max_tokens": 1024}
    assert outcome(run) == (
        0,
        f"curl -s -X POST {openai_server.base_url}/completions \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{json.dumps(body)}'\n",
        "",
    )
    assert openai_server.requests == []


KEY_HINT = "hint: check backends.{0}.api_key (`wai config set backends.{0}.api_key KEY`)"


@pytest.mark.parametrize("api_key", [None, "sk-wrong"], ids=["no key", "wrong key"])
@pytest.mark.parametrize(
    ("model", "calls"),
    [
        pytest.param(FIRST, [("POST", CHAT_PATH)], id="chat"),
        pytest.param(None, [("GET", MODELS_PATH)], id="models"),
    ],
)
def test_refused_key_exits_3_naming_the_setting(
    openai_server: OpenAIServer,
    config_file: Path,
    api_key: str | None,
    model: str | None,
    calls: list[tuple[str, str]],
) -> None:
    openai_server.api_key = KEY
    table = {key: value for key, value in (("model", model), ("api_key", api_key)) if value}
    use_server(config_file, openai_server, **table)

    run = wai("ask", "hi")

    assert outcome(run) == (
        3,
        "",
        lines(
            f"wai: error: {where(openai_server)} answered HTTP 401: Invalid API Key",
            KEY_HINT.format("local"),
        ),
    )
    assert openai_server.calls == calls


def test_key_echoed_by_the_server_is_masked(openai_server: OpenAIServer, config_file: Path) -> None:
    """OpenAI itself answers `Incorrect API key provided: sk-...`."""
    use_server(config_file, openai_server, model=FIRST, api_key=KEY)
    openai_server.enqueue(
        error_reply(401, f"Incorrect API key provided: {KEY}.", code="invalid_api_key")
    )

    run = wai("ask", "hi")

    run.assert_secret_absent(KEY)
    assert outcome(run) == (
        3,
        "",
        lines(
            f"wai: error: {where(openai_server)} answered HTTP 401: "
            f"Incorrect API key provided: {MASK}.",
            KEY_HINT.format("local"),
        ),
    )


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "template", "message"),
    [
        pytest.param("local", "model '{model}' not found", "model 'nope' not found", id="local"),
        pytest.param(
            "vllm",
            "The model `{model}` does not exist.",
            "The model `nope` does not exist.",
            id="vllm",
        ),
        pytest.param(
            "ollama",
            'model "{model}" not found, try pulling it first',
            'model "nope" not found, try pulling it first',
            id="ollama",
        ),
    ],
)
def test_unknown_model_exits_1_pointing_at_wai_models(
    openai_server: OpenAIServer, config_file: Path, name: str, template: str, message: str
) -> None:
    openai_server.model_not_found = template
    use_server(config_file, openai_server, name)

    run = wai("ask", "-b", name, "-m", "nope", "hi")

    assert outcome(run) == (
        1,
        "",
        lines(
            f"wai: error: {where(openai_server, name)} answered HTTP 404: {message}",
            f"hint: `wai models -b {name}` lists the models it has; pick one with -m",
        ),
    )
    assert openai_server.calls == [("POST", CHAT_PATH)]


RATE_LIMITED = error_reply(429, "Rate limit reached", "rate_limit_error", 429)
RETRIED = {
    "429": (RATE_LIMITED, "HTTP 429: Rate limit reached", 5),
    "429 with Retry-After": (
        error_reply(
            429, "Rate limit reached", "rate_limit_error", 429, headers={"Retry-After": "0"}
        ),
        "HTTP 429: Rate limit reached",
        5,
    ),
    "503 loading model": (
        error_reply(503, "Loading model", "unavailable_error", 503),
        "HTTP 503: Loading model",
        1,
    ),
    "502": (error_reply(502, "Bad gateway", "server_error", 502), "HTTP 502: Bad gateway", 1),
    "504": (
        error_reply(504, "Gateway timeout", "server_error", 504),
        "HTTP 504: Gateway timeout",
        1,
    ),
}


@pytest.mark.parametrize(("reply", "status", "exit_code"), RETRIED.values(), ids=RETRIED.keys())
def test_transient_failure_is_retried_then_answers(
    openai_server: OpenAIServer, config_file: Path, reply: Reply, status: str, exit_code: int
) -> None:
    use_server(config_file, openai_server, model=FIRST)
    openai_server.enqueue(reply)

    run = wai("ask", "hi")

    message = f"{where(openai_server)} answered {status}"
    assert outcome(run) == (0, ANSWER, lines(retry_notice(message, 1)))
    assert openai_server.calls == [("POST", CHAT_PATH)] * 2


@pytest.mark.parametrize(("reply", "status", "exit_code"), RETRIED.values(), ids=RETRIED.keys())
def test_retries_stop_after_three(
    openai_server: OpenAIServer, config_file: Path, reply: Reply, status: str, exit_code: int
) -> None:
    use_server(config_file, openai_server, model=FIRST)
    openai_server.enqueue(reply, reply, reply, reply)  # a fifth request would get an answer

    run = wai("ask", "hi")

    message = f"{where(openai_server)} answered {status}"
    assert outcome(run) == (
        exit_code,
        "",
        lines(*(retry_notice(message, n) for n in (1, 2, 3)), f"wai: error: {message}"),
    )
    assert openai_server.calls == [("POST", CHAT_PATH)] * 4


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        pytest.param(
            error_reply(500, "Internal server error", "server_error", 500),
            "HTTP 500: Internal server error",
            id="500",
        ),
        pytest.param(
            error_reply(400, "'temperature' must be a number", code=400),
            "HTTP 400: 'temperature' must be a number",
            id="400",
        ),
    ],
)
def test_other_failures_are_not_retried(
    openai_server: OpenAIServer, config_file: Path, reply: Reply, status: str
) -> None:
    use_server(config_file, openai_server, model=FIRST)
    openai_server.enqueue(reply)

    run = wai("ask", "hi")

    assert outcome(run) == (1, "", f"wai: error: {where(openai_server)} answered {status}\n")
    assert openai_server.calls == [("POST", CHAT_PATH)]


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(
            error_reply(
                400,
                "the request exceeds the available context size, try increasing it",
                "exceed_context_size_error",
                400,
            ),
            id="llama.cpp",
        ),
        pytest.param(
            error_reply(
                400,
                "This model's maximum context length is 512 tokens. However, you requested 1536 "
                "tokens (512 in the messages, 1024 in the completion). Please reduce the length "
                "of the messages or completion.",
                code="context_length_exceeded",
            ),
            id="llama-cpp-python",
        ),
    ],
)
def test_a_prompt_longer_than_the_context_says_what_to_do(
    openai_server: OpenAIServer, config_file: Path, reply: Reply
) -> None:
    use_server(config_file, openai_server, "llamacpp", model=FIRST)
    openai_server.enqueue(reply)

    run = wai("ask", "hi")

    message = json.loads(reply.chunks[0])["error"]["message"]
    assert outcome(run) == (
        1,
        "",
        lines(
            f"wai: error: {where(openai_server, 'llamacpp')} answered HTTP 400: {message}",
            CONTEXT_HINT.format("llamacpp"),
        ),
    )
    assert openai_server.calls == [("POST", CHAT_PATH)]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        pytest.param(
            error_event("CUDA error: out of memory"), "CUDA error: out of memory", id="object"
        ),
        pytest.param(
            b'data: {"error": "an error was encountered while running the model"}\n\n',
            "an error was encountered while running the model",
            id="string",
        ),
    ],
)
def test_error_event_mid_stream_keeps_the_text_and_exits_1(
    openai_server: OpenAIServer, config_file: Path, isolated: Path, event: bytes, message: str
) -> None:
    use_server(config_file, openai_server, model=FIRST)
    head = sse(*chat_events(TOKENS, finish_reason=None), done=False)
    openai_server.enqueue(Reply.stream(head + event + sse()))

    run = wai("ask", "--session", "broken", "hi")

    assert outcome(run) == (
        1,
        PARTIAL,
        f"wai: error: {where(openai_server)} reported an error: {message}\n",
    )
    assert openai_server.calls == [("POST", CHAT_PATH)]
    [session] = saved_sessions(isolated)
    assert scoped(session) == [user("hi"), {"role": "assistant", "content": PARTIAL}]
    assert session["messages"][-1]["meta"]["interrupted"] is True


# llama.cpp's server sends a streaming error as an `error:` field line (not `data:`), then
# `data: [DONE]`; for a prompt longer than its context this arrives before any token.
EXCEEDED = "the request exceeds the available context size, try increasing it"
CONTEXT_ERROR = {"code": 400, "message": EXCEEDED, "type": "exceed_context_size_error"}


def test_llama_cpp_error_line_mid_stream_keeps_the_text_and_exits_1(
    openai_server: OpenAIServer, config_file: Path, isolated: Path
) -> None:
    use_server(config_file, openai_server, "llamacpp", model=FIRST)
    error = {"code": 500, "message": "failed to decode the batch", "type": "server_error"}
    head = sse(*chat_events(TOKENS, finish_reason=None), done=False)
    openai_server.enqueue(Reply.stream(head + f"error: {json.dumps(error)}\n\n".encode() + sse()))

    run = wai("ask", "--session", "broken", "hi")

    assert outcome(run) == (
        1,
        PARTIAL,
        f"wai: error: {where(openai_server, 'llamacpp')} reported an error: "
        "failed to decode the batch\n",
    )
    [session] = saved_sessions(isolated)
    assert session["messages"][-1]["meta"]["interrupted"] is True


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(f"error: {json.dumps(CONTEXT_ERROR)}", id="llama.cpp error line"),
        pytest.param(f"data: {json.dumps({'error': CONTEXT_ERROR})}", id="error data event"),
    ],
)
def test_a_context_error_event_shows_the_message_and_the_hint(
    openai_server: OpenAIServer, config_file: Path, line: str
) -> None:
    use_server(config_file, openai_server, "llamacpp", model=FIRST)
    openai_server.enqueue(Reply.stream(f"{line}\n\n".encode() + sse()))

    run = wai("ask", "hi")

    assert outcome(run) == (
        1,
        "",
        lines(
            f"wai: error: {where(openai_server, 'llamacpp')} reported an error: {EXCEEDED}",
            CONTEXT_HINT.format("llamacpp"),
        ),
    )
    assert openai_server.calls == [("POST", CHAT_PATH)]


@pytest.mark.parametrize("split", [None, 9], ids=["one read", "split reads"])
def test_cut_mid_stream_keeps_the_text_and_exits_4(
    openai_server: OpenAIServer, config_file: Path, isolated: Path, split: int | None
) -> None:
    use_server(config_file, openai_server, model=FIRST)
    body = sse(*chat_events(TOKENS, finish_reason=None), done=False)
    openai_server.enqueue(Reply.stream(body, split=split, cut=True))

    run = wai("ask", "--session", "cut", "hi")

    assert outcome(run) == (
        4,
        PARTIAL,
        lines(
            "wai: error: the answer is incomplete: the connection to "
            f"{where(openai_server)} was cut off",
            INCOMPLETE_HINT,
        ),
    )
    assert openai_server.calls == [("POST", CHAT_PATH)]
    [session] = saved_sessions(isolated)
    assert scoped(session) == [user("hi"), {"role": "assistant", "content": PARTIAL}]
    assert session["messages"][-1]["meta"]["interrupted"] is True


def test_cut_before_any_text_is_retried(openai_server: OpenAIServer, config_file: Path) -> None:
    use_server(config_file, openai_server, model=FIRST)
    openai_server.enqueue(Reply.stream(sse(chat_chunk(role=True), done=False), cut=True))

    run = wai("ask", "hi")

    assert outcome(run) == (
        0,
        ANSWER,
        lines(retry_notice(f"the connection to {where(openai_server)} was cut off", 1)),
    )
    assert openai_server.calls == [("POST", CHAT_PATH)] * 2


@pytest.mark.parametrize(
    ("reply", "args", "expected"),
    [
        pytest.param(
            Reply(chunks=[]),
            (),
            lines("wai: error: {where} sent an empty answer", CONTEXT_HINT.format("local")),
            id="event stream",
        ),
        pytest.param(
            Reply(content_type="application/json", chunks=[]),
            (),
            lines("wai: error: {where} sent an empty answer", CONTEXT_HINT.format("local")),
            id="json to a streaming request",
        ),
        pytest.param(
            Reply(content_type="application/json", chunks=[]),
            ("--no-stream",),
            lines("wai: error: {where} sent an empty answer", CONTEXT_HINT.format("local")),
            id="json, not streaming",
        ),
    ],
)
def test_an_empty_200_is_an_error_not_an_empty_answer(
    openai_server: OpenAIServer,
    config_file: Path,
    isolated: Path,
    reply: Reply,
    args: tuple[str, ...],
    expected: str,
) -> None:
    """llama.cpp answers 200 with nothing when the prompt is longer than its context."""
    use_server(config_file, openai_server, model=FIRST)
    openai_server.enqueue(reply)

    run = wai("ask", *args, "hi")

    assert outcome(run) == (1, "", expected.format(where=where(openai_server)))
    assert openai_server.calls == [("POST", CHAT_PATH)]
    assert saved_sessions(isolated) == []


def test_a_silent_server_times_out(openai_server: OpenAIServer, config_file: Path) -> None:
    use_server(config_file, openai_server, model=FIRST, top={"read_timeout": 0.5})
    openai_server.enqueue(Reply(chunks=[], stall=True))

    run = wai("ask", "hi")

    assert outcome(run) == (
        4,
        "",
        lines(
            f"wai: error: {where(openai_server)} sent nothing for 0.5 s",
            "hint: the server may be overloaded; raise read_timeout with "
            "`wai config set read_timeout SECONDS`",
        ),
    )


# --- nothing listening -----------------------------------------------------------------------


def refused(name: str, url: str) -> str:
    return f"could not connect to the {name} server at {url}: [Errno 111] Connection refused"


@pytest.mark.parametrize("name", sorted(START))
def test_ready_made_backend_with_nothing_listening_says_how_to_start_it(
    config_file: Path, name: str
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    write_config(config_file, backends={name: {"base_url": url}})

    run = wai("ask", "-b", name, "-m", "some-model", "hi")

    assert outcome(run) == (
        4,
        "",
        lines(
            *(retry_notice(refused(name, url), n) for n in (1, 2, 3)),
            f"wai: error: {refused(name, url)}",
            f"hint: start it with: {START[name]}",
        ),
    )


@pytest.mark.parametrize("name", sorted(START))
def test_listing_models_with_nothing_listening_says_how_to_start_it(
    config_file: Path, name: str
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    write_config(config_file, backend=name, backends={name: {"base_url": url}})

    run = wai("ask", "hi")

    assert outcome(run) == (
        4,
        "",
        lines(f"wai: error: {refused(name, url)}", f"hint: start it with: {START[name]}"),
    )


def test_a_configured_server_with_nothing_listening_names_its_base_url(config_file: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    write_config(
        config_file,
        backend="local",
        retries=0,
        backends={"local": {"type": "openai", "base_url": url, "model": "m"}},
    )

    run = wai("ask", "hi")

    assert outcome(run) == (
        4,
        "",
        lines(
            f"wai: error: {refused('local', url)}",
            "hint: start the server, or check backends.local.base_url",
        ),
    )
