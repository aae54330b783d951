"""`wai ask` with a reasoning model in a real pseudo-terminal: the reasoning drawn live under
`thinking…` while the answer is held back, then collapsed into one `thought for` line (or kept,
or never drawn); the spinner when stdout is piped; a budget spent thinking; Ctrl-C while thinking.
What the child wrote is read through a terminal emulator, as a user would see it."""

from __future__ import annotations

import io
import os
import re
import shlex
import sys
from pathlib import Path

import pexpect
import pyte

from tests.conftest import default_sigint
from tests.render.test_reasoning import DimScreen
from tests.render.test_spinner import DOTS
from tests.servers import models_2026 as m
from tests.servers.workers_ai import QWEN3_30B, Reply, WorkersAIServer
from tests.test_repl_pty import session_file, today

ROWS, COLUMNS = 30, 100
REASONING = ["Let me think.\n", "The user says hi", ", so I greet them back."]
ANSWER = ["A **cow** is", " an animal.\n"]
ANSWER_LINE = ("A cow is an animal.", False)
LAST_THOUGHT = r"so I greet them back\."
HIDE, SHOW = "\x1b[?25l", "\x1b[?25h"


def collapse_line(tokens: int) -> re.Pattern[str]:
    return re.compile(rf"thought for \d+\.\d s \({tokens} tokens\)")


def held_stream(reasoning: list[str], answer: list[str]) -> Reply:
    """Qwen3's chunk stream, the answer's chunks held until `server.gate` is released."""
    events = m.reasoning_chunks(reasoning, answer, model=QWEN3_30B)
    cut = 1 + len(reasoning)  # the role chunk, then the reasoning
    thinking = m.stream_body(events[:cut], done=False)
    return Reply(chunks=[thinking, m.stream_body(events[cut:])], pause_before=[1])


def spawn(argv: list[str]) -> tuple[pexpect.spawn, io.StringIO]:
    """`argv` in a ROWS x COLUMNS terminal, which it learns from the terminal itself; the
    second value collects everything the child writes."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    child = pexpect.spawn(
        argv[0],
        argv[1:],
        env={**env, "TERM": "xterm-256color"},
        dimensions=(ROWS, COLUMNS),
        encoding="utf-8",
        preexec_fn=default_sigint,
        timeout=30,
    )
    child.logfile_read = written = io.StringIO()
    return child, written


def spawn_ask(*args: str) -> tuple[pexpect.spawn, io.StringIO]:
    return spawn([sys.executable, "-m", "wai", "ask", "-m", QWEN3_30B, *args, "hi"])


def so_far(child: pexpect.spawn, written: io.StringIO) -> str:
    """What the child wrote up to the end of the last `expect` match (not what was read
    beyond it: a frame may be half drawn there)."""
    output = written.getvalue()
    return output[: len(output) - len(child.buffer)]


def terminal(output: str) -> DimScreen:
    screen = DimScreen(COLUMNS, ROWS, history=10_000)
    pyte.Stream(screen).feed(output)
    return screen


def lines(screen: DimScreen) -> list[tuple[str, bool]]:
    """Scrollback then screen, each line with whether it is dimmed (all its characters, and
    it has some); the blank lines at the end dropped."""
    rows = [*screen.history.top, *(screen.buffer[y] for y in range(ROWS))]
    shown = []
    for row in rows:
        chars = [row[x] for x in range(COLUMNS)]
        text = "".join(char.data for char in chars).rstrip()
        visible = [char for char in chars if char.data != " "]
        shown.append((text, bool(visible) and all(char.strikethrough for char in visible)))
    while shown and not shown[-1][0]:
        shown.pop()
    return shown


def assert_collapsed(shown: list[tuple[str, bool]], tokens: int) -> list[tuple[str, bool]]:
    """The first line is the dimmed `thought for` line; the lines after it."""
    (text, dim), *rest = shown
    assert (bool(collapse_line(tokens).fullmatch(text)), dim) == (True, True), text
    return rest


def assert_cursor_shown(raw: str) -> None:
    hidden = raw.rfind(HIDE)
    assert hidden >= 0 and raw.find(SHOW, hidden) > hidden


def test_auto_draws_the_reasoning_then_collapses_it_before_the_answer(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.enqueue(held_stream(REASONING, ANSWER))
    child, written = spawn_ask()
    child.expect(LAST_THOUGHT)
    assert lines(terminal(so_far(child, written))) == [
        ("thinking…", True),
        ("Let me think.", True),
        ("The user says hi, so I greet them back.", True),
    ]
    server.gate.release()
    child.expect(pexpect.EOF)
    child.close()
    raw = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (0, None), raw
    screen = terminal(raw)
    assert assert_collapsed(lines(screen), len(REASONING)) == [("", False), ANSWER_LINE]
    assert [screen.buffer[2][x].bold for x in range(2, 5)] == [True] * 3  # **cow**
    assert not screen.cursor.hidden
    [question, answer] = session_file(isolated, f"{today()}-hi")["messages"]
    assert (question["content"], answer["content"]) == ("hi", "".join(ANSWER))
    assert answer["meta"]["reasoning"] == "".join(REASONING)


def test_show_keeps_the_reasoning_above_the_line_and_the_answer(server: WorkersAIServer) -> None:
    server.enqueue(held_stream(REASONING, ANSWER))
    child, written = spawn_ask("--reasoning", "show")
    child.expect(LAST_THOUGHT)
    server.gate.release()
    child.expect(pexpect.EOF)
    child.close()
    assert (child.exitstatus, child.signalstatus) == (0, None), written.getvalue()
    shown = lines(terminal(written.getvalue()))
    assert shown[:3] == [
        ("thinking…", True),
        ("Let me think.", True),
        ("The user says hi, so I greet them back.", True),
    ]
    assert assert_collapsed(shown[3:], len(REASONING)) == [("", False), ANSWER_LINE]


def test_hide_draws_the_answer_alone(server: WorkersAIServer) -> None:
    server.enqueue(Reply.stream(m.stream_body(m.reasoning_chunks(REASONING, ANSWER))))
    child, written = spawn_ask("--reasoning", "hide")
    child.expect(pexpect.EOF)
    child.close()
    raw = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (0, None), raw
    assert lines(terminal(raw)) == [ANSWER_LINE]
    assert "greet" not in raw  # not even drawn and erased


def test_a_reasoning_taller_than_the_terminal_is_cut_to_its_height(
    server: WorkersAIServer,
) -> None:
    steps = [f"Step {i:03d}: still weighing the options.\n" for i in range(200)]
    server.enqueue(held_stream(steps, ANSWER))
    child, written = spawn_ask()
    child.expect(r"Step 199: still weighing the options\.")
    held = terminal(so_far(child, written))
    assert len(held.history.top) == 0  # nothing scrolled off: the region never outgrew the screen
    tail = [(step.rstrip(), True) for step in steps[-(ROWS - 2) :]]
    assert lines(held) == [("thinking…", True), *tail]  # all rows but the last one
    server.gate.release()
    child.expect(pexpect.EOF)
    child.close()
    raw = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (0, None), raw
    final = terminal(raw)
    assert len(final.history.top) == 0
    assert assert_collapsed(lines(final), len(steps)) == [("", False), ANSWER_LINE]


def test_piped_stdout_gets_the_answer_and_the_spinner_says_thinking(
    server: WorkersAIServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    server.enqueue(held_stream(REASONING, ANSWER))
    wai = f"{shlex.quote(sys.executable)} -m wai ask -m {QWEN3_30B} hi"
    child, written = spawn(["sh", "-c", f"{wai} > {shlex.quote(str(out))}"])
    child.expect("thinking…")
    spinning = terminal(so_far(child, written))
    assert spinning.display[0][0] in DOTS
    assert spinning.display[0][1:].rstrip() == " thinking…"
    assert [line.rstrip() for line in spinning.display[1:]] == [""] * (ROWS - 1)
    assert out.read_bytes() == b""  # the answer is still held
    server.gate.release()
    child.expect(pexpect.EOF)
    child.close()
    raw = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (0, None), raw
    assert out.read_bytes() == "".join(ANSWER).encode()
    final = terminal(raw)
    assert lines(final) == []  # the spinner leaves nothing behind
    assert not final.cursor.hidden


def test_a_budget_spent_thinking_is_an_error_after_the_line(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.enqueue(Reply.stream(m.stream_body(m.budget_spent_chunks(REASONING, model=QWEN3_30B))))
    child, written = spawn_ask("--max-tokens", "64")
    child.expect(pexpect.EOF)
    child.close()
    raw = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (1, None), raw
    rest = assert_collapsed(lines(terminal(raw)), len(REASONING))
    assert [text for text, _ in rest] == [
        "wai: error: the answer was cut at max_tokens (64) while the model was still reasoning",
        "hint: raise --max-tokens",
    ]
    assert_cursor_shown(raw)
    assert "Traceback" not in raw
    [_, answer] = session_file(isolated, f"{today()}-hi")["messages"]
    assert answer["content"] == ""
    assert (answer["meta"]["reasoning"], answer["meta"]["finish_reason"]) == (
        "".join(REASONING),
        "length",
    )


def test_ctrl_c_while_thinking_keeps_the_reasoning_and_leaves_a_clean_terminal(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.enqueue(held_stream(REASONING, ["never shown"]))
    child, written = spawn_ask()
    child.expect(LAST_THOUGHT)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    raw = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (130, None), raw
    screen = terminal(raw)
    rest = assert_collapsed(lines(screen), len(REASONING))
    assert [text for text, _ in rest] == ["", "wai: interrupted"]
    assert_cursor_shown(raw)
    assert not screen.cursor.hidden
    assert "Traceback" not in raw and "never shown" not in raw
    [_, answer] = session_file(isolated, f"{today()}-hi")["messages"]
    assert answer["content"] == ""
    assert (answer["meta"]["reasoning"], answer["meta"]["interrupted"]) == (
        "".join(REASONING),
        True,
    )
