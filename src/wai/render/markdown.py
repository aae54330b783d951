"""Markdown rendered live on a terminal, block by block, after the model's reasoning.

Finished blocks (a blank line outside a code fence, a closed fence) are rendered once and printed
into the normal scrollback, those finished within one frame together; only the open block lives
in a Rich `Live` region, cut to the terminal's height. Both happen in a frame thread, at most
FRAMES_PER_SECOND times a second. A token costs an append and a look at its own newlines, however
long the answer is; what a frame costs depends on what finished since the last one.

Reasoning that streams before the answer uses the same region and the same thread: in "auto" mode
the region shows a `thinking…` header over the reasoning's tail, in "show" mode finished reasoning
lines go to the scrollback and the region shows the unfinished one; either way it collapses into
one `thought for N s` line when the answer begins. A reasoning token costs an append; a frame
renders at most a couple of screenfuls of it, however long the reasoning is.

Both the answer and the reasoning are drawn with their control characters shown, not obeyed
(`wai.visible`): the model does not get to clear the screen or write the clipboard.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from typing import Any, ClassVar

from wai.backends.base import TurnResult
from wai.environment import Environment
from wai.render.console import rich_console, start_thread_without_sigint
from wai.settings.params import REASONING_MODES
from wai.visible import visible

FRAMES_PER_SECOND = 20
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
LIST_ITEM = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
# Top-level elements that Rich separates from a previous element by a blank line of their own
# (containers such as lists, tables and quotes bring theirs): see _print.
LEAF_ELEMENTS = frozenset({"paragraph_open", "heading_open", "fence", "code_block", "hr"})
THINKING = "thinking…"  # what is shown while a model reasons, here or on the spinner


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


def tail_of(text: str, limit: int) -> str:
    """About the last `limit` characters of `text`, from a line's start when one begins in their
    first half. `limit` is twice what fills the region (N characters wrap to at least N / width
    rows, newlines only add some), so what is left still fills it, and a paragraph shorter than
    half of it wraps as it will in the scrollback instead of from wherever the cut fell."""
    if len(text) <= limit:
        return text
    tail = text[-limit:]
    newline = tail.find("\n", 0, limit // 2)
    return tail[newline + 1 :] if newline >= 0 else tail


class Thoughts:
    """The reasoning as the frame thread takes it in: how many deltas came, the tail the live
    region shows (in "show" mode the unfinished line's), and in "show" mode the complete lines to
    print. What a `take` costs and what is kept depend on what arrived since the last frame and
    on the region's size, not on the reasoning's length."""

    def __init__(self, keep_lines: bool):
        self.keep_lines = keep_lines  # "show": complete lines go to the scrollback
        self.count = 0  # the deltas taken
        self.tail = ""  # for the region: the reasoning's end ("auto"), the unfinished line's
        self.line: list[str] = []  # "show": the unfinished line, in pieces
        self.blank_lines = 0  # "show": blank lines held back until a line with text follows
        self.printed = False  # "show": a line with text was printed (blank lines before it go)

    def take(self, pieces: list[str], limit: int) -> list[str]:
        """Take the deltas that arrived since the last frame, keeping about `limit` characters
        for the region. The lines they completed ("show"; otherwise none)."""
        self.count += len(pieces)
        new = "".join(pieces)
        if not self.keep_lines or "\n" not in new:
            if self.keep_lines:
                self.line.append(new)
            self.tail = tail_of(self.tail + new, limit)
            return []
        head, rest = new.rsplit("\n", 1)
        lines = ("".join(self.line) + head).split("\n")
        self.line = [rest]
        self.tail = tail_of(rest, limit)
        return self._with_text(lines)

    def end(self) -> list[str]:
        """The unfinished line, as the last one ("show")."""
        line = "".join(self.line)
        self.line, self.tail = [], ""
        return self._with_text([line])

    def _with_text(self, lines: list[str]) -> list[str]:
        """Blank lines only between lines with text: models often open or close with some."""
        shown = []
        for line in lines:
            if not line.strip():
                self.blank_lines += self.printed
                continue
            shown += [""] * self.blank_lines
            shown.append(line)
            self.blank_lines, self.printed = 0, True
        return shown


class _Reasoning:
    """The reasoning while it streams, dimmed, wrapped and cut to the terminal's height: a
    `thinking…` header over its tail ("auto"), or only its unfinished line ("show": the rest is
    in the scrollback). It renders `thoughts.tail`, which the frame thread keeps short."""

    def __init__(self, renderer: MarkdownRenderer):
        self.renderer = renderer

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment
        from rich.text import Text

        rows = max(1, options.size.height - 1)  # a row left below, as for the open block
        lines: list[Any] = []
        if self.renderer.reasoning_mode == "auto":
            lines = console.render_lines(Text(THINKING, style="dim"), options, pad=False)
        room = rows - len(lines)
        text = self.renderer.thoughts.tail.lstrip("\n").rstrip()
        if room > 0 and text:
            body = console.render_lines(Text(text, style="dim"), options, pad=False)
            lines += body[-room:]
        for line in lines[:rows]:
            yield from line
            yield Segment.line()


class _LiveRegion:
    """What Live shows: the reasoning until it collapses, then the open block. Rendered only by
    the frame thread (and by `finish`, once that thread has ended), which owns `thinking`."""

    def __init__(self, renderer: MarkdownRenderer):
        self.reasoning = _Reasoning(renderer)
        self.open_block = _OpenBlock(renderer)
        self.renderer = renderer

    def __rich_console__(self, console: Any, options: Any) -> Any:
        yield self.reasoning if self.renderer.thinking else self.open_block


class MarkdownRenderer:
    """Tokens go to the block splitter (the caller's thread); a frame thread, at most
    FRAMES_PER_SECOND times, prints the blocks finished since the last frame as one document
    (a Markdown document costs ~1 ms to set up, and each print redraws the live region) and
    redraws the open block. Each block is rendered once, and the caller never waits for Rich.

    Reasoning deltas are only appended for the frame thread, which draws them (`reasoning`
    says how: "auto", "show" or "hide") until the answer's first text arrives, then prints the
    `thought for` line ahead of the answer's first block (in the same print when they are due
    in the same frame)."""

    def __init__(
        self,
        env: Environment,
        frame_interval: float | None = 1 / FRAMES_PER_SECOND,
        reasoning: str = "auto",
    ):
        if reasoning not in REASONING_MODES:
            raise ValueError(f"reasoning is one of {', '.join(REASONING_MODES)}, not {reasoning!r}")
        self.started = time.monotonic()  # the turn's start, for "thought for N s"
        self.console = rich_console(env)
        self.blocks = BlockSplitter()
        self.lock = threading.Lock()  # what the caller's thread hands the frame thread:
        self.finished: list[str] = []  # blocks, for the next frame
        self.thought_pieces: list[str] = []  # reasoning deltas, for the next frame
        self.answering = False  # the answer's text has begun: the reasoning collapses
        self.thought_for: float | None = None  # seconds from the start to the answer's text
        self.reasoning_mode = reasoning
        self.shows_reasoning = reasoning != "hide"
        self.thoughts = Thoughts(keep_lines=reasoning == "show")  # the frame thread's, as:
        self.thinking = False  # the region shows the reasoning (it came, and has not collapsed)
        self.frame_interval = frame_interval  # None: no frames, everything at the end
        self.new_line_owed = False  # the last printed element wants a blank line after it
        self.live: Any = None
        self.stopping = threading.Event()
        self.frames: threading.Thread | None = None
        self.failure: BaseException | None = None  # the frame thread's, raised in the caller's

    def reasoning(self, delta: str) -> None:
        if not self.shows_reasoning or not delta:
            return
        if self.failure is not None:
            raise self.failure
        with self.lock:
            if self.answering:
                return  # reasoning after the answer began: its place has collapsed already
            self.thought_pieces.append(visible(delta))
        if self.live is None:
            self._start()

    def text(self, delta: str) -> None:
        if self.failure is not None:
            raise self.failure  # a closed stdout (BrokenPipeError), say
        delta = visible(delta)
        with self.lock:
            self.finished += self.blocks.feed(delta)
            if not self.answering and delta.strip():  # blank lines first do not end thinking
                self.answering = True
                self.thought_for = time.monotonic() - self.started
        if self.live is None:
            self._start()

    def _start(self) -> None:
        from rich.live import Live

        self.live = Live(
            _LiveRegion(self),
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
                self.frame()
        except BaseException as error:
            self.failure = error

    def frame(self) -> None:
        """One frame: print what finished since the last one (a print redraws the region
        itself), else redraw the region. The frame thread's work (a test's, with no frames)."""
        if not self._print_new() and self.live is not None:
            self.live.refresh()

    def _print_new(self, final: bool = False) -> bool:
        """Print, in one go, the reasoning lines and the `thought for` line that are due, then
        the finished blocks as one document (Rich renders consecutive finished blocks together
        exactly as it renders them one by one). False when there was nothing to print."""
        with self.lock:
            pieces, self.thought_pieces = self.thought_pieces, []
            batch, self.finished = self.finished, []
            answering = self.answering or final
            thought_for = self.thought_for
        items = self._reasoning_items(pieces, answering, thought_for) + self._block_items(batch)
        if not items:
            return False
        from rich.console import Group

        self.console.print(items[0] if len(items) == 1 else Group(*items))
        return True

    def _reasoning_items(
        self, pieces: list[str], answering: bool, thought_for: float | None
    ) -> list[Any]:
        if not pieces and not (self.thinking and answering):
            return []
        from rich.text import Text

        first = self.thoughts.count == 0
        width, height = self.console.size
        lines = self.thoughts.take(pieces, 2 * width * height)
        items: list[Any] = []
        if self.reasoning_mode == "show":
            if first:
                items.append(Text(THINKING, style="dim"))
            if answering:
                lines += self.thoughts.end()
            if lines:
                items.append(Text("\n".join(lines), style="dim"))
        self.thinking = not answering
        if answering:
            if thought_for is None:  # no answer: the reasoning lasted the whole turn
                thought_for = time.monotonic() - self.started
            count = self.thoughts.count  # one delta: a whole answer at once, no count to give
            tokens = f" ({count} tokens)" if count > 1 else ""
            items.append(Text(f"thought for {thought_for:.1f} s{tokens}", style="dim"))
            self.new_line_owed = True  # the answer follows it as a paragraph would
        return items

    def _block_items(self, batch: list[str]) -> list[Any]:
        if not batch:
            return []
        markdown = markdown_class()("\n\n".join(batch))
        top = [token for token in markdown.parsed if token.level == 0]
        if not top:
            return []
        from rich.console import NewLine

        spaced = self.new_line_owed and top[0].type in LEAF_ELEMENTS
        last = top[-1]
        kind = last.type.replace("_close", "_open") if last.nesting == -1 else last.type
        element = markdown.elements.get(kind)
        self.new_line_owed = bool(element and element.new_line)
        return [NewLine(), markdown] if spaced else [markdown]

    def finish(self, result: TurnResult) -> None:
        try:
            if self.frames is not None:
                self.stopping.set()
                self.frames.join()
                self.frames = None
        finally:  # even when Ctrl-C (or SIGTERM) lands in the join: the terminal comes back
            if self.live is not None:
                live, self.live = self.live, None
                live.stop()  # transient: the region is cleared, the cursor shown
        if self.failure is not None:
            raise self.failure
        with self.lock:
            rest = self.blocks.flush()
            if rest.strip():
                self.finished.append(rest)
        self._print_new(final=True)  # the reasoning collapses now if no answer came
