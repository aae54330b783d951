"""The block-wise markdown renderer: finished blocks printed once, the whole answer exactly as
Rich renders it as one document, and nothing duplicated in a real terminal's scrollback."""

from __future__ import annotations

import io
import itertools
import os
import re
import sys

import pexpect
import pyte
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markdown import Markdown

from tests.servers.workers_ai import Reply, WorkersAIServer, sse, token_events
from wai.backends.base import TurnResult
from wai.environment import Environment
from wai.render.markdown import BlockSplitter, MarkdownRenderer, markdown_class

BLOCKS = [
    "# A heading",
    "A paragraph with **bold** and `code`,\nwrapped over two lines.",
    "- one\n- two\n  - nested",
    "1. first\n2. second",
    "```python\ndef f(x):\n\n    return x * 2\n```",
    "~~~\nplain fence\n~~~",
    "| name | value |\n|------|-------|\n| a    | 1     |\n| b    | 2     |",
    "> a quote\n> on two lines",
    "---",
    "## Another heading\nfollowed by text",
    "    indented code",
]


def split_stream(text: str, cuts: list[int]) -> list[str]:
    points = sorted({cut % (len(text) + 1) for cut in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points) if b > a]


def whole(text: str, width: int = 80) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(Markdown(text))
    return out.getvalue()


def rendered(deltas: list[str], frame_interval: float | None = 0.0) -> str:
    """What the renderer prints; finished blocks are printed in frames as fast as they come (0),
    or all at the end (None)."""
    out = io.StringIO()
    renderer = MarkdownRenderer(Environment(stdout=out, environ={}), frame_interval)
    renderer.console.width = 80
    for delta in deltas:
        renderer.text(delta)
    renderer.finish(TurnResult("".join(deltas), None, "stop"))
    return out.getvalue()


def test_blocks_are_cut_at_blank_lines_and_closed_fences() -> None:
    splitter = BlockSplitter()
    text = (
        "# Title\n\nSome text\nmore\n\n```\ncode\n\nstill code\n```\nafter\n\n- a\n\n- b\n\nend\n"
    )
    finished = [block for char in text for block in splitter.feed(char)]
    assert finished == [
        "# Title",
        "Some text\nmore",
        "```\ncode\n\nstill code\n```",
        "after",
        "- a\n\n- b",  # a loose list stays one block
    ]
    assert splitter.flush() == "end"  # the last block ends with the answer


def test_an_unfinished_line_stays_open() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("Hello wor") == []
    assert splitter.pending() == "Hello wor"
    assert splitter.feed("ld\n\nNext") == []
    assert splitter.feed("\n\n") == ["Hello world"]
    assert splitter.pending() == "Next\n\n"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=7),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
)
def test_block_by_block_equals_rich_rendering_the_whole_answer(
    blocks: list[str], cuts: list[int]
) -> None:
    text = "\n\n".join(blocks)
    deltas = split_stream(text, cuts)
    assert rendered(deltas) == whole(text)  # finished blocks printed in frames as they come
    assert rendered(deltas, None) == whole(text)  # all of them together, at the end


# --- line by line, in a terminal ------------------------------------------------------------------

TALL_BLOCKS = [  # taller than a short terminal, or with parts that change after they are drawn
    "A long paragraph " + "with many words " * 10 + "that wraps over *several rows* here.",
    "```python\n" + "\n".join(f"line_{i} = {i}  # comment" for i in range(10)) + "\n```",
    "\n".join(f"- item {i} with a few words" for i in range(8)),
    "\n".join(f"{i}. step {i}" for i in range(1, 13)),
    "A paragraph that becomes\na heading\n---",
    "*emphasis that opens here\nand `closes` on the next line*",
    "| a | b |\n|---|---|\n" + "\n".join(f"| {i} | {'x' * 3 * i} |" for i in range(6)),
    "Intro line\n- then a list\n- right after it\n```\ncode after the list\n```",
    "```js\n/* a comment\nover lines */\nlet x = `a\nb`;\n```",
]
TERMINAL_WIDTH = 40


class TerminalText(io.StringIO):
    def isatty(self) -> bool:
        return True


def terminal_cells(
    output: str | bytes, rows: int, columns: int = TERMINAL_WIDTH
) -> list[list[tuple[object, ...]]]:
    """What a terminal shows after `output`, scrollback then screen: every cell's character,
    colours and attributes (a space's foreground colour, weight and slant show nothing); the
    blank rows at the end left out."""
    screen = pyte.HistoryScreen(columns, rows, history=10_000)
    screen.set_mode(pyte.modes.LNM)  # "\n" as a tty delivers it: to the next line's start
    pyte.Stream(screen).feed(output.decode() if isinstance(output, bytes) else output)
    return shown_cells(screen)


def shown_cells(screen: pyte.HistoryScreen) -> list[list[tuple[object, ...]]]:
    """`terminal_cells` of a screen fed already."""
    rows, columns = screen.lines, screen.columns

    def seen(char: pyte.screens.Char) -> tuple[object, ...]:
        if char.data == " ":
            char = char._replace(fg="default", bold=False, italics=False)
        return tuple(char)

    lines = [*screen.history.top, *(screen.buffer[y] for y in range(rows))]
    shown = [[seen(line[x]) for x in range(columns)] for line in lines]
    while shown and all(cell == seen(screen.default_char) for cell in shown[-1]):
        shown.pop()
    return shown


def drawn(deltas: list[str], frames: set[int], rows: int) -> tuple[str, str | None]:
    """What the renderer writes to a terminal of `rows` rows when a frame is drawn after each
    delta in `frames` (and its colour system)."""
    out = TerminalText()
    renderer = MarkdownRenderer(Environment(stdout=out, environ={}), None)
    renderer.console.width, renderer.console.height = TERMINAL_WIDTH, rows
    for index, delta in enumerate(deltas):
        renderer.text(delta)
        if index in frames:
            renderer.frame()
    renderer.finish(TurnResult("".join(deltas), None, "stop"))
    return out.getvalue(), renderer.console.color_system


def printed_whole(text: str, color_system: str | None, columns: int = TERMINAL_WIDTH) -> str:
    """Rich printing the whole answer once, in the same colours."""
    out = TerminalText()
    console = Console(
        file=out,
        width=columns,
        color_system=color_system,
        force_terminal=True,
        no_color=False,
    )
    console.print(Markdown(text))
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(BLOCKS + TALL_BLOCKS), min_size=1, max_size=5),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=60),
    st.sets(st.integers(min_value=0, max_value=200), max_size=60),
    st.sampled_from([4, 8, 24]),
)
def test_line_by_line_in_a_terminal_equals_rich_printing_the_whole_answer(
    blocks: list[str], cuts: list[int], frames: set[int], rows: int
) -> None:
    """Frames drawn after any of the deltas, on terminals shorter and taller than the blocks:
    whatever was committed early (finished blocks, the finished elements and lines of the open
    one) or left live and changed, the scrollback and the screen end as Rich prints the answer,
    colours included."""
    text = "\n\n".join(blocks)
    output, color_system = drawn(split_stream(text, cuts), frames, rows)
    assert terminal_cells(output, rows) == terminal_cells(printed_whole(text, color_system), rows)


def test_a_resize_keeps_what_was_committed_and_redraws_the_rest_at_the_new_width() -> None:
    """On a terminal too short for the open block, its paragraph is committed once the code
    block below it starts; after the terminal narrows, the paragraph stays as drawn and the
    code block is drawn at the new width, below it, once."""
    paragraph = "A paragraph long enough to wrap " + "over several rows " * 4 + "here."
    code = "```\nx = 1\ny = 2\n```"
    out = TerminalText()
    renderer = MarkdownRenderer(Environment(stdout=out, environ={}), None)
    renderer.console.width, renderer.console.height = TERMINAL_WIDTH, 6
    screen = pyte.HistoryScreen(TERMINAL_WIDTH, 6, history=100)
    screen.set_mode(pyte.modes.LNM)
    stream = pyte.Stream(screen)
    renderer.text(f"{paragraph}\n```\nx = 1\n")
    renderer.frame()
    paragraph_rows = whole(paragraph, TERMINAL_WIDTH).splitlines()
    assert renderer.open_committed == len(paragraph_rows)
    stream.feed(out.getvalue())
    written = len(out.getvalue())
    renderer.console.width = 30
    screen.resize(6, 30)
    renderer.text("y = 2\n```\n")
    renderer.frame()
    renderer.finish(TurnResult(f"{paragraph}\n{code}\n", None, "stop"))
    stream.feed(out.getvalue()[written:])
    shown = ["".join(str(cell[0]) for cell in row).rstrip() for row in shown_cells(screen)]
    code_rows = [row.rstrip() for row in whole(code, 30).splitlines()]
    assert shown == [row[:30].rstrip() for row in paragraph_rows] + ["", *code_rows]


def test_no_color_draws_attributes_only_as_rich_prints_them() -> None:
    text = "\n\n".join(BLOCKS + TALL_BLOCKS[:2])
    out = TerminalText()
    renderer = MarkdownRenderer(Environment(stdout=out, environ={"NO_COLOR": "1"}), None)
    renderer.console.width, renderer.console.height = TERMINAL_WIDTH, 8
    for index, delta in enumerate(split_stream(text, list(range(0, len(text), 9)))):
        renderer.text(delta)
        if index % 3 == 0:
            renderer.frame()
    renderer.finish(TurnResult(text, None, "stop"))
    colours = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])[;m]")
    assert not colours.search(out.getvalue())
    expected = TerminalText()
    Console(file=expected, width=TERMINAL_WIDTH, force_terminal=True, no_color=True).print(
        Markdown(text)
    )
    assert terminal_cells(out.getvalue(), 8) == terminal_cells(expected.getvalue(), 8)


def test_a_dumb_terminal_gets_the_blocks_printed_and_no_cursor_moves() -> None:
    """`--markdown` with TERM=dumb: no live region, as with Rich's own live display."""
    text = "\n\n".join(BLOCKS)
    out = TerminalText()
    renderer = MarkdownRenderer(Environment(stdout=out, environ={"TERM": "dumb"}), None)
    renderer.console.width = TERMINAL_WIDTH
    for delta in split_stream(text, list(range(0, len(text), 5))):
        renderer.text(delta)
        renderer.frame()
    renderer.finish(TurnResult(text, None, "stop"))
    assert renderer.region is None
    assert not re.search(r"\x1b\[[0-9;?]*[ABCDGHJKlh]", out.getvalue())
    printed = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # attributes, as Rich prints
    assert [line.rstrip() for line in printed.splitlines()] == [
        line.rstrip() for line in whole(text, TERMINAL_WIDTH).splitlines()
    ]


# --- in a real terminal -------------------------------------------------------------------------

COLUMNS, ROWS = 100, 24


def screen_lines(raw: bytes) -> list[str]:
    """What a terminal shows after `raw`: its scrollback, then the screen."""
    screen = pyte.HistoryScreen(COLUMNS, ROWS, history=10_000)
    stream = pyte.ByteStream(screen)
    stream.feed(raw)
    history = [
        "".join(line[x].data for x in range(COLUMNS)).rstrip() for line in screen.history.top
    ]
    lines = history + [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines


LONG_ANSWER = "\n\n".join(
    "\n\n".join([f"## Part {i}", *BLOCKS[1:8], f"Closing words of part {i}."]) for i in range(1, 7)
)


def spawn_ask() -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "wai", "ask", "--no-save", "hi"],
        env={**os.environ, "TERM": "xterm-256color", "NO_COLOR": "1"},
        dimensions=(ROWS, COLUMNS),
        timeout=60,
    )


def assert_shown_once(raw: bytes, text: str) -> None:
    expected = [line.rstrip() for line in whole(text, COLUMNS).splitlines()]
    while expected and not expected[-1]:
        expected.pop()
    shown = screen_lines(raw)
    assert len(expected) > 3 * ROWS  # taller than the terminal
    assert shown == expected


def test_a_long_answer_appears_exactly_once_in_the_scrollback(server: WorkersAIServer) -> None:
    text = LONG_ANSWER
    tokens = [text[i : i + 7] for i in range(0, len(text), 7)]  # about 7 characters a token
    server.enqueue(Reply.stream(sse(*token_events(tokens)), split=256))
    child = spawn_ask()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert_shown_once(child.before, text)


def test_blocks_printed_while_the_answer_streams_appear_once(server: WorkersAIServer) -> None:
    """The frame thread prints finished blocks above the live region mid-answer; what is on the
    screen at the end is still the whole answer, once."""
    text = LONG_ANSWER
    mark = "Closing words of part 3."
    tokens = [text[i : i + 7] for i in range(0, len(text), 7)]
    events = token_events(tokens)
    cut = (text.index(mark) + len(mark)) // 7 + 1  # up to the end of part 3, then the gate
    first, rest = sse(*events[:cut], done=False), sse(*events[cut:])
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))
    child = spawn_ask()
    child.expect("Closing words of part 3")  # printed by a frame while the stream waits
    seen = child.before + child.after
    server.gate.release()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert_shown_once(seen + child.before, text)


def test_wai_markdown_renders_exactly_as_rich_colours_included() -> None:
    """The lexer and theme made once per answer change nothing (hyperlink ids aside: Rich draws
    a new random one at every render)."""
    text = "\n\n".join(
        [*BLOCKS, "```rust\nfn main() {}\n```", "```no-such-language\nx\n```", "[a](https://x.y)"]
    )

    def coloured(markdown: Markdown) -> str:
        out = io.StringIO()
        Console(file=out, width=80, force_terminal=True, color_system="truecolor").print(markdown)
        return re.sub(r"id=\d+", "id=", out.getvalue())

    assert coloured(markdown_class()(text)) == coloured(Markdown(text))
    assert coloured(markdown_class()(text)) == coloured(markdown_class()(text))  # twice the same
