"""`wai ask` in a real pseudo-terminal: live markdown, the spinner, and Ctrl-C."""

from __future__ import annotations

import os
import re
import sys

import pexpect

from tests.conftest import default_sigint
from tests.servers.workers_ai import Reply, WorkersAIServer, sse, token_events

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
MARKDOWN_TOKENS = [
    "# Tit", "le\n\n", "Some **bo", "ld** text.\n\n",
    "```python\n", "print(1)\n", "```\n\n", "- one\n", "- two\n",
]  # fmt: skip


def spawn(*args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "wai", *args],
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "40"},
        dimensions=(40, 80),
        encoding="utf-8",
        preexec_fn=default_sigint,
        timeout=30,
    )


def screen_text(raw: str) -> str:
    return ANSI.sub("", raw)


def test_markdown_is_rendered_on_a_terminal(server: WorkersAIServer) -> None:
    server.enqueue(Reply.stream(sse(*token_events(MARKDOWN_TOKENS))))
    child = spawn("ask", "hi")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    text = screen_text(child.before)
    assert "Title" in text
    assert "Some bold text." in text  # the ** markers are rendered, not shown
    assert "print(1)" in text
    assert "```" not in text
    assert "• one" in text and "• two" in text


def test_plain_on_a_terminal_prints_the_bytes_and_ends_the_line(server: WorkersAIServer) -> None:
    server.enqueue(Reply.stream(sse(*token_events(["**bold**", " text"]))))
    child = spawn("ask", "--plain", "hi")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert screen_text(child.before).endswith("**bold** text\n")


def test_ctrl_c_stops_the_answer_and_exits_130(server: WorkersAIServer) -> None:
    first = sse(*token_events(["First words"]), done=False)
    rest = sse(*token_events([" never shown"]))
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))
    child = spawn("ask", "--plain", "hi")
    child.expect("First words")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    text = screen_text(child.before)
    assert (child.exitstatus, child.signalstatus) == (130, None), text
    assert "never shown" not in text
    assert "wai: interrupted" in text
    assert "Traceback" not in text


def test_ctrl_c_during_markdown_leaves_the_terminal_clean(server: WorkersAIServer) -> None:
    first = sse(*token_events(["Some **bold** words\n\n"]), done=False)
    rest = sse(*token_events(["never shown"]))
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))
    child = spawn("ask", "hi")
    child.expect("words")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    raw = child.before
    assert (child.exitstatus, child.signalstatus) == (130, None), raw
    hidden = raw.rfind("\x1b[?25l")
    assert hidden == -1 or raw.find("\x1b[?25h", hidden) > hidden  # the cursor is shown again
    assert "never shown" not in screen_text(raw)
    assert "Traceback" not in raw


def test_a_spinner_shows_until_the_first_token(server: WorkersAIServer) -> None:
    server.enqueue(Reply(chunks=[sse(*token_events(["Answer", " here"]))], pause_before=[0]))
    child = spawn("ask", "hi")
    child.expect("waiting for the model")
    server.gate.release()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Answer here" in screen_text(child.before)
