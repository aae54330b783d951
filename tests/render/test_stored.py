"""Stored messages drawn as the live REPL draws them: the same bytes as the live renderer for an
answer, the prompt's marks for a message, and the rows a pager decision counts."""

from __future__ import annotations

import io

import pyte
import pytest

from tests.render.test_markdown import BLOCKS, TerminalText
from wai.backends.base import TurnResult
from wai.environment import Environment
from wai.render.markdown import MarkdownRenderer
from wai.render.stored import print_messages, render_messages, screen_rows, typed


def live(answer: str, stdout: io.StringIO) -> str:
    """What the live renderer writes for `answer`, streamed a character at a time."""
    renderer = MarkdownRenderer(Environment(stdout=stdout, environ={}), frame_interval=None)
    for char in answer:
        renderer.text(char)
    renderer.finish(TurnResult(answer, None, "stop"))
    return stdout.getvalue()


def screen(output: str) -> list[list[tuple[object, ...]]]:
    """What a wide terminal shows after `output`: each cell's character, colours and style (a
    space's foreground colour, weight and slant show nothing)."""
    terminal = pyte.HistoryScreen(200, 60, history=1000)
    terminal.set_mode(pyte.modes.LNM)  # "\n" as a tty delivers it: to the next line's start
    pyte.Stream(terminal).feed(output)

    def seen(char: pyte.screens.Char) -> tuple[object, ...]:
        if char.data == " ":
            char = char._replace(fg="default", bold=False, italics=False)
        return tuple(char)

    rows = [*terminal.history.top, *(terminal.buffer[y] for y in range(60))]
    cells = [[seen(row[x]) for x in range(200)] for row in rows]
    while cells and all(cell == seen(terminal.default_char) for cell in cells[-1]):
        cells.pop()
    return cells


@pytest.mark.parametrize("answer", ["\n\n".join(BLOCKS), *BLOCKS])
def test_a_stored_answer_is_drawn_as_the_live_one_was(answer: str) -> None:
    drawn = render_messages(
        Environment(stdout=TerminalText(), environ={}), [{"role": "assistant", "content": answer}]
    )
    assert screen(drawn) == screen(live(answer, TerminalText()))
    assert "\x1b[" in drawn  # in colour, as on a terminal


def test_typed_marks_the_first_line_and_the_others() -> None:
    assert typed("one") == "› one\n"
    assert typed("one\ntwo\n\nfour") == "› one\n… two\n… \n… four\n"


def test_print_messages_writes_what_render_messages_returns() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi\nthere"},
        {"role": "assistant", "content": "**Hello**", "meta": {"finish_reason": "length"}},
        {"role": "assistant", "content": "", "meta": {"interrupted": True}},
    ]
    env = Environment(stdout=TerminalText(), environ={})
    print_messages(env, messages)
    printed = env.stdout.getvalue()
    assert printed == render_messages(Environment(stdout=TerminalText(), environ={}), messages)
    assert [line.rstrip() for line in printed.split("\n")] == [
        "\x1b[2msystem: Be brief.\x1b[0m",
        "› hi",
        "… there",
        "\x1b[1mHello\x1b[0m",
        "\x1b[2m[cut at max_tokens]\x1b[0m",
        "\x1b[2m[interrupted]\x1b[0m",
        "",
    ]


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("", 1),
        ("abc\n", 1),
        ("a" * 10 + "\n", 1),
        ("a" * 11 + "\n", 2),
        ("\x1b[1m" + "a" * 10 + "\x1b[0m\nb\n", 2),  # escape codes take no room
        ("語" * 6 + "\n", 2),  # wide characters take two columns
        ("\n\n", 2),
    ],
)
def test_screen_rows_counts_the_rows_a_terminal_takes(text: str, rows: int) -> None:
    assert screen_rows(text, 10) == rows
