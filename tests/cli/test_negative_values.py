"""A value may be a negative number: `config set KEY -1`, `--frequency-penalty -1`,
`-o KEY -1` and `/set KEY -1` take it as the value (never as an option), and where a negative is
not allowed it meets the usual range error, with nothing written or sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run, wai, wai_process
from tests.servers.workers_ai import WorkersAIServer
from tests.test_repl import Chat, body, chat, said, saved, sessions_dir, today

__all__ = ["chat", "sessions_dir"]  # fixtures

EXISTING = 'model = "@cf/meta/llama-3.1-8b-instruct"\n'


def assert_run(run: Run, exit_code: int, stdout: str = "", stderr: str = "") -> None:
    assert (run.exit_code, run.stdout, run.stderr) == (exit_code, stdout, stderr)


@pytest.fixture
def config(config_file: Path) -> Path:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(EXISTING)
    return config_file


# --- config set -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "saved_as"),
    [
        ("params.frequency_penalty", "-1", "[params]\nfrequency_penalty = -1\n"),
        ("params.presence_penalty", "-1.5", "[params]\npresence_penalty = -1.5\n"),
        ("system", "-x marks the spot", 'system = "-x marks the spot"\n'),
        ("system", "--verbose please", 'system = "--verbose please"\n'),
        ("system", "-h is not help here", 'system = "-h is not help here"\n'),
    ],
)
def test_config_set_takes_a_value_that_starts_with_a_dash(
    config: Path, key: str, value: str, saved_as: str
) -> None:
    assert_run(wai("config", "set", key, value), 0)
    assert config.read_text() == EXISTING + ("\n" if saved_as.startswith("[") else "") + saved_as
    assert_run(wai("config", "get", key), 0, stdout=f"{value}\n")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("retries", "-1", "retries: must be at least 0, got -1"),
        ("connect_timeout", "-0.5", "connect_timeout: must be at least 0.001, got -0.5"),
        ("retry_backoff", "-2", "retry_backoff: must be at least 0, got -2"),
        (
            "params.presence_penalty",
            "-2.5",
            "params.presence_penalty: is -2.5, out of range: allowed -2 to 2",
        ),
        ("params.temperature", "-1", "params.temperature: is -1, out of range: allowed 0 to 5"),
        ("params.seed", "-5", "params.seed: is -5, out of range: allowed 1 to 9999999999"),
    ],
)
def test_config_set_refuses_a_negative_where_none_is_allowed(
    config: Path, key: str, value: str, message: str
) -> None:
    assert_run(wai("config", "set", key, value), 2, stderr=f"wai: error: {message}\n")
    assert config.read_text() == EXISTING


def test_config_set_after_a_double_dash_too(config: Path) -> None:
    assert_run(wai("config", "set", "--", "params.frequency_penalty", "-2"), 0)
    assert config.read_text() == EXISTING + "\n[params]\nfrequency_penalty = -2\n"


# --- ask's flags and -o -----------------------------------------------------------------------


def test_negative_parameters_reach_the_request(server: WorkersAIServer) -> None:
    """A real process: the console script pairs `-o KEY VALUE` before Typer parses."""
    run = wai_process(
        "ask", "--plain", "--no-save", "--frequency-penalty", "-1", "-o", "presence_penalty",
        "-1.5", "-o", "logit_bias_shift", "-3", "hi",
    )  # fmt: skip
    assert (run.returncode, run.stdout, run.stderr) == (0, b"Hello, world!", b"")
    assert server.last_body == body(
        said("user", "hi"), frequency_penalty=-1.0, presence_penalty=-1.5, logit_bias_shift=-3
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--temperature", "-1"], "--temperature is -1, out of range: allowed 0 to 5"),
        (["--presence-penalty", "-3"], "--presence-penalty is -3, out of range: allowed -2 to 2"),
        (["--max-tokens", "-5"], "--max-tokens is -5, out of range: allowed at least 1"),
        (["-o", "seed", "-5"], "--seed is -5, out of range: allowed 1 to 9999999999"),
    ],
)
def test_a_negative_out_of_range_is_refused_before_sending(
    server: WorkersAIServer, sessions_dir: Path, args: list[str], message: str
) -> None:
    run = wai_process("ask", *args, "hi")
    assert (run.returncode, run.stdout) == (2, b"")
    assert run.stderr.decode() == f"wai: error: {message}\n"
    assert server.run_requests == []
    assert not sessions_dir.exists()


# --- /set -------------------------------------------------------------------------------------


def test_set_takes_a_negative_value(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/set frequency_penalty -1", "/set presence-penalty -0.5", "hi")
    assert chat.output() == (
        "Hello, world!",
        "wai: frequency_penalty = -1.0\nwai: presence_penalty = -0.5\n",
    )
    assert server.last_body == body(said("user", "hi"), frequency_penalty=-1, presence_penalty=-0.5)
    assert saved(sessions_dir)[f"{today()}-hi"]["params"] == {
        "frequency_penalty": -1,
        "presence_penalty": -0.5,
    }


def test_set_refuses_a_negative_out_of_range(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/set temperature -0.5")
    assert chat.output() == (
        "",
        "wai: error: temperature is -0.5, out of range: allowed 0 to 5\n",
    )
    chat.type("/set")
    assert chat.output() == ("max_tokens = 1024\n", "")
