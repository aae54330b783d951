"""`wai ask`: where the prompt comes from, what is sent, and the output modes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import popen_wai, wai, wai_process
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_MODEL,
    TOKEN,
    Reply,
    WorkersAIServer,
    sse,
    token_events,
)

ANSWER = "Hello, world!"


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def test_piped_context_comes_before_the_words(server: WorkersAIServer) -> None:
    completed = wai_process("ask", "--plain", "say hi", input=b"context")
    assert completed.returncode == 0
    assert completed.stdout == ANSWER.encode()
    assert completed.stderr == b""
    assert server.last_body == {
        "messages": user("context\n\nsay hi"),
        "stream": True,
        "max_tokens": 1024,
    }
    request = server.run_requests[-1]
    assert request.path == f"/client/v4/accounts/{ACCOUNT}/ai/run/{DEFAULT_MODEL}"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("args", "stdin", "prompt"),
    [
        (["why", "is", "the", "sky", "blue?"], "", "why is the sky blue?"),
        (["why?"], "line one\nline two\n", "line one\nline two\n\nwhy?"),
        (["-"], "only stdin\n", "only stdin"),
        ([], "only stdin, no words", "only stdin, no words"),
        (["why?"], "\n\n", "why?"),  # an empty stdin counts as none
    ],
)
def test_prompt_sources(server: WorkersAIServer, args: list[str], stdin: str, prompt: str) -> None:
    run = wai("ask", *args, input=stdin)
    assert (run.exit_code, run.stdout, run.stderr) == (0, ANSWER, "")
    assert server.last_body["messages"] == user(prompt)


@pytest.mark.parametrize("args", [[], ["-"], ["  "]])
def test_nothing_to_ask_is_a_usage_error(server: WorkersAIServer, args: list[str]) -> None:
    run = wai("ask", *args, input="")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr == (
        "wai: error: nothing to ask\n"
        'hint: give a prompt (`wai ask "why is the sky blue?"`) or pipe text in\n'
    )
    assert server.run_requests == []


def test_empty_stdin_from_dev_null_counts_as_none(server: WorkersAIServer) -> None:
    completed = wai_process("ask", "hi", input=b"")
    assert (completed.returncode, completed.stdout) == (0, ANSWER.encode())
    assert server.last_body["messages"] == user("hi")


def test_invalid_utf8_on_stdin_is_replaced_with_a_warning(server: WorkersAIServer) -> None:
    completed = wai_process("ask", "what is this?", input=b"caf\xe9 \xff!")
    assert completed.returncode == 0
    assert (
        completed.stderr
        == (
            "wai: warning: stdin is not valid UTF-8; undecodable bytes were replaced with �\n"
        ).encode()
    )
    assert server.last_body["messages"] == user("caf� �!\n\nwhat is this?")


def test_system_message_goes_first(server: WorkersAIServer) -> None:
    run = wai("ask", "-s", "Be brief.", "hi")
    assert run.exit_code == 0
    assert server.last_body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]


def test_system_message_from_config(server: WorkersAIServer, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('system = "You are terse."\n')
    assert wai("ask", "hi").exit_code == 0
    assert server.last_body["messages"][0] == {"role": "system", "content": "You are terse."}


def test_every_parameter_is_sent(server: WorkersAIServer) -> None:
    run = wai(
        "ask", "hi",
        "--max-tokens", "200", "--temperature", "0.2", "--top-p", "0.9", "--top-k", "40",
        "--seed", "42", "--repetition-penalty", "1.1", "--frequency-penalty", "0.5",
        "--presence-penalty", "-0.5",
    )  # fmt: skip
    assert run.exit_code == 0
    assert server.last_body == {
        "messages": user("hi"),
        "stream": True,
        "max_tokens": 200,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "seed": 42,
        "repetition_penalty": 1.1,
        "frequency_penalty": 0.5,
        "presence_penalty": -0.5,
    }


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("--temperature", "5.5", "5.5, out of range: allowed 0 to 5"),
        ("--temperature", "-1", "-1, out of range: allowed 0 to 5"),
        ("--top-p", "0", "0, out of range: allowed 0.001 to 1"),
        ("--top-k", "51", "51, out of range: allowed 1 to 50"),
        ("--top-k", "0", "0, out of range: allowed 1 to 50"),
        ("--seed", "0", "0, out of range: allowed 1 to 9999999999"),
        ("--seed", "10000000000", "10000000000, out of range: allowed 1 to 9999999999"),
        ("--repetition-penalty", "2.5", "2.5, out of range: allowed 0 to 2"),
        ("--frequency-penalty", "-3", "-3, out of range: allowed -2 to 2"),
        ("--presence-penalty", "2.01", "2.01, out of range: allowed -2 to 2"),
        ("--max-tokens", "0", "0, out of range: allowed at least 1"),
    ],
)
def test_out_of_range_values_are_refused_before_sending(
    server: WorkersAIServer, option: str, value: str, allowed: str
) -> None:
    run = wai("ask", "hi", option, value)
    assert run.exit_code == 2
    assert run.stderr == f"wai: error: {option} is {allowed}\n"
    assert run.stdout == ""
    assert server.requests == []


def test_raw_sends_an_unscoped_prompt(server: WorkersAIServer) -> None:
    prompt = "<s>[INST] Say *hi* [/INST]"
    run = wai("ask", "--raw", "--lora", "my-adapter", prompt)
    assert (run.exit_code, run.stdout) == (0, ANSWER)
    assert server.last_body == {
        "prompt": prompt,
        "raw": True,
        "stream": True,
        "max_tokens": 1024,
        "lora": "my-adapter",
    }


def test_raw_refuses_a_system_message(server: WorkersAIServer) -> None:
    run = wai("ask", "--raw", "-s", "Be brief.", "[INST] hi [/INST]")
    assert run.exit_code == 2
    assert run.stderr == (
        "wai: error: --system cannot be used with --raw: write it into the prompt\n"
    )
    assert server.requests == []


def test_lora_needs_raw(server: WorkersAIServer) -> None:
    run = wai("ask", "--lora", "my-adapter", "hi")
    assert run.exit_code == 2
    assert run.stderr == (
        "wai: error: --lora works only with --raw (Workers AI takes LoRA with a prompt)\n"
    )


def test_json_prints_one_object(server: WorkersAIServer) -> None:
    run = wai("ask", "--json", "hi")
    assert run.exit_code == 0
    assert run.stderr == ""
    assert run.stdout.count("\n") == 1
    assert json.loads(run.stdout) == {
        "response": ANSWER,
        "reasoning": None,
        "model": DEFAULT_MODEL,
        "backend": "cloudflare",
        "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
        "finish_reason": "stop",
        "session": f"{date.today():%Y-%m-%d}-hi",
    }


def test_usage_goes_to_stderr(server: WorkersAIServer) -> None:
    run = wai("ask", "-u", "hi")
    assert (run.exit_code, run.stdout) == (0, ANSWER)
    assert run.stderr == "wai: usage: 12 prompt + 4 completion = 16 tokens\n"


def test_no_stream_sends_stream_false(server: WorkersAIServer) -> None:
    run = wai("ask", "--no-stream", "hi")
    assert (run.exit_code, run.stdout) == (0, ANSWER)
    assert server.last_body["stream"] is False


def test_show_request_prints_curl_and_sends_nothing(server: WorkersAIServer) -> None:
    run = wai("ask", "--show-request", "-s", "Be brief.", "it's", "--temperature", "0.3")
    assert run.exit_code == 0
    assert run.stderr == ""
    url = f"{server.base_url}/accounts/{ACCOUNT}/ai/run/{DEFAULT_MODEL}"
    body = (
        '{"messages": [{"role": "system", "content": "Be brief."}, '
        '{"role": "user", "content": "it\'"\'"\'s"}], "stream": true, "max_tokens": 1024, '
        '"temperature": 0.3}'
    )
    assert run.stdout == (
        f"curl -sN -X POST {url} \\\n"
        "  -H 'Authorization: Bearer '\"$CLOUDFLARE_API_TOKEN\" \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        "  -H 'Accept: text/event-stream' \\\n"
        f"  -d '{body}'\n"
    )
    assert server.requests == []


def test_show_request_works_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    run = wai("ask", "--show-request", "--no-stream", "hi")
    assert run.exit_code == 0
    assert run.stdout.startswith(
        'curl -s -X POST "https://api.cloudflare.com/client/v4/accounts/'
        f'$CLOUDFLARE_ACCOUNT_ID/ai/run/{DEFAULT_MODEL}" \\\n'
    )


def test_show_request_never_shows_the_token(server: WorkersAIServer, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(f'[backends.cloudflare]\napi_token = "{TOKEN}"\n')
    run = wai("ask", "--show-request", "hi", env={"CLOUDFLARE_API_TOKEN": ""})
    assert run.exit_code == 0
    assert TOKEN not in run.stdout
    assert "$CLOUDFLARE_API_TOKEN" in run.stdout


def test_gateway_routes_through_ai_gateway(server: WorkersAIServer, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        "[backends.cloudflare]\n"
        'gateway = "my-gateway"\n'
        f'gateway_base_url = "{server.gateway_base_url}"\n'
    )
    run = wai("ask", "hi")
    assert (run.exit_code, run.stdout) == (0, ANSWER)
    assert server.run_requests[-1].path == (
        f"/gateway/v1/{ACCOUNT}/my-gateway/workers-ai/{DEFAULT_MODEL}"
    )


@pytest.mark.parametrize(
    "base_url",
    ["http://api.cloudflare.com/client/v4", "https://evil.example.com/client/v4"],
)
def test_token_goes_only_to_cloudflare_over_https(server: WorkersAIServer, base_url: str) -> None:
    run = wai("ask", "hi", env={"CLOUDFLARE_API_BASE_URL": base_url})
    assert run.exit_code == 3
    scheme_host = base_url.rsplit("/client", 1)[0]
    assert run.stderr.startswith(
        f"wai: error: refusing to send the Cloudflare API token to {scheme_host}\n"
    )
    assert server.requests == []


def test_a_prompt_too_long_for_the_context_window_is_refused(server: WorkersAIServer) -> None:
    run = wai("ask", "--max-tokens", "1024", "summarise", input="word " * 2400)
    assert run.exit_code == 2
    assert run.stderr == (
        f"wai: error: the prompt is too long for {DEFAULT_MODEL}: about 3210 tokens, and its "
        "context window of 4096 tokens must also hold the 1024 tokens of the answer\n"
        "hint: shorten the input or lower --max-tokens\n"
    )
    assert server.requests == []


def test_a_default_max_tokens_shrinks_to_fit(server: WorkersAIServer) -> None:
    run = wai("ask", "summarise", input="word " * 2400)
    assert run.exit_code == 0
    assert server.last_body["max_tokens"] == 4096 - 3210


def test_missing_credentials(server: WorkersAIServer) -> None:
    run = wai("ask", "hi", env={"CLOUDFLARE_API_TOKEN": ""})
    assert run.exit_code == 3
    assert run.stderr == (
        "wai: error: no Cloudflare API token is configured\n"
        "hint: create one with Workers AI Read and Edit permissions at "
        "https://dash.cloudflare.com/profile/api-tokens, then run `wai login` "
        "(or export CLOUDFLARE_API_TOKEN=...)\n"
    )
    run = wai("ask", "hi", env={"CLOUDFLARE_ACCOUNT_ID": ""})
    assert run.exit_code == 3
    assert run.stderr.startswith("wai: error: no Cloudflare account id is configured\n")
    assert server.requests == []


def test_version_and_help() -> None:
    from wai import __version__

    assert wai("--version").stdout == f"wai {__version__}\n"
    run = wai("--help")
    assert run.exit_code == 0
    assert "ask" in run.stdout
    assert "config" in run.stdout
    assert "completions" in run.stdout


def test_python_dash_m_wai_works() -> None:
    completed = wai_process("--version")
    assert completed.returncode == 0
    assert completed.stdout.startswith(b"wai ")


def test_a_reader_that_leaves_early_stops_wai_quietly(server: WorkersAIServer) -> None:
    first = sse(*token_events(["first line\n"]), done=False)
    rest = sse(*token_events(["more\n"] * 50))
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))
    process = popen_wai("ask", "hi")
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == b"first line\n"
    process.stdout.close()  # like `| head -1`
    server.gate.release()
    stderr = process.stderr.read()
    assert process.wait(timeout=30) == 141
    assert stderr == b""


def test_a_reader_that_leaves_early_stops_live_markdown_quietly(server: WorkersAIServer) -> None:
    # The first block is finished (so printed) once the next one starts.
    first = sse(*token_events(["A first paragraph.\n\nThe next one\n"]), done=False)
    rest = sse(*token_events(["More text, in paragraphs.\n\n"] * 200))
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))
    process = popen_wai("ask", "--markdown", "hi")
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().rstrip() == b"A first paragraph."  # Rich pads lines
    process.stdout.close()  # like `| head -1`
    server.gate.release()
    stderr = process.stderr.read()
    assert (process.wait(timeout=30), stderr) == (141, b"")
