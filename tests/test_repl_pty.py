"""`wai chat` in a real pseudo-terminal, typed into as a person would."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pexpect
import pyte

from tests.conftest import default_sigint
from tests.servers.workers_ai import QWEN3_30B, Reply, WorkersAIServer, sse, token_events

PROMPT = "›"


def today() -> str:
    """The date a session made now is named with (read when asked: a run may cross midnight)."""
    return f"{date.today():%Y-%m-%d}"


def spawn(*args: str, command: str | None = None) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
    if command is not None:
        return pexpect.spawn(
            "sh",
            ["-c", command],
            env=env,
            dimensions=(30, 100),
            encoding="utf-8",
            preexec_fn=default_sigint,
            timeout=30,
        )
    return pexpect.spawn(
        sys.executable,
        ["-m", "wai", "chat", *args],
        env=env,
        dimensions=(30, 100),
        encoding="utf-8",
        preexec_fn=default_sigint,
        timeout=30,
    )


def session_file(isolated: Path, name: str) -> dict:
    return json.loads((isolated / "data" / "sessions" / f"{name}.json").read_text())


def plain(messages: list[dict]) -> list[tuple[str, str, bool]]:
    return [
        (m["role"], m["content"], m.get("meta", {}).get("interrupted", False)) for m in messages
    ]


def test_a_conversation_typed_at_the_terminal(server: WorkersAIServer, isolated: Path) -> None:
    child = spawn()
    child.expect(PROMPT)
    child.send("What is wai?\r")
    child.expect("Hello, world!")

    # Alt-Enter (Esc Enter) inserts a newline; Enter sends both lines as one message.
    child.expect(PROMPT)
    child.send("line one\x1b\rline two\r")
    child.expect("Hello, world!")

    # A slash command.
    child.expect(PROMPT)
    child.send("/system Answer in French.\r")
    child.expect("system message set")

    # Ctrl-C at the prompt clears the line: "discarded" is never sent.
    child.expect(PROMPT)
    child.send("discarded")
    child.sendintr()
    child.expect(PROMPT)

    # Ctrl-C in the middle of a slowly streamed answer keeps the partial answer.
    first = sse(*token_events(["Bonjour", ", le"]), done=False)
    rest = sse(*token_events([" monde"]))
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))
    child.send("Say hello\r")
    child.expect(", le")
    child.sendintr()
    child.expect("interrupted; the partial answer is kept")

    # The REPL goes on after the interruption.
    child.expect(PROMPT)
    child.send("And now?\r")
    child.expect("Hello, world!")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert (child.exitstatus, child.signalstatus) == (0, None)
    assert "Traceback" not in child.before

    bodies = [request.body for request in server.run_requests]
    assert [body["messages"][-1]["content"] for body in bodies] == [
        "What is wai?",
        "line one\nline two",
        "Say hello",
        "And now?",
    ]
    assert bodies[3]["messages"] == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "What is wai?"},
        {"role": "assistant", "content": "Hello, world!"},
        {"role": "user", "content": "line one\nline two"},
        {"role": "assistant", "content": "Hello, world!"},
        {"role": "user", "content": "Say hello"},
        {"role": "assistant", "content": "Bonjour, le"},
        {"role": "user", "content": "And now?"},
    ]
    history = isolated / "data" / "history"
    assert history.stat().st_mode & 0o777 == 0o600  # what was typed stays private
    assert "What is wai?" in history.read_text()
    document = session_file(isolated, f"{today()}-what-is-wai")
    assert plain(document["messages"]) == [
        ("system", "Answer in French.", False),
        ("user", "What is wai?", False),
        ("assistant", "Hello, world!", False),
        ("user", "line one\nline two", False),
        ("assistant", "Hello, world!", False),
        ("user", "Say hello", False),
        ("assistant", "Bonjour, le", True),
        ("user", "And now?", False),
        ("assistant", "Hello, world!", False),
    ]


def test_chat_continue_picks_up_where_ask_left_off(server: WorkersAIServer, isolated: Path) -> None:
    from tests.conftest import wai

    assert wai("ask", "--session", "notes", "First question").exit_code == 0
    child = spawn("-c")
    child.expect("session notes: 1 turn;")
    child.expect("First question")
    child.expect(PROMPT)
    child.send("Follow-up\r")
    child.expect("Hello, world!")
    child.expect(PROMPT)
    child.send("/exit\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert server.last_body["messages"] == [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "Hello, world!"},
        {"role": "user", "content": "Follow-up"},
    ]
    assert len(session_file(isolated, "notes")["messages"]) == 4


def test_piped_text_is_the_first_message_then_the_terminal_takes_over(
    server: WorkersAIServer, isolated: Path
) -> None:
    child = spawn(command=f"printf 'my notes' | {sys.executable} -m wai chat --session piped")
    child.expect("Hello, world!")
    child.expect(PROMPT)
    child.send("Second\r")
    child.expect("Hello, world!")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    messages = session_file(isolated, "piped")["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["my notes", "Second"]


def test_piped_text_without_a_terminal_answers_and_exits(
    server: WorkersAIServer, isolated: Path
) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "wai", "chat", "--session", "batch"],
        input=b"summarise this",
        capture_output=True,
        start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == b"Hello, world!"
    assert server.last_body["messages"] == [{"role": "user", "content": "summarise this"}]
    assert len(session_file(isolated, "batch")["messages"]) == 2


def test_reasoning_shows_the_last_answers_thinking_and_is_never_sent(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.reasoning_pieces = ("Let me think.\n", "Six times seven.")
    server.answer_pieces = ("It is 42.",)
    child = spawn("-m", QWEN3_30B)
    child.logfile_read = written = io.StringIO()
    child.expect(PROMPT)
    child.send("What is 6x7?\r")
    child.expect(r"It is 42\.")
    child.expect(PROMPT)
    child.send("/reasoning\r")
    child.expect(r"Six times seven\.")
    child.expect(PROMPT)
    child.send("And 6x8?\r")
    child.expect(r"It is 42\.")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    raw = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (0, None), raw
    assert "Traceback" not in raw

    screen = pyte.HistoryScreen(100, 30, history=1000)
    pyte.Stream(screen).feed(raw)
    assert len(screen.history.top) == 0
    shown = [line.rstrip() for line in screen.display]
    while shown and not shown[-1]:
        shown.pop()
    assert shown.pop(0) == "/help · Alt-Enter new line · Ctrl-D to leave"  # the start hint
    collapsed = re.compile(r"thought for \d+\.\d s \(2 tokens\)")
    assert collapsed.fullmatch(shown[1]) and collapsed.fullmatch(shown[8]), shown
    assert [shown[0], *shown[2:8], *shown[9:]] == [
        f"{PROMPT} What is 6x7?",
        "",
        "It is 42.",
        f"{PROMPT} /reasoning",
        "Let me think.",
        "Six times seven.",
        f"{PROMPT} And 6x8?",
        "",
        "It is 42.",
        PROMPT,
    ]
    assert [request.body["messages"] for request in server.run_requests] == [
        [{"role": "user", "content": "What is 6x7?"}],
        [
            {"role": "user", "content": "What is 6x7?"},
            {"role": "assistant", "content": "It is 42."},
            {"role": "user", "content": "And 6x8?"},
        ],
    ]
    answer = session_file(isolated, f"{today()}-what-is-6x7")["messages"][1]
    assert answer["meta"]["reasoning"] == "Let me think.\nSix times seven."


def test_help_wraps_between_words_on_a_narrow_terminal(server: WorkersAIServer) -> None:
    child = spawn()
    child.setwinsize(30, 80)  # read when /help is typed, as a resize would leave it
    child.logfile_read = written = io.StringIO()
    child.expect(PROMPT)
    child.send("/help\r")
    child.expect("//text sends '/text'")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    screen = pyte.HistoryScreen(80, 30, history=200)
    pyte.Stream(screen).feed(written.getvalue())
    rows = [row.rstrip() for row in screen.display]
    start = rows.index(
        "  /set KEY [VALUE]      set a parameter or any body field; KEY alone removes it"
    )
    assert rows[start + 1] == " " * 24 + "(/set lists them)"
    end = rows.index(
        "Ctrl-C stops an answer or clears the line · Ctrl-D leaves · //text sends '/text'"
    )
    assert rows[end - 2 : end] == [
        "Enter sends · Alt-Enter (or Esc Enter) inserts a newline · Tab completes",
        "Ctrl-R searches history",
    ]
