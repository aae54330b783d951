"""Markdown rendered live on a terminal, block by block.

Finished blocks (a blank line outside a code fence, a closed fence) are rendered once and printed
into the normal scrollback, those finished within one frame together (one Markdown document per
frame, not per block); the open block, and any finished block waiting for the next frame, live in
a Rich `Live` region, cut to the terminal's height and redrawn by Live's own thread at most
FRAMES_PER_SECOND times. A token costs an append and a look at its own newlines, however long the
answer is; what a frame costs depends on the open block alone.
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any

from wai.env import Environment
from wai.turn_result import TurnResult

FRAMES_PER_SECOND = 20
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
LIST_ITEM = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
# Top-level elements that Rich separates from a previous element by a blank line of their own
# (containers such as lists, tables and quotes bring theirs): see _print.
LEAF_ELEMENTS = frozenset({"paragraph_open", "heading_open", "fence", "code_block", "hr"})


class BlockSplitter:
    """Cuts streamed markdown into finished top-level blocks, by whole lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []  # the open block's complete lines
        self.partial: list[str] = []  # the line being received
        self.fence: str | None = None  # the marker of an open code fence
        self.after_blank = False  # the open block ended with a blank line
        self.is_list = False  # the open block is a list (a blank line may not end it)
        self.is_indented_code = False  # ... or indented code (nor may it end that)

    def feed(self, delta: str) -> list[str]:
        """The blocks `delta` finished (usually none)."""
        if "\n" not in delta:
            self.partial.append(delta)
            return []
        self.partial.append(delta)
        *complete, rest = "".join(self.partial).split("\n")
        self.partial = [rest] if rest else []
        finished = []
        for line in complete:
            block = self._line(line + "\n")
            if block is not None:
                finished.append(block)
        return finished

    def pending(self) -> str:
        """The open block as received so far."""
        return "".join(self.lines) + "".join(self.partial)

    def flush(self) -> str:
        """What is left at the end of the answer."""
        text = self.pending().rstrip("\n")
        self.lines, self.partial = [], []
        return text

    def _line(self, line: str) -> str | None:
        if self.fence is not None:
            self.lines.append(line)
            closing = FENCE.match(line)
            if (
                closing
                and closing.group(1)[0] == self.fence[0]
                and len(closing.group(1)) >= len(self.fence)
                and not line[closing.end() :].strip()
            ):
                self.fence = None
                return self._cut()
            return None
        if not line.strip():
            if self.lines:
                self.lines.append(line)
                self.after_blank = True
            return None
        finished = None
        if self.after_blank:
            self.after_blank = False
            continues = (
                self.is_list and (LIST_ITEM.match(line) is not None or line[0] in " \t")
            ) or (self.is_indented_code and _indented_code(line))
            if not continues:
                finished = self._cut()
        if not self.lines:
            self.is_list = LIST_ITEM.match(line) is not None
            self.is_indented_code = _indented_code(line)
        opening = FENCE.match(line)
        if opening:
            self.fence = opening.group(1)
        self.lines.append(line)
        return finished

    def _cut(self) -> str | None:
        text = "".join(self.lines).rstrip("\n")
        self.lines = []
        self.after_blank = self.is_list = self.is_indented_code = False
        return text if text.strip() else None


def _indented_code(line: str) -> bool:
    return line.startswith(("    ", "\t"))


class _OpenBlock:
    """What is not printed yet, rendered at each frame and cut to the terminal's height."""

    def __init__(self, renderer: MarkdownRenderer):
        self.renderer = renderer

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.markdown import Markdown
        from rich.segment import Segment

        text = "\n\n".join([*self.renderer.waiting, self.renderer.blocks.pending()])
        if not text.strip():
            return
        lines = console.render_lines(Markdown(text), options, pad=False)
        for line in lines[-max(1, options.size.height - 1) :]:
            yield from line
            yield Segment.line()


class MarkdownRenderer:
    def __init__(self, env: Environment, print_interval: float = 1 / FRAMES_PER_SECOND):
        from rich.console import Console

        self.console = Console(file=env.stdout, no_color=env.no_color, highlight=False)
        self.blocks = BlockSplitter()
        self.waiting: list[str] = []  # finished blocks for the next print
        self.print_interval = print_interval  # seconds between prints of finished blocks
        self.next_print = 0.0
        self.new_line_owed = False  # the last printed element wants a blank line after it
        self.live: Any = None

    def text(self, delta: str) -> None:
        finished = self.blocks.feed(delta)
        if finished:
            self.waiting += finished
        if self.waiting:
            now = time.monotonic()
            if now >= self.next_print:
                self._print_waiting()
                self.next_print = now + self.print_interval
        if self.live is None:
            from rich.live import Live

            self.live = Live(
                _OpenBlock(self),
                console=self.console,
                refresh_per_second=FRAMES_PER_SECOND,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            from wai.render import start_thread_without_sigint

            start_thread_without_sigint(self.live.start)

    def _print_waiting(self) -> None:
        """Print the finished blocks as one document: Rich renders consecutive finished blocks
        together exactly as it renders them one by one, and a document costs ~1 ms to set up."""
        if not self.waiting:
            return
        from rich.markdown import Markdown

        markdown = Markdown("\n\n".join(self.waiting))
        top = [token for token in markdown.parsed if token.level == 0]
        # Live's thread writes its frames under its lock; a print made outside that lock could
        # land between a frame's "erase the region" and its redraw, and lose lines (and a frame
        # drawn between the print and the emptying of `waiting` would show those blocks twice).
        with self.live._lock if self.live is not None else contextlib.nullcontext():
            self.waiting = []
            if not top:
                return
            from rich.console import Group, NewLine

            spaced = self.new_line_owed and top[0].type in LEAF_ELEMENTS
            self.console.print(Group(NewLine(), markdown) if spaced else markdown)
        last = top[-1]
        kind = last.type.replace("_close", "_open") if last.nesting == -1 else last.type
        element = markdown.elements.get(kind)
        self.new_line_owed = bool(element and element.new_line)

    def finish(self, result: TurnResult) -> None:
        if self.live is not None:
            self.live.stop()  # transient: the open block's region is cleared
            self.live = None
        rest = self.blocks.flush()
        if rest.strip():
            self.waiting.append(rest)
        self._print_waiting()
