"""Markdown rendered live on a terminal, block by block.

Finished blocks (a blank line outside a code fence, a closed fence) are rendered once and printed
into the normal scrollback, those finished within one frame together; only the open block lives
in a Rich `Live` region, cut to the terminal's height. Both happen in a frame thread, at most
FRAMES_PER_SECOND times a second. A token costs an append and a look at its own newlines, however
long the answer is; what a frame costs depends on what finished since the last one.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any, ClassVar

from wai.backends.base import TurnResult
from wai.environment import Environment
from wai.render.console import rich_console, start_thread_without_sigint

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
    """The open block, rendered at each frame and cut to the terminal's height."""

    def __init__(self, renderer: MarkdownRenderer):
        self.renderer = renderer

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment

        with self.renderer.lock:
            text = self.renderer.blocks.pending()
        if not text.strip():
            return
        lines = console.render_lines(markdown_class()(text), options, pad=False)
        for line in lines[-max(1, options.size.height - 1) :]:
            yield from line
            yield Segment.line()


@functools.cache
def markdown_class() -> Any:
    """Rich's Markdown, with each code language's lexer and the colour theme made once instead of
    once per block (a lexer costs ~1 ms, and a fresh theme looks up every token's style again):
    the same output."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
    from rich.markdown import CodeBlock, Markdown
    from rich.syntax import Syntax

    @functools.cache
    def lexer(name: str) -> Any:
        try:  # the options Syntax gives a lexer it finds by name
            return get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=4)
        except ClassNotFound:
            return name  # Syntax falls back to plain text, as for an unknown name

    theme = functools.cache(Syntax.get_theme)

    class FastCodeBlock(CodeBlock):
        def __rich_console__(self, console: Any, options: Any) -> Any:
            code = str(self.text).rstrip()
            yield Syntax(
                code, lexer(self.lexer_name), theme=theme(self.theme), word_wrap=True, padding=1
            )

    class FastMarkdown(Markdown):
        elements: ClassVar = {
            **Markdown.elements,
            "fence": FastCodeBlock,
            "code_block": FastCodeBlock,
        }

    return FastMarkdown


class MarkdownRenderer:
    """Tokens go to the block splitter (the caller's thread); a frame thread, at most
    FRAMES_PER_SECOND times, prints the blocks finished since the last frame as one document
    (a Markdown document costs ~1 ms to set up, and each print redraws the live region) and
    redraws the open block. Each block is rendered once, and the caller never waits for Rich."""

    def __init__(self, env: Environment, frame_interval: float | None = 1 / FRAMES_PER_SECOND):
        self.console = rich_console(env)
        self.blocks = BlockSplitter()
        self.lock = threading.Lock()  # the splitter and `finished`, between the two threads
        self.finished: list[str] = []  # for the next frame
        self.frame_interval = frame_interval  # None: no frames, everything at the end
        self.new_line_owed = False  # the last printed element wants a blank line after it
        self.live: Any = None
        self.stopping = threading.Event()
        self.frames: threading.Thread | None = None
        self.failure: BaseException | None = None  # the frame thread's, raised in the caller's

    def text(self, delta: str) -> None:
        if self.failure is not None:
            raise self.failure  # a closed stdout (BrokenPipeError), say
        with self.lock:
            self.finished += self.blocks.feed(delta)
        if self.live is None:
            from rich.live import Live

            self.live = Live(
                _OpenBlock(self),
                console=self.console,
                auto_refresh=False,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.live.start()
            self.frames = threading.Thread(target=self._run_frames, daemon=True)
            start_thread_without_sigint(self.frames.start)

    def _run_frames(self) -> None:
        try:
            # Only this thread prints or redraws while Live runs (Live is started before it and
            # stopped after it, with no refresh thread of its own), so no frame can land between
            # another's "erase the region" and its redraw.
            while not self.stopping.wait(self.frame_interval):
                if not self._print_finished():  # a print redraws the region itself
                    self.live.refresh()
        except BaseException as error:
            self.failure = error

    def _print_finished(self) -> bool:
        """Print the finished blocks as one document: Rich renders consecutive finished blocks
        together exactly as it renders them one by one. False when there were none."""
        with self.lock:
            batch, self.finished = self.finished, []
        if not batch:
            return False
        markdown = markdown_class()("\n\n".join(batch))
        top = [token for token in markdown.parsed if token.level == 0]
        if not top:
            return True
        from rich.console import Group, NewLine

        spaced = self.new_line_owed and top[0].type in LEAF_ELEMENTS
        self.console.print(Group(NewLine(), markdown) if spaced else markdown)
        last = top[-1]
        kind = last.type.replace("_close", "_open") if last.nesting == -1 else last.type
        element = markdown.elements.get(kind)
        self.new_line_owed = bool(element and element.new_line)
        return True

    def finish(self, result: TurnResult) -> None:
        if self.frames is not None:
            self.stopping.set()
            self.frames.join()
            self.frames = None
        if self.live is not None:
            live, self.live = self.live, None
            live.stop()  # transient: the open block's region is cleared, the cursor shown
        if self.failure is not None:
            raise self.failure
        with self.lock:
            rest = self.blocks.flush()
            if rest.strip():
                self.finished.append(rest)
        self._print_finished()
