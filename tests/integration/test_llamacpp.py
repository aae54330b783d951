"""wai against a real llama.cpp server: llama-cpp-python's OpenAI-compatible server running a
tiny random-weight llama model written by tests/servers/tiny_gguf.py.

One server serves the whole module. Every request sends temperature 0, a fixed seed and
max_tokens (the model never ends an answer by itself), so the server's answers are deterministic:
each test asks the server the same question directly with httpx and compares.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Run, wai
from tests.servers.tiny_gguf import CONTEXT, write_model

STARTUP_TIMEOUT = 120.0
SETTINGS = ("--max-tokens", "8", "--temperature", "0", "--seed", "1")
PARAMS = {"max_tokens": 8, "temperature": 0.0, "seed": 1}
CONTEXT_HINT = (
    "hint: the prompt is probably longer than the server's context window: shorten it (`/new` "
    "in chat), set backends.local.context_window, or start the server with a larger context "
    "(llama.cpp: -c / --n_ctx)\n"
)
LONG_PROMPT = " ".join(["hello world"] * 400)  # 800 tokens and more, for a 512-token context


@dataclass
class LlamaServer:
    process: subprocess.Popen[bytes]
    base_url: str
    model: str  # the id /v1/models reports: the model file's path
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def explain(self, run: Run) -> str:
        """What went wrong, for an assertion message: wai's output and the server's log."""
        return (
            f"wai exited {run.exit_code}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
            f"\n--- llama.cpp server log (tail)\n{self.log_tail()}"
        )

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.base_url}/{path}", json=body, timeout=60)

    def answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The server's non-streamed answer to `body`."""
        response = self.post(path, {"model": self.model, **body, **PARAMS, "stream": False})
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document

    def streamed_events(self, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The server's streamed answer to `body` as it sends it (stream_options as wai does)."""
        request = {
            "model": self.model,
            **body,
            **PARAMS,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        events = []
        with httpx.stream("POST", f"{self.base_url}/{path}", json=request, timeout=60) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    events.append(json.loads(line.removeprefix("data: ")))
        return events


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> dict[str, Any]:
    """The /models document, once the server answers it; fails if the server dies or is slow."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                document: dict[str, Any] = response.json()
                return document
        except httpx.TransportError:
            pass
        try:  # a short wait on the process itself: it returns at once if the server died
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(
            f"the llama.cpp server exited with {process.returncode}:\n{log.read_text()}",
            pytrace=False,
        )
    pytest.fail(
        f"the llama.cpp server did not answer {url} within {STARTUP_TIMEOUT:g} s:\n"
        f"{log.read_text()}",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    directory = tmp_path_factory.mktemp("llamacpp")
    model = write_model(directory / "tiny-random-llama.gguf")
    port = _free_port()
    log = directory / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        "1",
        "--n_ctx",
        str(CONTEXT),
        "--interrupt_requests",
        "false",
    ]
    base_url = f"http://127.0.0.1:{port}/v1"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        models = _wait_until_ready(process, f"{base_url}/models", log)
        server = LlamaServer(process, base_url, models["data"][0]["id"], log)
        yield server
        assert process.poll() is None, f"the llama.cpp server died:\n{server.log_tail()}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def local(llama: LlamaServer, config_file: Path) -> LlamaServer:
    """A config with a `local` backend pointing at the server (and no model: wai asks it)."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'[backends.local]\ntype = "openai"\nbase_url = "{llama.base_url}"\n')
    return llama


def chat_text(document: dict[str, Any]) -> str:
    text: str = document["choices"][0]["message"]["content"]
    return text


def test_the_server_lists_the_model_file(llama: LlamaServer) -> None:
    assert llama.model.endswith("tiny-random-llama.gguf")
    assert Path(llama.model).is_file()


def test_ask_streams_the_answer_the_server_gives(local: LlamaServer) -> None:
    run = wai("ask", "-b", "local", *SETTINGS, "--plain", "hi")

    assert run.exit_code == 0, local.explain(run)
    assert run.stdout.strip()
    messages = [{"role": "user", "content": "hi"}]
    assert run.stdout == chat_text(local.answer("chat/completions", {"messages": messages}))
    events = local.streamed_events("chat/completions", {"messages": messages})
    deltas = [event["choices"][0]["delta"].get("content", "") for event in events]
    assert run.stdout == "".join(deltas)
    assert len([delta for delta in deltas if delta]) == PARAMS["max_tokens"]
    # the answer stops at max_tokens, and says so
    assert run.stderr == (
        f"wai: the answer was cut at max_tokens ({PARAMS['max_tokens']}); raise --max-tokens\n"
    )


def test_ask_without_streaming(local: LlamaServer) -> None:
    run = wai("ask", "-b", "local", *SETTINGS, "--plain", "--no-stream", "hello there")

    assert run.exit_code == 0, local.explain(run)
    messages = [{"role": "user", "content": "hello there"}]
    assert run.stdout == chat_text(local.answer("chat/completions", {"messages": messages}))
    assert run.stdout.strip()


def test_raw_prompt_goes_to_completions(local: LlamaServer) -> None:
    prompt = "[INST] hi [/INST]"
    run = wai("ask", "-b", "local", *SETTINGS, "--raw", prompt)

    assert run.exit_code == 0, local.explain(run)
    document = local.answer("completions", {"prompt": prompt})
    assert document["object"] == "text_completion"
    assert run.stdout == document["choices"][0]["text"]
    assert run.stdout.strip()
    events = local.streamed_events("completions", {"prompt": prompt})
    assert run.stdout == "".join(event["choices"][0]["text"] for event in events)


def test_json_of_a_stream_has_no_usage_because_the_server_sends_none(local: LlamaServer) -> None:
    run = wai("ask", "-b", "local", *SETTINGS, "--json", "--session", "one", "hi")

    assert run.exit_code == 0, local.explain(run)
    messages = [{"role": "user", "content": "hi"}]
    # llama-cpp-python ignores stream_options.include_usage: no usage chunk, no usage anywhere.
    events = local.streamed_events("chat/completions", {"messages": messages})
    assert all("usage" not in event for event in events)
    assert events[-1]["choices"][0]["finish_reason"] == "length"
    assert json.loads(run.stdout) == {
        "response": chat_text(local.answer("chat/completions", {"messages": messages})),
        "reasoning": None,
        "model": local.model,
        "backend": "local",
        "usage": None,
        "finish_reason": "length",
        "session": "one",
    }


def test_json_without_streaming_reports_the_servers_usage(local: LlamaServer) -> None:
    run = wai("ask", "-b", "local", *SETTINGS, "--json", "--no-stream", "--no-save", "hi")

    assert run.exit_code == 0, local.explain(run)
    document = local.answer("chat/completions", {"messages": [{"role": "user", "content": "hi"}]})
    usage = document["usage"]
    assert usage["completion_tokens"] == PARAMS["max_tokens"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert json.loads(run.stdout) == {
        "response": chat_text(document),
        "reasoning": None,
        "model": local.model,
        "backend": "local",
        "usage": usage,
        "finish_reason": "length",
        "session": None,
    }


def test_models_lists_what_the_server_reports(local: LlamaServer) -> None:
    run = wai("models", "-b", "local")

    assert run.exit_code == 0, local.explain(run)
    assert local.model in run.stdout


def test_a_session_sends_its_history(local: LlamaServer, isolated: Path) -> None:
    first = wai("ask", "-b", "local", "--session", "two", *SETTINGS, "--plain", "hi")
    second = wai("ask", "-b", "local", "--session", "two", *SETTINGS, "--plain", "and then?")

    assert first.exit_code == 0, local.explain(first)
    assert second.exit_code == 0, local.explain(second)
    turn_one = [{"role": "user", "content": "hi"}]
    answer_one = chat_text(local.answer("chat/completions", {"messages": turn_one}))
    turn_two = [
        *turn_one,
        {"role": "assistant", "content": answer_one},
        {"role": "user", "content": "and then?"},
    ]
    answer_two = chat_text(local.answer("chat/completions", {"messages": turn_two}))
    assert (first.stdout, second.stdout) == (answer_one, answer_two)
    # The second answer depends on the history: without it the server says something else.
    alone = [{"role": "user", "content": "and then?"}]
    assert answer_two != chat_text(local.answer("chat/completions", {"messages": alone}))

    session = json.loads((isolated / "data" / "sessions" / "two.json").read_text())
    messages = [(m["role"], m["content"]) for m in session["messages"]]
    assert messages == [
        ("user", "hi"),
        ("assistant", answer_one),
        ("user", "and then?"),
        ("assistant", answer_two),
    ]


def test_a_session_records_the_model_the_server_named(local: LlamaServer, isolated: Path) -> None:
    # No model is configured: wai takes the first one /v1/models lists, and the session keeps it.
    run = wai("ask", "-b", "local", "--session", "named", *SETTINGS, "--plain", "hi")

    assert run.exit_code == 0, local.explain(run)
    session = json.loads((isolated / "data" / "sessions" / "named.json").read_text())
    assert (session["backend"], session["model"]) == ("local", local.model)
    assert session["messages"][1]["meta"]["model"] == local.model


def test_a_streamed_prompt_longer_than_the_context_is_an_error(
    local: LlamaServer, isolated: Path
) -> None:
    # What the server does: 200, an event-stream content type, and not a single event.
    body = {
        "model": local.model,
        "messages": [{"role": "user", "content": LONG_PROMPT}],
        **PARAMS,
        "stream": True,
    }
    with httpx.stream("POST", f"{local.base_url}/chat/completions", json=body, timeout=60) as sent:
        assert sent.status_code == 200
        assert sent.headers["content-type"].startswith("text/event-stream")
        assert sent.read() == b""

    run = wai("ask", "-b", "local", *SETTINGS, "--plain", "--session", "long", LONG_PROMPT)

    assert run.exit_code == 1, local.explain(run)
    assert run.stdout == ""
    assert run.stderr == (
        f"wai: error: the local server at {local.base_url} sent an empty answer\n{CONTEXT_HINT}"
    )
    assert not (isolated / "data" / "sessions" / "long.json").exists()
    # The server is still fine afterwards.
    assert wai("ask", "-b", "local", *SETTINGS, "--plain", "--no-save", "hi").stdout.strip()


def test_an_unstreamed_prompt_longer_than_the_context_is_the_servers_400(
    local: LlamaServer,
) -> None:
    messages = [{"role": "user", "content": LONG_PROMPT}]
    sent = local.post(
        "chat/completions", {"model": local.model, "messages": messages, **PARAMS, "stream": False}
    )
    assert sent.status_code == 400
    error = sent.json()["error"]
    assert error["code"] == "context_length_exceeded"

    run = wai("ask", "-b", "local", *SETTINGS, "--plain", "--no-stream", "--no-save", LONG_PROMPT)

    assert run.exit_code == 1, local.explain(run)
    assert run.stdout == ""
    assert error["message"].startswith(f"This model's maximum context length is {CONTEXT} tokens")
    assert run.stderr == (
        f"wai: error: the local server at {local.base_url} answered HTTP 400: {error['message']}\n"
        + CONTEXT_HINT
    )


def test_a_whole_stream_from_the_server_is_complete_not_cut(
    local: LlamaServer, isolated: Path
) -> None:
    """A body without `[DONE]` or a finish reason, ended by the connection's close, counts as
    cut off; llama.cpp's streams end properly, so they are complete, and saved as such."""
    run = wai("ask", "-b", "local", *SETTINGS, "--plain", "--session", "whole", "hi")

    assert run.exit_code == 0, local.explain(run)
    assert "incomplete" not in run.stderr
    document = json.loads((isolated / "data" / "sessions" / "whole.json").read_text())
    answer = document["messages"][1]
    assert answer["role"] == "assistant"
    assert answer["content"] == run.stdout
    assert "interrupted" not in answer.get("meta", {})
