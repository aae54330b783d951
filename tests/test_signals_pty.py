"""SIGTERM and SIGHUP stop wai as Ctrl-C does (the partial answer saved, the terminal restored,
exit 128 + the signal), and text from the model or the server never drives the terminal."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import default_sigint, wai, wai_process
from tests.servers.workers_ai import Reply, WorkersAIServer, sse, token_events

PROMPT = "›"
STATUS = {signal.SIGTERM: 143, signal.SIGHUP: 129}
EVIL = ["\x1b[2J", "\x1b[?1049h", "\x1b]0;title\x07", "\x1b]52;c;ZXZpbA==\x07", "\x9b2J"]
SHOWN = ["^[[2J", "^[[?1049h", "^[]0;title^G", "^[]52;c;ZXZpbA==^G", "M-^[2J"]
EVIL_ANSWER = "".join(f"{evil} said\n\n" for evil in EVIL)


def spawn(*args: str, command: str | None = None) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
    program, argv = ("sh", ["-c", command]) if command else (sys.executable, ["-m", "wai", *args])
    return pexpect.spawn(
        program,
        argv,
        env=env,
        dimensions=(30, 100),
        encoding="utf-8",
        preexec_fn=default_sigint,
        timeout=30,
    )


def held_answer(server: WorkersAIServer) -> None:
    """An answer whose first words come at once and whose rest waits on the gate (never)."""
    first = sse(*token_events(["First words\n\n"]), done=False)
    rest = sse(*token_events(["never shown"]))
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))


def sessions(isolated: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in (isolated / "data" / "sessions").glob("*.json")]


def last_answer(isolated: Path) -> dict:
    (document,) = sessions(isolated)
    return document["messages"][-1]


def after_last(raw: str, opening: str, closing: str) -> bool:
    """Whether `closing` follows the last `opening` (or there is no `opening`)."""
    last = raw.rfind(opening)
    return last == -1 or raw.find(closing, last) > last


# --- SIGTERM and SIGHUP ---------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_answer_in_ask_saves_it_and_exits_128_plus_the_signal(
    server: WorkersAIServer, isolated: Path, signum: int
) -> None:
    held_answer(server)
    child = spawn("ask", "hi")
    child.expect("First words")
    os.kill(child.pid, signum)
    child.expect(pexpect.EOF)
    child.close()
    raw = child.before
    assert (child.exitstatus, child.signalstatus) == (STATUS[signum], None), raw
    assert after_last(raw, "\x1b[?25l", "\x1b[?25h"), raw  # the cursor is shown again
    assert "never shown" not in raw
    assert "Traceback" not in raw
    answer = last_answer(isolated)
    assert answer["content"] == "First words\n\n"
    assert answer["meta"]["interrupted"] is True


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_answer_in_chat_saves_it_and_ends_the_repl(
    server: WorkersAIServer, isolated: Path, signum: int
) -> None:
    held_answer(server)
    child = spawn("chat", "--session", "talk")
    child.expect(PROMPT)
    child.send("Say something\r")
    child.expect("First words")
    os.kill(child.pid, signum)
    child.expect(pexpect.EOF)
    child.close()
    raw = child.before
    assert (child.exitstatus, child.signalstatus) == (STATUS[signum], None), raw
    assert after_last(raw, "\x1b[?25l", "\x1b[?25h"), raw
    assert "Traceback" not in raw
    answer = last_answer(isolated)
    assert answer["content"] == "First words\n\n"
    assert answer["meta"]["interrupted"] is True


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_at_the_chat_prompt_restores_the_terminal(
    server: WorkersAIServer, isolated: Path, signum: int
) -> None:
    command = f"{sys.executable} -m wai chat; echo status=$?; stty -a"
    child = spawn(command=command)
    child.logfile_read = None
    child.expect(PROMPT)
    child.send("Hello\r")
    child.expect("Hello, world!")
    child.expect(PROMPT)
    children = Path(f"/proc/{child.pid}/task/{child.pid}/children").read_text().split()
    (wai_pid,) = map(int, children)
    os.kill(wai_pid, signum)
    child.expect(r"status=(\d+)")
    status = int(child.match.group(1))
    raw = child.before
    child.expect(pexpect.EOF)
    modes = child.before.split()
    child.close()
    assert status == STATUS[signum], raw
    assert "Traceback" not in raw
    assert after_last(raw, "\x1b[?2004h", "\x1b[?2004l"), raw  # bracketed paste is off again
    assert after_last(raw, "\x1b[?25l", "\x1b[?25h"), raw
    assert {"icanon", "echo", "icrnl"} <= set(modes), modes  # raw mode was left
    assert last_answer(isolated)["content"] == "Hello, world!"


# --- the terminal obeys the user ------------------------------------------------------------


def assert_shown_not_obeyed(raw: str) -> None:
    for evil in EVIL:
        assert evil not in raw
    assert "\x9b" not in raw and "\x1b]" not in raw
    flat = raw.replace("\r", "")
    for shown in SHOWN:
        assert shown in flat, (shown, raw)


@pytest.mark.parametrize("mode", ["--markdown", "--plain"])
def test_control_characters_in_an_answer_are_shown_on_a_terminal(
    server: WorkersAIServer, mode: str
) -> None:
    server.enqueue(Reply.stream(sse(*token_events([EVIL_ANSWER[:7], EVIL_ANSWER[7:]]))))
    child = spawn("ask", mode, "hi")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert_shown_not_obeyed(child.before)


def test_control_characters_in_reasoning_are_shown_on_a_terminal(
    server: WorkersAIServer,
) -> None:
    from tests.servers.workers_ai import QWEN3_30B

    server.reasoning_pieces = tuple(f"{evil} thought\n" for evil in EVIL)
    server.answer_pieces = ("Done.",)
    child = spawn("ask", "-m", QWEN3_30B, "--reasoning", "show", "hi")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert_shown_not_obeyed(child.before)


def test_a_pipe_gets_the_answer_byte_for_byte(server: WorkersAIServer) -> None:
    server.enqueue(Reply.stream(sse(*token_events([EVIL_ANSWER]))))
    completed = wai_process("ask", "hi")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == EVIL_ANSWER.encode()


def test_control_characters_in_an_error_are_shown_on_a_terminal(
    server: WorkersAIServer,
) -> None:
    server.enqueue(Reply.error(400, 5006, "bad input " + " ".join(EVIL)))
    child = spawn("ask", "hi")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1, child.before
    assert "bad input" in child.before
    assert_shown_not_obeyed(child.before)


def test_sessions_list_and_show_show_control_characters_on_a_terminal(
    server: WorkersAIServer,
) -> None:
    server.enqueue(Reply.stream(sse(*token_events([EVIL_ANSWER]))))
    question = "Why " + " ".join(EVIL)
    assert wai("ask", "--session", "evil", question).exit_code == 0
    for args in (["list"], ["show", "evil"], ["show", "evil", "--plain"]):
        child = spawn("sessions", *args)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, child.before
        raw = child.before
        for evil in EVIL:
            assert evil not in raw, (args, raw)
        assert "\x9b" not in raw and "\x1b]" not in raw
        assert "^[[2J" in raw.replace("\r", ""), (args, raw)
    shown = wai_process("sessions", "show", "evil")
    assert shown.returncode == 0
    assert EVIL_ANSWER.rstrip("\n").encode() in shown.stdout  # a pipe gets the bytes as they are
