"""wai's messages on a real terminal (a pseudo-terminal, read through a terminal emulator where
the layout matters): coloured labels, none with NO_COLOR or TERM=dumb; a long notice on a narrow
terminal wrapped between words, never inside a number; inside `wai chat`, hints that name the
REPL's commands; `/set KEY` and `/unset KEY` removing a parameter from the next request and the
session file."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pexpect
import pyte
import pytest

from tests.conftest import default_sigint
from tests.servers import models_2026 as m
from tests.servers.workers_ai import (
    DEFAULT_MODEL,
    TOKEN,
    Reply,
    WorkersAIServer,
    sse,
    token_events,
)
from tests.test_repl import body, said
from tests.test_repl_pty import PROMPT, session_file

RED, CYAN, YELLOW, RESET = "\x1b[1;31m", "\x1b[36m", "\x1b[33m", "\x1b[0m"
CAPACITY_MESSAGE = "Capacity temporarily exceeded, please try again."
UNAVAILABLE = (
    "wai: error: the model @cf/nobody/none is not available: No such model @cf/nobody/none or task"
)


def spawn(
    *args: str,
    columns: int = 100,
    rows: int = 30,
    environ: dict[str, str] | None = None,
    shell: str | None = None,
) -> tuple[pexpect.spawn, io.StringIO]:
    """`wai ARGS` (or the `shell` command line) in a rows x columns terminal, which it learns
    from the terminal itself; the second value collects everything it writes."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update({"TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1", **(environ or {})})
    argv = ["sh", "-c", shell] if shell else [sys.executable, "-m", "wai", *args]
    child = pexpect.spawn(
        argv[0],
        argv[1:],
        env=env,
        dimensions=(rows, columns),
        encoding="utf-8",
        preexec_fn=default_sigint,
        timeout=30,
    )
    child.logfile_read = written = io.StringIO()
    return child, written


def finished(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus is None
    return child.exitstatus


def screen(output: str, columns: int = 100, rows: int = 30) -> list[str]:
    """The scrollback then the screen, as a person sees them, without the blank lines at the
    end."""
    emulator = pyte.HistoryScreen(columns, rows, history=10_000)
    pyte.Stream(emulator).feed(output)
    buffer = [*emulator.history.top, *(emulator.buffer[y] for y in range(rows))]
    shown = ["".join(row[x].data for x in range(columns)).rstrip() for row in buffer]
    while shown and not shown[-1]:
        shown.pop()
    return shown


def following(shown: list[str], first: str, count: int) -> list[str]:
    """The `count` lines of the screen from the (last) one that is `first`."""
    assert first in shown, "\n".join(shown)
    start = len(shown) - 1 - shown[::-1].index(first)
    return shown[start : start + count]


# --- colour ------------------------------------------------------------------------------------


def test_a_usage_error_is_coloured_on_a_terminal() -> None:
    child, written = spawn("ask", "--zzz", "hi")
    assert finished(child) == 2
    assert written.getvalue() == (
        f"{RED}wai: error:{RESET} no such option: --zzz\r\n"
        f"{CYAN}hint:{RESET} `wai ask --help` lists the options\r\n"
    )


@pytest.mark.parametrize("environ", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_colour_with_no_color_or_a_dumb_terminal(environ: dict[str, str]) -> None:
    child, written = spawn("ask", "--zzz", "hi", environ=environ)
    assert finished(child) == 2
    assert written.getvalue() == (
        "wai: error: no such option: --zzz\r\nhint: `wai ask --help` lists the options\r\n"
    )


def test_a_server_error_is_coloured_with_its_controls_shown_and_the_token_scrubbed(
    server: WorkersAIServer,
) -> None:
    server.enqueue(Reply.error(400, 3010, f"bad \x1b[2J{TOKEN} input"))
    child, written = spawn("ask", "--no-save", "--plain", "hi")
    assert finished(child) == 1
    raw = written.getvalue()
    assert raw.endswith(
        f"{RED}wai: error:{RESET} Workers AI rejected the input: bad ^[[2J******** input\r\n"
    )
    assert TOKEN not in raw


def test_a_warning_is_yellow(server: WorkersAIServer) -> None:
    child, written = spawn(shell=f"printf 'h\\377' | {sys.executable} -m wai ask --no-save --plain")
    assert finished(child) == 0
    assert (
        f"{YELLOW}wai: warning:{RESET} stdin is not valid UTF-8; undecodable bytes were "
        "replaced with �\r\n"
    ) in written.getvalue()
    assert server.last_body["messages"][-1] == said("user", "h�")


# --- wrapping ----------------------------------------------------------------------------------

RETRIES_AT_49 = [
    "wai: Workers AI is out of capacity: Capacity",
    "  temporarily exceeded, please try again;",
    "  retrying in 0.0 s (attempt 1 of 2)",
    "wai: Workers AI is out of capacity: Capacity",
    "  temporarily exceeded, please try again;",
    "  retrying in 0.0 s (attempt 2 of 2)",
    "wai: error: Workers AI is out of capacity:",
    "  Capacity temporarily exceeded, please try",
    "  again.",
    "hint: try again in a minute",
]
RETRYING_IN = (
    "wai: Workers AI is out of capacity: Capacity temporarily exceeded, please try again; "
    "retrying in"
)
RETRIES_AT_98 = [
    RETRYING_IN,
    "  0.0 s (attempt 1 of 2)",
    RETRYING_IN,
    "  0.0 s (attempt 2 of 2)",
    "wai: error: Workers AI is out of capacity: Capacity temporarily exceeded, please try again.",
    "hint: try again in a minute",
]


@pytest.mark.parametrize(("columns", "shown"), [(49, RETRIES_AT_49), (98, RETRIES_AT_98)])
def test_a_long_retry_notice_wraps_between_words_on_a_narrow_terminal(
    server: WorkersAIServer, config_file: Path, columns: int, shown: list[str]
) -> None:
    # Unwrapped, the terminal would break these lines inside "0.0" at both widths.
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("retry_backoff = 0\nretries = 2\n")
    server.enqueue(*[Reply.error(429, 3040, CAPACITY_MESSAGE)] * 3)
    child, written = spawn("ask", "--no-save", "--plain", "hi", columns=columns)
    assert finished(child) == 5
    assert screen(written.getvalue(), columns) == shown
    assert len(server.run_requests) == 3


# --- hints inside the REPL -------------------------------------------------------------------


def test_hints_in_the_repl_name_its_commands(server: WorkersAIServer, isolated: Path) -> None:
    child, written = spawn("chat")
    child.expect(PROMPT)
    child.send("/model @cf/nobody/none\r")
    child.expect("model: @cf/nobody/none")
    child.expect(PROMPT)
    child.send("hi\r")
    child.expect("switch with /model ID")
    child.expect(PROMPT)

    child.send(f"/model {m.LLAMA4_SCOUT}\r")
    child.expect(PROMPT)
    child.send("/set max_tokens 100\r")
    child.expect(PROMPT)
    server.enqueue(
        Reply.stream(m.stream_body(m.scout_events(("New", " York"), finish_reason="length")))
    )
    child.send("Where?\r")
    child.expect("raise it with /set max_tokens N")
    child.expect(PROMPT)

    child.send(f"/model {DEFAULT_MODEL}\r")
    child.expect(PROMPT)
    child.send("/set max_tokens 4000\r")
    child.expect(PROMPT)
    child.send("word " * 100 + "\r")
    child.expect("lower it with /set max_tokens N")
    child.expect(PROMPT)

    child.send("/load nope\r")
    child.expect("/sessions lists them")
    child.expect(PROMPT)

    child.send("/set max_tokens\r")
    child.expect("max_tokens unset; 1024 from now on")
    child.expect(PROMPT)
    server.enqueue(Reply.stream(sse(*token_events(("Par", "tial")), done=False), cut=True))
    child.send("more\r")
    child.expect("/retry asks again")
    child.expect(PROMPT)
    child.sendeof()
    assert finished(child) == 0

    shown = screen(written.getvalue())
    assert following(shown, UNAVAILABLE, 2) == [
        UNAVAILABLE,
        "hint: `wai models` lists the current ones; switch with /model ID",
    ]
    assert (
        "wai: the answer was cut at max_tokens (100); /continue goes on, or raise it with "
        "/set max_tokens N" in shown
    )
    too_long = f"wai: error: the prompt is too long for {DEFAULT_MODEL}: about 139 tokens,"
    assert following(shown, too_long, 3) == [  # wrapped between words at 100 columns
        too_long,
        "  and its context window of 4096 tokens must also hold the 4000 tokens of the answer",
        "hint: shorten the input or lower it with /set max_tokens N",
    ]
    assert following(shown, "wai: error: no session named 'nope'", 2) == [
        "wai: error: no session named 'nope'",
        "hint: /sessions lists them",
    ]
    assert "hint: what arrived is kept above; /continue resumes it, /retry asks again" in shown
    assert "-m" not in "\n".join(line for line in shown if line.startswith("hint:"))
    assert [request.body["max_tokens"] for request in server.run_requests] == [1024, 100, 1024]


def test_missing_credentials_in_the_repl_point_to_login_or_a_local_backend(
    server: WorkersAIServer,
) -> None:
    child, written = spawn("chat", environ={"CLOUDFLARE_ACCOUNT_ID": ""})
    child.expect(PROMPT)
    child.send("hi\r")
    child.expect("/backend NAME")
    child.expect(PROMPT)
    child.sendeof()
    assert finished(child) == 0
    assert following(
        screen(written.getvalue()), "wai: error: no Cloudflare account id is configured", 2
    ) == [
        "wai: error: no Cloudflare account id is configured",
        "hint: run `wai login` in a shell, or switch to a local server with /backend NAME",
    ]
    assert server.requests == []


def test_the_same_errors_outside_the_repl_keep_the_flags(server: WorkersAIServer) -> None:
    server.enqueue(
        Reply.stream(m.stream_body(m.scout_events(("New", " York"), finish_reason="length")))
    )
    child, written = spawn(
        "ask", "--no-save", "--plain", "-m", m.LLAMA4_SCOUT, "--max-tokens", "100", "Where?"
    )
    assert finished(child) == 0
    assert screen(written.getvalue()) == [
        "New York",
        "wai: the answer was cut at max_tokens (100); raise --max-tokens",
    ]


# --- /set KEY and /unset KEY ---------------------------------------------------------------------


def test_set_without_a_value_and_unset_remove_a_parameter(
    server: WorkersAIServer, isolated: Path
) -> None:
    child, written = spawn("chat", "--session", "work", "--top-k", "5")
    child.expect(PROMPT)
    for line, notice in [
        ("/set temperature 0.2", "wai: temperature = 0.2"),
        ("/set seed 42", "wai: seed = 42"),
        ("hi", "Hello, world!"),
        ("/set temperature", "wai: temperature unset"),
        ("/unset top-k", "wai: top_k unset"),
        ("/unset temperature", "/set lists the ones in use"),
        ("/unset max_tokens", "/set max_tokens VALUE overrides it"),
    ]:
        child.send(line + "\r")
        child.expect_exact(notice)
        child.expect(PROMPT)
    assert session_file(isolated, "work")["params"] == {"seed": 42}
    child.send("again\r")
    child.expect("Hello, world!")
    child.expect(PROMPT)
    child.sendeof()
    assert finished(child) == 0

    first, second = (request.body for request in server.run_requests)
    assert first == body(said("user", "hi"), temperature=0.2, top_k=5, seed=42)
    assert second == body(
        said("user", "hi"), said("assistant", "Hello, world!"), said("user", "again"), seed=42
    )
    assert session_file(isolated, "work")["params"] == {"seed": 42}
    shown = screen(written.getvalue())
    assert following(shown, "wai: error: temperature is not set", 2) == [
        "wai: error: temperature is not set",
        "hint: /set lists the ones in use",
    ]
    assert following(
        shown, "wai: error: max_tokens = 1024 is wai's default, not set in this conversation", 2
    ) == [
        "wai: error: max_tokens = 1024 is wai's default, not set in this conversation",
        "hint: /set max_tokens VALUE overrides it",
    ]
