"""Markdown rendered live on a terminal, block by block, after the model's reasoning.

The answer is cut into top-level blocks (at a blank line outside a code fence, at a closed fence).
A frame thread, at most FRAMES_PER_SECOND times a second, renders the blocks finished since the
last frame, once, and the open block, and hands them to the live region (`wai.render.screen`): the
finished blocks are committed to the scrollback, the open block stays live (but for the rows that
can no longer change, once it outgrows the terminal), and the terminal gets only what differs from
what it shows (a token that extends the last line costs its characters). A block that finishes
is not printed again: the screen is brought to its final rendering by the same difference. A
token costs an append and a look at its own newlines, however long the answer is; what a frame
costs depends on the open block and on what finished since the last one.

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
from wai.render.screen import Region, color_system_of
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


@functools.cache
def markdown_class() -> Any:
    """Rich's Markdown, with each code language's lexer and the colour theme made once instead of
    once per block (a lexer costs ~1 ms, and a fresh theme looks up every token's style again):
    the same output."""
    from rich.markdown import CodeBlock, Markdown
    from rich.syntax import Syntax

    theme = functools.cache(Syntax.get_theme)

    class FastCodeBlock(CodeBlock):
        def __rich_console__(self, console: Any, options: Any) -> Any:
            code = str(self.text).rstrip()
            lexer = code_lexer(self.lexer_name)
            yield Syntax(code, lexer, theme=theme(self.theme), word_wrap=True, padding=1)

    class FastMarkdown(Markdown):
        elements: ClassVar = {
            **Markdown.elements,
            "fence": FastCodeBlock,
            "code_block": FastCodeBlock,
        }

    return FastMarkdown


@functools.cache
def code_lexer(name: str) -> Any:
    """The Pygments lexer Rich's Syntax finds for a code block's language, or the name itself
    when there is none (Syntax shows such code as plain text)."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:  # the options Syntax gives a lexer it finds by name
        return get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=4)
    except ClassNotFound:
        return name


# What may close, on a later line, a construct a lexer only recognises once closed (a C-style
# comment is one match, from `/*` to `*/`): see `_coloured_alike`.
CLOSERS = ("*/", "-->", '"""', "'''", "`", "]]", "*)", "-}", "=end", "}")


@functools.lru_cache(maxsize=4)  # the frames that overflow until the next line reuse it
def _coloured_alike(language: str, code: str) -> bool:
    """Whether the lines of `code` keep their colours when any of CLOSERS follows them on a
    line of its own (as far as these tell, whatever else follows)."""
    lexer = code_lexer(language or "text")
    if isinstance(lexer, str):
        return True  # plain text

    def lines(text: str) -> list[list[tuple[Any, str]]]:
        split: list[list[tuple[Any, str]]] = [[]]
        for kind, value in lexer.get_tokens(text):
            for index, part in enumerate(value.split("\n")):
                if index:
                    split.append([])
                if part:
                    split[-1].append((kind, part))
        return split

    count = code.count("\n") + 1
    own = lines(code)[:count]
    return all(lines(f"{code}\n{closer}")[:count] == own for closer in CLOSERS)


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


class MarkdownRenderer:
    """Tokens go to the block splitter (the caller's thread); a frame thread, at most
    FRAMES_PER_SECOND times, draws what arrived since the last frame, and the caller never
    waits for Rich.

    On a terminal a frame renders the blocks finished since the last one as one document (a
    Markdown document costs ~1 ms to set up) and the open block, and hands the region (see
    `wai.render.screen`) the rows that are final, to commit, and the rows that may still
    change. Elsewhere (`--markdown` into a pipe) finished blocks are printed and nothing is
    drawn live.

    Reasoning deltas are only appended for the frame thread, which draws them (`reasoning`
    says how: "auto", "show" or "hide") until the answer's first text arrives, then commits
    the `thought for` line ahead of the answer's first block (in the same frame when they
    are due together)."""

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
        self.on_terminal = self.console.is_terminal and not env.dumb_terminal
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
        self.reasoning_view = _Reasoning(self)
        self.frame_interval = frame_interval  # None: no frames, everything at the end
        self.new_line_owed = False  # the last committed element wants a blank line after it
        self.region: Region | None = None  # the live region (a terminal's), once it starts
        self.drawing = threading.Lock()  # one draw at a time: a frame's, or `finish`'s
        self.open_committed = 0  # rows of the open block committed (its leading blank included)
        self.drawn: tuple[str, int, int] | None = None  # the open block and terminal size drawn
        self.open_settled_by: tuple[str, bool] | None = None  # see `_open_block`, `_recount`
        self.rendered: dict[tuple[str, int], list[Any]] = {}  # rows of a settled part, by text
        self.started_frames = False
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
        if not self.started_frames:
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
        if not self.started_frames:
            self._start()

    def _start(self) -> None:
        self.started_frames = True
        if self.on_terminal:
            system = color_system_of(self.console)
            self.region = Region(self._write, system, remove_color=self.console.no_color)
        self.frames = threading.Thread(target=self._run_frames, daemon=True)
        start_thread_without_sigint(self.frames.start)

    def _write(self, text: str) -> None:
        self.console.file.write(text)
        self.console.file.flush()

    def _run_frames(self) -> None:
        try:
            # Only this thread draws until `finish` has stopped it (a Ctrl-C there may cut the
            # wait short: `drawing` keeps its last draw from mixing with a frame's).
            while not self.stopping.wait(self.frame_interval):
                self.frame()
        except BaseException as error:
            self.failure = error

    def frame(self) -> None:
        """One frame: draw what arrived since the last one, or print the blocks that finished
        (not on a terminal). The frame thread's work (a test's, with no frames)."""
        if self.on_terminal:
            self._draw()
        else:
            self._print_new()

    def _take(self, final: bool = False) -> tuple[list[str], list[str], bool, float | None, str]:
        """What the caller's thread handed over since the last frame, and the open block."""
        with self.lock:
            pieces, self.thought_pieces = self.thought_pieces, []
            batch, self.finished = self.finished, []
            answering = self.answering or final
            return pieces, batch, answering, self.thought_for, self.blocks.pending()

    def _print_new(self, final: bool = False) -> None:
        """Print, in one go, the reasoning lines and the `thought for` line that are due, then
        the finished blocks as one document (Rich renders consecutive finished blocks together
        exactly as it renders them one by one)."""
        pieces, batch, answering, thought_for, _ = self._take(final)
        items = self._reasoning_items(pieces, answering, thought_for) + self._block_items(batch)
        if items:
            from rich.console import Group

            self.console.print(items[0] if len(items) == 1 else Group(*items))

    def _draw(self, final: bool = False) -> None:
        """Bring the region up to date: the due reasoning lines, the `thought for` line and
        the finished blocks are committed (less the rows of the block that was open which are
        committed already), then what of the open block can no longer change; the rest of it
        (or the reasoning's tail) is live."""
        with self.drawing:
            region = self.region
            if region is None:
                return  # `finish` has let the region go (Ctrl-C)
            pieces, batch, answering, thought_for, pending = self._take(final)
            width, height = self.console.size
            drawn = (pending, width, height)
            arrived = pieces or batch or final or (answering and self.thinking)
            if not arrived and drawn == self.drawn:
                return  # nothing arrived, and the terminal kept its size
            resized = self.drawn is not None and width != self.drawn[1]
            self.drawn = drawn
            items = self._reasoning_items(pieces, answering, thought_for)  # first: the line
            block_items = self._block_items(batch)  # owes the answer a blank line
            items += block_items
            committed: list[Any] = []
            if items:
                from rich.console import Group

                rows = self._rows(items[0] if len(items) == 1 else Group(*items))
                committed = rows
                if batch:  # the first block was the open one: some of it is committed already
                    if resized:
                        self._recount(rows, blank=len(block_items) - 1)  # a NewLine, or none
                    committed = rows[self.open_committed :]
                    self.open_committed, self.open_settled_by = 0, None
            if self.thinking:
                live = self._rows(self.reasoning_view)
            else:
                rows, blank, settled, settled_by = self._open_block(pending, height)
                if resized:
                    self._recount(rows, blank)
                start = self.open_committed
                if settled > start:
                    self.open_committed, self.open_settled_by = settled, settled_by
                committed += rows[start : self.open_committed]
                live = rows[self.open_committed :]
            region.update(committed, live, width, height)

    def _recount(self, rows: list[Any], blank: int) -> None:
        """After a resize: how many of the open block's `rows`, at the new width, are the part
        of it committed at the old one (which stays as it was drawn)."""
        if self.open_settled_by is not None:
            text, last_dropped = self.open_settled_by
            self.open_committed = blank + self._same_rows(text, rows, blank, last_dropped)

    def _rows(self, renderable: Any) -> list[Any]:
        """`renderable`'s rows: Rich's segments, a list a row."""
        return self.console.render_lines(renderable, self.console.options, pad=False)

    def _open_block(
        self, text: str, height: int
    ) -> tuple[list[Any], int, int, tuple[str, bool] | None]:
        """The open block's rows, as they will be committed when it finishes (its leading blank
        line included, and counted), how many of them can no longer change and are to be
        committed now, and the text whose rows those are (its last row left out, when the flag
        says so), or None.

        Rows are committed when the block outgrows the terminal: until then they stay in the
        region, where a row that does not change costs no byte, and a resize lays them out
        again. Those that can no longer change are the rows of its top-level elements before
        the last, as its complete lines parse: a line decides what it starts once it is
        complete (an unfinished "1" may become a list item that joins the list above), and a
        later line cannot reopen an element that another one followed. The last element may
        change anywhere: a paragraph reflows when an `*` or a backtick closes and becomes a
        heading under a `---` line, a table's columns widen, an ordered list's numbers widen at
        its tenth item. Where it is known to be safe, some of it is committed too (a code
        block's lines but its last, a list's items but its last); otherwise the region shows
        the block's end, and the rest waits for the block to finish."""
        markdown = markdown_class()(text)
        top = _top_level(markdown.parsed)
        if not top:
            return [], 0, 0, None
        complete = text[: text.rfind("\n") + 1]
        if top[-1].type == "table_open" and complete != text:
            text, markdown = complete, markdown_class()(complete)  # redrawn when a row completes
            top = _top_level(markdown.parsed)
            if not top:
                return [], 0, 0, None
        blank = 1 if self.new_line_owed and top[0].type in LEAF_ELEMENTS else 0
        rows = [[]] * blank + self._rows(markdown)
        if len(rows) - self.open_committed < height:
            return rows, blank, 0, None  # the live rows fit below the committed ones
        parsed = markdown.parsed if complete == text else markdown_class()(complete).parsed
        settled_top = _top_level(parsed)
        if not settled_top or not settled_top[-1].map:
            return rows, blank, 0, None
        lines = text.splitlines(keepends=True)
        last = settled_top[-1]
        settled, settled_by = 0, None
        if len(settled_top) > 1:
            prefix = "".join(lines[: last.map[0]])
            settled, settled_by = blank + self._same_rows(prefix, rows, blank), (prefix, False)
        if len(rows) - max(settled, self.open_committed) >= height:
            cut = _without_last_part(parsed, last, lines)
            if cut is not None and last.type == "fence":
                code = "".join(lines[last.map[0] + 1 : cut.count("\n")])
                if not _coloured_alike(last.info.partition(" ")[0], code.rstrip()):
                    cut = None  # an open comment, say: its colours change when it closes
            if cut is not None:
                dropped = last.type == "fence"  # the bottom padding row of Syntax's box
                same = blank + self._same_rows(cut, rows, blank, last_dropped=dropped)
                if same > settled:
                    settled, settled_by = same, (cut, dropped)
        return rows, blank, settled, settled_by

    def _same_rows(self, text: str, rows: list[Any], blank: int, last_dropped: bool = False) -> int:
        """How many of `text`'s rows (the last one left out with `last_dropped`) begin `rows`
        after its `blank` line: `text` begins the open block and is final."""
        key = (text, self.console.width)
        if key not in self.rendered:
            if len(self.rendered) > 4:  # the open block's settled part changes: keep the last
                self.rendered.clear()
            self.rendered[key] = self._rows(markdown_class()(text))
        known = self.rendered[key][:-1] if last_dropped else self.rendered[key]
        count = 0
        for mine, theirs in zip(known, rows[blank:], strict=False):
            if mine != theirs:
                break
            count += 1
        return count

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
            if self.failure is not None:
                raise self.failure
            with self.lock:
                rest = self.blocks.flush()
                if rest.strip():
                    self.finished.append(rest)
            if self.region is not None:
                if result.finish_reason == "interrupted":
                    self.region.distrust()  # the terminal echoed ^C into it
                self._draw(final=True)  # the reasoning collapses now if no answer came
            else:
                self._print_new(final=True)
        finally:  # even when Ctrl-C (or SIGTERM) lands here: the terminal comes back
            with self.drawing:
                region, self.region = self.region, None
            if region is not None:
                region.leave()  # a fresh line below what is shown, the cursor visible


def _top_level(tokens: list[Any]) -> list[Any]:
    """The tokens that open (or are) the document's top-level elements."""
    return [token for token in tokens if token.level == 0 and token.nesting >= 0]


def _without_last_part(tokens: list[Any], last: Any, lines: list[str]) -> str | None:
    """The open block without the part of its last element that may still change, when the
    rest of that element is known to be final: a code block without its last line with text,
    a list without its last item (an ordered list from its tenth number on, since the numbers'
    width is the last number's). None for the other elements."""
    if last.type == "fence":
        end = len(lines)
        while end > 0 and not lines[end - 1].strip():
            end -= 1  # blank lines at the end are dropped from the rendering until text follows
        return "".join(lines[: end - 1]) if end - 1 > last.map[0] + 1 else None
    if last.type not in ("bullet_list_open", "ordered_list_open"):
        return None
    after = tokens[tokens.index(last) :]  # its items, not an earlier list's
    items = [token for token in after if token.type == "list_item_open" and token.level == 1]
    if len(items) < 2 or not items[-1].map:
        return None
    if last.type == "ordered_list_open":
        start = int(last.attrs.get("start", 1))
        if start + len(items) - 1 < 10:
            return None
    return "".join(lines[: items[-1].map[0]])
