"""`wai chat --no-save`: the conversation is held in memory only. Nothing is written to the
sessions directory (not by `/new` or `/load` either), a session it continues keeps its file as it
was, and no request asks Workers AI for a cached prompt."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect

from tests.servers.workers_ai import WorkersAIServer
from tests.test_repl_pty import PROMPT, spawn
from wai.conversation import Conversation
from wai.environment import Environment
from wai.repl import Repl
from wai.settings import Overrides

WORK = {
    "format": "wai.session/1",
    "name": "work",
    "created": "2026-11-20T09:15:00.000Z",
    "updated": "2026-11-20T09:15:00.000Z",
    "backend": "cloudflare",
    "model": "@hf/thebloke/mistral-7b-instruct-v0.1-awq",
    "params": {},
    "affinity": "ses_0123456789abcdef",
    "messages": [
        {"role": "user", "content": "why is the sky blue?"},
        {"role": "assistant", "content": "Rayleigh scattering."},
    ],
}


def sessions(isolated: Path) -> dict[str, bytes]:
    directory = isolated / "data" / "sessions"
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.json"))}


def write_work(isolated: Path) -> dict[str, bytes]:
    directory = isolated / "data" / "sessions"
    directory.mkdir(parents=True)
    (directory / "work.json").write_text(json.dumps(WORK, indent=2) + "\n")
    return sessions(isolated)


def piped_chat(*args: str, text: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "wai", "chat", "--no-save", *args],
        input=text,
        capture_output=True,
        start_new_session=True,  # no controlling terminal: the piped text is all there is
        timeout=60,
        check=False,
    )


def test_a_conversation_at_the_terminal_leaves_no_session(
    server: WorkersAIServer, isolated: Path
) -> None:
    write_work(isolated)
    before = sessions(isolated)
    child = spawn("--no-save")
    child.logfile_read = written = io.StringIO()
    child.expect(PROMPT)
    child.send("first question\r")
    child.expect_exact("Hello, world!")
    child.expect(PROMPT)
    child.send("second question\r")
    child.expect_exact("Hello, world!")
    child.expect(PROMPT)
    child.send("/new\r")
    child.expect_exact("new session")
    child.expect(PROMPT)
    child.send("third question\r")
    child.expect_exact("Hello, world!")
    child.expect(PROMPT)
    child.send("/load work\r")
    child.expect_exact("Rayleigh scattering.")
    child.expect(PROMPT)
    child.send("fourth question\r")
    child.expect_exact("Hello, world!")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert (child.exitstatus, child.signalstatus) == (0, None), written.getvalue()
    assert [request.body["messages"] for request in server.run_requests] == [
        [{"role": "user", "content": "first question"}],
        [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "Hello, world!"},
            {"role": "user", "content": "second question"},
        ],
        [{"role": "user", "content": "third question"}],
        [*WORK["messages"], {"role": "user", "content": "fourth question"}],
    ]
    assert [r.headers.get("x-session-affinity") for r in server.run_requests] == [None] * 4
    assert sessions(isolated) == before


def test_piped_text_is_answered_and_not_saved(server: WorkersAIServer, isolated: Path) -> None:
    completed = piped_chat(text=b"summarise this")
    assert (completed.returncode, completed.stdout, completed.stderr) == (0, b"Hello, world!", b"")
    assert server.last_body["messages"] == [{"role": "user", "content": "summarise this"}]
    assert not (isolated / "data" / "sessions").exists() or sessions(isolated) == {}


def test_a_continued_session_keeps_its_file_as_it_was(
    server: WorkersAIServer, isolated: Path
) -> None:
    before = write_work(isolated)
    for args in (["--session", "work"], ["-c"]):
        completed = piped_chat(*args, text=b"and the sunset?")
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout.endswith(b"Hello, world!")  # after the resumed exchange
        assert server.last_body["messages"] == [
            *WORK["messages"],
            {"role": "user", "content": "and the sunset?"},
        ]
        assert "x-session-affinity" not in server.run_requests[-1].headers
        assert sessions(isolated) == before


def test_the_status_line_says_the_conversation_is_not_saved(
    server: WorkersAIServer, isolated: Path
) -> None:
    write_work(isolated)
    env = Environment(
        stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), environ=os.environ
    )
    conversation = Conversation.open(env, Overrides(), {}, persistent=False)
    repl = Repl(env, conversation, Overrides())
    model = "@hf/thebloke/mistral-7b-instruct-v0.1-awq"
    assert repl._toolbar().startswith(f" cloudflare · {model} · new session (not saved) · ")
    repl.handle("hi")
    assert " · new session (not saved) · " in repl._toolbar()
    repl.handle("/load work")
    assert " · work (not saved) · " in repl._toolbar()
    repl.handle("/new")
    assert " · new session (not saved) · " in repl._toolbar()
    assert not (isolated / "data" / "sessions" / "hi.json").exists()
    assert len(list((isolated / "data" / "sessions").glob("*.json"))) == 1  # work.json alone


def test_no_save_is_in_the_help() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "wai", "chat", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "--no-save" in completed.stdout
    assert "Do not save this conversation as a session." in " ".join(completed.stdout.split())
