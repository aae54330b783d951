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
