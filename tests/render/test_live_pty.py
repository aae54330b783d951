"""Live markdown in a real pseudo-terminal, at a model's pace: what `wai ask` writes is read through
a terminal emulator (scrollback and screen, colours included) and weighed against Rich printing the
whole answer once."""

from __future__ import annotations

import io
import os
import re
import sys

import pexpect
import pyte

from tests.conftest import default_sigint
from tests.render.test_markdown import printed_whole, shown_cells, terminal_cells
from tests.servers.workers_ai import Reply, WorkersAIServer, sse, token_events

ANSWER = """Rendering streamed markdown is mostly about **what you redraw**: a token usually
extends the last line, so the cheapest update writes only its characters.

- Paragraphs reflow when an `*emphasis*` closes.
- Code blocks grow line by line.

```python
def diff(old: list[str], new: list[str]) -> list[int]:
    return [row for row, line in enumerate(new) if row >= len(old) or old[row] != line]
```

| approach | bytes per token |
|----------|----------------:|
| redraw the block | high |
| write the difference | low |

Over SSH, bytes are what the user feels as *lag*."""
CODE = "```python\n" + "".join(f"value_{i} = compute({i})  # step {i}\n" for i in range(30)) + "```"
COLOR_SYSTEM = "256"  # what Rich finds for TERM=xterm-256color


def tokens_of(text: str) -> list[str]:
    """A model's tokens: a word with its leading space, a run of newlines or spaces, a mark."""
    tokens = re.findall(r" ?[A-Za-z_]+| ?\d+|\n+| +|[^\sA-Za-z_\d]", text)
    assert "".join(tokens) == text
    return tokens


def paced(text: str, pace: float) -> Reply:
    """`text` streamed one token per chunk, `pace` seconds apart."""
    chunks = [sse(event, done=False) for event in token_events(tokens_of(text))]
    return Reply(chunks=[*chunks, sse()], pace=pace)


def spawn(rows: int, columns: int) -> pexpect.spawn:
    """`wai ask` in a terminal of that size, which it learns from the terminal itself."""
    drop = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "COLORTERM")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return pexpect.spawn(
        sys.executable,
        ["-m", "wai", "ask", "--no-save", "hi"],
        env={**env, "TERM": "xterm-256color"},
        dimensions=(rows, columns),
        preexec_fn=default_sigint,
        timeout=60,
    )


def run(rows: int, columns: int) -> bytes:
    """Everything `wai ask` writes to the terminal, once it has exited 0."""
    child = spawn(rows, columns)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before


def whole(text: str, columns: int) -> bytes:
    """Rich printing the whole answer once, as the terminal receives it (the tty turns each
    "\\n" into "\\r\\n")."""
    return printed_whole(text, COLOR_SYSTEM, columns).replace("\n", "\r\n").encode()


def test_an_answer_at_a_models_pace_costs_about_what_printing_it_once_does(
    server: WorkersAIServer,
) -> None:
    """50 tokens a second, 20 frames a second: each frame writes what changed, and the finished
    blocks are not printed again. The scrollback and the screen are Rich's rendering."""
    rows, columns = 40, 100
    server.enqueue(paced(ANSWER, 0.02))
    output = run(rows, columns)
    expected = whole(ANSWER, columns)
    assert terminal_cells(output, rows, columns) == terminal_cells(expected, rows, columns)
    assert len(output) <= 1.5 * len(expected), (len(output), len(expected))


def test_a_code_block_taller_than_the_terminal_is_committed_line_by_line(
    server: WorkersAIServer,
) -> None:
    """On a terminal of 12 rows, the finished lines of a 30-line code block go to the scrollback
    as it grows: the region never has to show what scrolled off, nor redraw it."""
    rows, columns = 12, 80
    text = f"Some code:\n\n{CODE}\n\nDone."
    server.enqueue(paced(text, 0.005))
    output = run(rows, columns)
    expected = whole(text, columns)
    assert terminal_cells(output, rows, columns) == terminal_cells(expected, rows, columns)
    assert len(output) <= 1.5 * len(expected), (len(output), len(expected))


def test_a_resize_mid_answer_redraws_the_open_block_at_the_new_width(
    server: WorkersAIServer,
) -> None:
    """What was committed stays as it was; the open block is erased and drawn again at the new
    width, and nothing of it is left behind twice."""
    rows, columns, narrower = 30, 100, 60
    first = "A first paragraph, committed before the resize."
    second = "A second paragraph " + "that goes on and on " * 12 + "until its last word MARKER"
    rest = " and then its end.\n\nThe end."
    events = token_events(tokens_of(f"{first}\n\n{second}"))
    chunks = [sse(event, done=False) for event in events + token_events(tokens_of(rest))]
    server.enqueue(Reply(chunks=[*chunks, sse()], pace=0.002, pause_before=[len(events)]))
    child = spawn(rows, columns)
    screen = pyte.HistoryScreen(columns, rows, history=1000)
    screen.set_mode(pyte.modes.LNM)
    stream = pyte.ByteStream(screen)
    child.expect("MARKER")  # the end of a frame: the region shows the open paragraph's rows
    stream.feed(child.before + child.after)
    child.setwinsize(rows, narrower)
    screen.resize(rows, narrower)
    server.gate.release()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    stream.feed(child.before)
    text_rows = ["".join(str(cell[0]) for cell in row).rstrip() for row in shown_cells(screen)]
    after = printed_whole(second + rest, None, narrower).splitlines()
    assert text_rows == [first, "", *(line.rstrip() for line in after)]


def test_ctrl_c_in_an_open_code_block_keeps_it_and_leaves_a_fresh_line(
    server: WorkersAIServer,
) -> None:
    rows, columns = 24, 80
    text = "Intro.\n\n```\nprint(1)\nprint(2)\n"
    chunks = [sse(event, done=False) for event in token_events(tokens_of(text))]
    server.enqueue(Reply(chunks=[*chunks, sse()], pause_before=[len(chunks)]))
    child = spawn(rows, columns)
    child.logfile_read = written = io.BytesIO()
    child.expect(r"print\(2\)")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert (child.exitstatus, child.signalstatus) == (130, None)
    screen = pyte.Screen(columns, rows)
    screen.set_mode(pyte.modes.LNM)
    pyte.ByteStream(screen).feed(written.getvalue())
    lines = [line.rstrip() for line in screen.display]
    code = [
        line.rstrip()
        for line in printed_whole("```\nprint(1)\nprint(2)\n```", None, columns).splitlines()
    ]
    # the block as it will stay, the echoed ^C erased, then the CLI's blank line and notice
    assert lines[: 4 + len(code)] == ["Intro.", "", *code, "", "wai: interrupted"]
    assert not screen.cursor.hidden
