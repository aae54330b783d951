"""`/continue` in `wai chat`, in a real pseudo-terminal: an answer stopped with Ctrl-C goes on
where it stopped (and again, when the continuation is stopped too), its open paragraph drawn
again with the new text after it."""

from __future__ import annotations

import io
from pathlib import Path

import pexpect
import pyte

from tests.servers.workers_ai import Reply, WorkersAIServer, sse, token_events
from tests.test_repl_pty import PROMPT, session_file, spawn

USAGE = {"prompt_tokens": 18, "completion_tokens": 2, "total_tokens": 20}


def screen_lines(output: str) -> list[str]:
    """The scrollback and the screen as a user sees them, with trailing blank lines dropped."""
    screen = pyte.HistoryScreen(100, 30, history=1000)
    pyte.Stream(screen).feed(output)
    rows = [
        "".join(line[column].data for column in sorted(line)).rstrip()
        for line in screen.history.top
    ]
    rows += [line.rstrip() for line in screen.display]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def test_continue_after_ctrl_c_goes_on_with_the_answer(
    server: WorkersAIServer, isolated: Path
) -> None:
    child = spawn("--session", "hello")
    child.logfile_read = written = io.StringIO()
    child.expect(PROMPT)

    # Ctrl-C in the middle of a slowly streamed answer keeps "Bonjour, le", marked interrupted.
    first = sse(*token_events(["Bonjour", ", le"]), done=False)
    rest = sse(*token_events([" Monde"]))  # never sent: the gate stays shut
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))
    child.send("Say hello in French\r")
    child.expect(", le")
    child.sendintr()
    child.expect("interrupted; the partial answer is kept")
    child.expect(PROMPT)
    answer = session_file(isolated, "hello")["messages"][-1]
    assert (answer["content"], answer["meta"]["interrupted"]) == ("Bonjour, le", True)

    # The continuation is stopped too: what arrived joins the answer, still interrupted.
    server.enqueue(Reply(chunks=[sse(*token_events([" mon"]), done=False), rest], pause_before=[1]))
    child.send("/continue\r")
    child.expect("Bonjour, le mon")
    child.sendintr()
    child.expect("interrupted; what arrived is kept; /continue resumes the answer")
    child.expect(PROMPT)
    answer = session_file(isolated, "hello")["messages"][-1]
    assert (answer["content"], answer["meta"]["interrupted"]) == ("Bonjour, le mon", True)

    server.enqueue(Reply.stream(sse(*token_events(["de", "!"], USAGE))))
    child.send("/continue\r")
    child.expect("Bonjour, le monde!")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    output = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (0, None), output
    assert "Traceback" not in output

    shown = screen_lines(output)
    asked = shown.index(f"{PROMPT} Say hello in French")
    once, twice = (i for i, line in enumerate(shown) if line == f"{PROMPT} /continue")
    # Between: each partial answer, as the live line left it (the tty's echoed ^C erased).
    assert shown[asked + 1 : once] == [
        "Bonjour, le",
        "wai: interrupted; the partial answer is kept; /continue resumes it",
    ]
    assert shown[once + 1 : twice - 1] == ["Bonjour, le mon"]
    assert shown[twice - 1 :] == [
        "wai: interrupted; what arrived is kept; /continue resumes the answer",
        f"{PROMPT} /continue",
        "Bonjour, le monde!",  # its open paragraph drawn again, then the new text after it
        PROMPT,
    ]
    assert [request.body.get("prompt") for request in server.run_requests] == [
        None,
        "<s>[INST] Say hello in French [/INST]Bonjour, le",
        "<s>[INST] Say hello in French [/INST]Bonjour, le mon",
    ]
    assert server.run_requests[-1].body == {
        "prompt": "<s>[INST] Say hello in French [/INST]Bonjour, le mon",
        "raw": True,
        "stream": True,
        "max_tokens": 1024,
    }
    answer = session_file(isolated, "hello")["messages"][-1]
    assert answer["content"] == "Bonjour, le monde!"
    assert "interrupted" not in answer["meta"]
    assert answer["meta"]["usage"] == USAGE
