"""Model options end to end: `-o/--option KEY VALUE` adds any body field (VALUE as JSON where it
parses, else a string), `--reasoning-effort` sends `reasoning_effort` where a model takes it.

In-process runs (`wai`) call the Typer app directly, so they write `-o KEY=VALUE`; the entry
point pairs `-o KEY VALUE` into that form, which real processes (`wai_process`) check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.backends.test_openai import chat_body, use_server
from tests.conftest import Run, wai, wai_process
from tests.servers.openai_compat import MODELS, OpenAIServer
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_MODEL,
    GPT_OSS_120B,
    QWEN3_30B,
    V1_PATH,
    WorkersAIServer,
)
from wai.cli import paired_options
from wai.cli.options import ReasoningEffort
from wai.settings.params import REASONING_EFFORTS, REQUEST_FIELDS

ANSWER = "Hello, world!"
HI = {"role": "user", "content": "hi"}
NO_THINKING = '{"enable_thinking": false}'
NO_REASONING_EFFORT = (
    f"wai: error: {DEFAULT_MODEL} takes no reasoning effort\n"
    "hint: it is for models that take Chat Completions bodies, such as @cf/openai/gpt-oss-120b "
    "or @cf/qwen/qwen3-30b-a3b-fp8\n"
)


def ask(*args: str) -> Run:
    return wai("ask", "--plain", "--no-save", *args)


def body(*messages: dict[str, str], **params: Any) -> dict[str, Any]:
    """The body `wai ask --plain` sends to /ai/run, in its order: known params, then options."""
    return {"messages": list(messages or [HI]), "stream": True, "max_tokens": 1024, **params}


def assert_sent(server: WorkersAIServer, expected: dict[str, Any]) -> None:
    """The one request's body, its keys in their order too."""
    [request] = server.run_requests
    assert json.dumps(request.body) == json.dumps(expected)


def assert_refused(run: Run, stderr: str, server: WorkersAIServer | None = None) -> None:
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", stderr)
    if server is not None:
        assert server.requests == []


def session_file(isolated: Path, name: str) -> dict[str, Any]:
    return json.loads((isolated / "data" / "sessions" / f"{name}.json").read_text())


# --- -o KEY=VALUE --------------------------------------------------------------------------------


def test_option_values_are_json_where_they_parse(server: WorkersAIServer) -> None:
    run = ask("-o", "logprobs=true", "-o", "n=2", "-o", "top_logprobs=0.5", "-o", "stop=null", "hi")
    assert (run.exit_code, run.stdout, run.stderr) == (0, ANSWER, "")
    assert_sent(server, body(logprobs=True, n=2, top_logprobs=0.5, stop=None))


def test_option_values_that_are_not_json_are_strings(server: WorkersAIServer) -> None:
    run = ask("-o", "stop=END", "-o", 'tag="42"', "-o", "empty=", "-o", "expr=a=b c", "hi")
    assert run.exit_code == 0
    assert_sent(server, body(stop="END", tag="42", empty="", expr="a=b c"))


def test_option_values_may_be_nested_objects_and_arrays(server: WorkersAIServer) -> None:
    run = ask(
        "-o",
        f"chat_template_kwargs={NO_THINKING}",
        "-o",
        'tools=[{"type": "function", "function": {"name": "now", "parameters": {}}}]',
        "hi",
    )
    assert run.exit_code == 0
    assert_sent(
        server,
        body(
            chat_template_kwargs={"enable_thinking": False},
            tools=[{"type": "function", "function": {"name": "now", "parameters": {}}}],
        ),
    )


def test_a_repeated_key_takes_its_last_value(server: WorkersAIServer) -> None:
    run = ask("-o", "n=1", "-o", "stop=x", "--option", "n=3", "hi")
    assert run.exit_code == 0
    assert_sent(server, body(n=3, stop="x"))


def test_options_come_after_the_known_params_which_keep_their_order(
    server: WorkersAIServer,
) -> None:
    run = ask("-o", "n=2", "-o", "temperature=0.2", "--top-k", "5", "-o", "top-p=0.5", "hi")
    assert run.exit_code == 0
    assert_sent(server, body(temperature=0.2, top_p=0.5, top_k=5, n=2))
    assert type(server.last_body["temperature"]) is float


def test_a_parameters_own_flag_beats_its_option(server: WorkersAIServer) -> None:
    run = ask("--temperature", "0.3", "-o", "temperature=0.9", "hi")
    assert run.exit_code == 0
    assert_sent(server, body(temperature=0.3))


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (("-o", "temperature=9"), "wai: error: --temperature is 9, out of range: allowed 0 to 5\n"),
        (("--temperature", "9"), "wai: error: --temperature is 9, out of range: allowed 0 to 5\n"),
        (("-o", "top_k=2.5"), "wai: error: --top-k must be a whole number, got 2.5\n"),
        (("-o", "seed=soon"), "wai: error: --seed must be a number, got 'soon'\n"),
        (("-o", "temperature=NaN"), "wai: error: --temperature must be a finite number, got nan\n"),
        (("--temperature", "nan"), "wai: error: --temperature must be a finite number, got nan\n"),
    ],
)
def test_a_known_parameter_keeps_its_check(
    server: WorkersAIServer, args: tuple[str, ...], stderr: str
) -> None:
    assert_refused(ask(*args, "hi"), stderr, server)


@pytest.mark.parametrize("key", REQUEST_FIELDS)
def test_a_field_the_request_sets_is_refused(server: WorkersAIServer, key: str) -> None:
    assert set(REQUEST_FIELDS) == {
        "messages",
        "prompt",
        "stream",
        "model",
        "raw",
        "response_format",
    }
    run = ask("-o", f"{key}=false", "hi")
    assert_refused(run, f"wai: error: -o {key}: wai sets this field itself\n", server)


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-Infinity", "1e999", '{"a": [1, NaN]}', '[{"b": Infinity}]']
)
def test_nan_and_infinity_are_refused(server: WorkersAIServer, value: str) -> None:
    run = ask("-o", f"x={value}", "hi")
    assert_refused(
        run, "wai: error: -o x: NaN and Infinity cannot be sent in a JSON body\n", server
    )


def test_an_option_without_a_key_is_refused(server: WorkersAIServer) -> None:
    assert_refused(
        ask("-o", "=1", "hi"), "wai: error: an option needs a KEY: -o KEY VALUE\n", server
    )


def test_an_option_without_a_value_is_a_typer_usage_error(server: WorkersAIServer) -> None:
    run = ask("hi", "-o", "temperature")
    assert_refused(
        run,
        "wai: error: invalid value for '-o' / '--option': 'temperature' needs a VALUE: "
        "-o KEY VALUE\nhint: `wai ask --help` shows how to use it\n",
        server,
    )


def test_show_request_shows_the_options_in_the_body(server: WorkersAIServer) -> None:
    run = wai(
        "ask", "--show-request", "-o", f"chat_template_kwargs={NO_THINKING}", "-o", "n=2", "hi"
    )
    url = f"{server.base_url}/accounts/{ACCOUNT}/ai/run/{DEFAULT_MODEL}"
    sent = (
        '{"messages": [{"role": "user", "content": "hi"}], "stream": true, "max_tokens": 1024, '
        '"chat_template_kwargs": {"enable_thinking": false}, "n": 2}'
    )
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout == (
        f"curl -sN -X POST {url} \\\n"
        "  -H 'Authorization: Bearer '\"$CLOUDFLARE_API_TOKEN\" \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        "  -H 'Accept: text/event-stream' \\\n"
        f"  -d '{sent}'\n"
    )
    assert server.requests == []


def test_options_are_recorded_in_the_session_and_reused_on_continue(
    server: WorkersAIServer, isolated: Path
) -> None:
    first = wai(
        "ask", "--plain", "--session", "opts", "-o", f"chat_template_kwargs={NO_THINKING}",
        "-o", "n=2", "--temperature", "0.5", "hi",
    )  # fmt: skip
    assert first.exit_code == 0
    recorded = {"temperature": 0.5, "chat_template_kwargs": {"enable_thinking": False}, "n": 2}
    assert session_file(isolated, "opts")["params"] == recorded

    again = wai("ask", "--plain", "-c", "again")
    assert again.exit_code == 0
    said = [HI, {"role": "assistant", "content": ANSWER}, {"role": "user", "content": "again"}]
    assert json.dumps(server.last_body) == json.dumps(body(*said, **recorded))

    changed = wai("ask", "--plain", "-c", "-o", "n=3", "-o", "stop=END", "more")
    assert changed.exit_code == 0
    assert server.last_body["n"] == 3
    assert server.last_body["stop"] == "END"
    assert session_file(isolated, "opts")["params"] == {**recorded, "n": 3, "stop": "END"}


def test_a_session_option_is_checked_again_when_continued(
    server: WorkersAIServer, isolated: Path
) -> None:
    """A session file edited by hand cannot sneak in a field the request sets."""
    assert wai("ask", "--plain", "--session", "edited", "hi").exit_code == 0
    path = isolated / "data" / "sessions" / "edited.json"
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "params": {"stream": False}}))
    run = wai("ask", "--plain", "--session", "edited", "again")
    assert_refused(run, "wai: error: -o stream: wai sets this field itself\n")
    assert len(server.run_requests) == 1


def test_config_params_still_refuse_an_unknown_key(
    server: WorkersAIServer, config_file: Path
) -> None:
    """Options are per command line or session: the config file's [params] stays as strict."""
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[params]\nn = 2\n")
    run = ask("hi")
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == (
        f"wai: error: {config_file}: params.n: unknown key (known here: max_tokens, temperature, "
        "top_p, top_k, seed, repetition_penalty, frequency_penalty, presence_penalty, lora)\n"
        "hint: fix it with `wai config set params.n VALUE` or `wai config unset params.n`\n"
    )
    assert server.requests == []


def test_help_says_options_are_not_config_settings() -> None:
    run = wai("ask", "--help")
    text = " ".join(run.stdout.split())
    assert "-o, --option KEY VALUE" in text
    assert "the config's [params] takes only the known parameters" in text
    assert "--reasoning-effort <low|medium|high>" in text
    assert "-o, --option KEY VALUE" in " ".join(wai("chat", "--help").stdout.split())


# --- wai chat ----------------------------------------------------------------------------------


@contextmanager
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`wai chat` with piped stdin answers it and leaves: no /dev/tty to go on with."""

    @contextmanager
    def none() -> Iterator[None]:
        yield None

    monkeypatch.setattr("wai.cli.chat._open_terminal", none)
    yield


def test_chat_takes_options_and_reasoning_effort(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    with no_terminal(monkeypatch):
        run = wai(
            "chat", "--session", "c", "-m", QWEN3_30B, "-o", f"chat_template_kwargs={NO_THINKING}",
            "--reasoning-effort", "low", input="hi\n",
        )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    params = {"chat_template_kwargs": {"enable_thinking": False}, "reasoning_effort": "low"}
    assert json.dumps(server.last_body) == json.dumps(body(max_tokens=16_384) | params)
    assert session_file(isolated, "c")["params"] == params


def test_chat_refuses_a_reasoning_effort_for_the_seed_model(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with no_terminal(monkeypatch):
        run = wai("chat", "--reasoning-effort", "high", input="hi\n")
    assert_refused(run, NO_REASONING_EFFORT, server)


# --- --reasoning-effort ------------------------------------------------------------------------


def test_reasoning_effort_for_a_chat_completions_model_on_ai_run(server: WorkersAIServer) -> None:
    run = ask("-m", QWEN3_30B, "--reasoning-effort", "high", "hi")
    assert (run.exit_code, run.stdout) == (0, "A **cow** is")
    [request] = server.run_requests
    assert request.path == f"/client/v4/accounts/{ACCOUNT}/ai/run/{QWEN3_30B}"
    assert json.dumps(request.body) == json.dumps(body(max_tokens=16_384, reasoning_effort="high"))


def test_reasoning_effort_for_gpt_oss_goes_to_the_chat_completions_endpoint(
    server: WorkersAIServer,
) -> None:
    run = ask("-m", GPT_OSS_120B, "--reasoning-effort", "medium", "-o", "seed=7", "hi")
    assert (run.exit_code, run.stdout) == (0, "The answer is 42")
    [request] = server.v1_requests
    assert request.path == V1_PATH
    assert json.dumps(request.body) == json.dumps(
        {
            "model": GPT_OSS_120B,
            "messages": [HI],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 16_384,
            "seed": 7,
            "reasoning_effort": "medium",
        }
    )
    assert server.run_requests == []


def test_reasoning_effort_for_an_openai_compatible_server(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server)
    run = ask("--reasoning-effort", "low", "-o", "chat_template_kwargs={}", "hi")
    assert (run.exit_code, run.stdout, run.stderr) == (0, ANSWER, "")
    assert json.dumps(openai_server.last_body) == json.dumps(
        chat_body(MODELS[0], HI, chat_template_kwargs={}, reasoning_effort="low")
    )


def test_reasoning_effort_for_a_model_wai_does_not_know_is_sent(
    server: WorkersAIServer,
) -> None:
    run = wai("ask", "--show-request", "-m", "@cf/new/model", "--reasoning-effort", "high", "hi")
    assert run.exit_code == 0
    assert '"max_tokens": 1024, "reasoning_effort": "high"}' in run.stdout


@pytest.mark.parametrize("args", [("--reasoning-effort", "high"), ("-o", "reasoning_effort=low")])
def test_reasoning_effort_for_a_native_body_model_is_a_usage_error(
    server: WorkersAIServer, args: tuple[str, ...]
) -> None:
    assert_refused(ask(*args, "hi"), NO_REASONING_EFFORT, server)
    other = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    assert_refused(
        ask("-m", other, *args, "hi"),
        NO_REASONING_EFFORT.replace(DEFAULT_MODEL, other),
        server,
    )


def test_reasoning_effort_is_one_of_three_levels(server: WorkersAIServer) -> None:
    assert [effort.value for effort in ReasoningEffort] == list(REASONING_EFFORTS)
    run = ask("-m", QWEN3_30B, "--reasoning-effort", "max", "hi")
    assert run.exit_code == 2
    assert "'max' is not one of 'low', 'medium', 'high'" in run.stderr
    assert server.requests == []


def test_the_reasoning_effort_flag_beats_its_option(server: WorkersAIServer) -> None:
    run = ask("-m", QWEN3_30B, "-o", "reasoning_effort=low", "--reasoning-effort", "high", "hi")
    assert run.exit_code == 0
    assert server.last_body["reasoning_effort"] == "high"


# --- -o KEY VALUE through the entry point ------------------------------------------------------


def test_a_real_process_pairs_key_and_value(server: WorkersAIServer) -> None:
    done = wai_process(
        "ask", "--plain", "--no-save", "-o", "chat_template_kwargs", NO_THINKING,
        "--option", "stop", "a=b", "-o", "n=2", "hi",
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, ANSWER.encode(), b"")
    assert_sent(server, body(chat_template_kwargs={"enable_thinking": False}, stop="a=b", n=2))


def test_a_real_process_without_a_value_is_a_usage_error(server: WorkersAIServer) -> None:
    done = wai_process("ask", "--no-save", "hi", "-o", "temperature")
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "wai: error: invalid value for '-o' / '--option': 'temperature' needs a VALUE: "
        "-o KEY VALUE\nhint: `wai ask --help` shows how to use it\n"
    )
    assert server.requests == []


@pytest.mark.parametrize(
    ("args", "paired"),
    [
        (["ask", "-o", "k", "1", "hi"], ["ask", "--option=k=1", "hi"]),
        (["ask", "--option", "k", "v w"], ["ask", "--option=k=v w"]),
        (["ask", "--option=k", "1"], ["ask", "--option=k=1"]),
        (["--debug", "chat", "-o", "k", "{}"], ["--debug", "chat", "--option=k={}"]),
        (["ask", "-o", "k=1", "hi"], ["ask", "--option=k=1", "hi"]),  # KEY=VALUE already
        (["ask", "-o", "k=", "hi"], ["ask", "--option=k=", "hi"]),
        (["ask", "-o", "k"], ["ask", "--option=k"]),  # no VALUE: Typer refuses it
        (["ask", "-o"], ["ask", "-o"]),
        (["ask", "-o", "k", "--", "v"], ["ask", "--option=k", "--", "v"]),
        (["ask", "--", "-o", "k", "v"], ["ask", "--", "-o", "k", "v"]),  # words after `--`
        (["sessions", "show", "-o", "k", "v"], ["sessions", "show", "-o", "k", "v"]),
        (["config", "set", "-o", "k"], ["config", "set", "-o", "k"]),
        ([], []),
    ],
)
def test_paired_options(args: list[str], paired: list[str]) -> None:
    assert paired_options(args) == paired
