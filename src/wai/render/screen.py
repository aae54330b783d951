"""The live region at the bottom of a terminal, redrawn by differences as curses-style renderers do.

At each update the region is given the rows that have become final (`committed`: they stay where
they are, above the region, and are never drawn again) and the rows that may still change (`live`).
It writes only what differs from what the screen shows: cursor moves, then the changed cells with
the style codes they need. A row that only grew at its end costs its new characters; a row that
changed in the middle costs the changed span; rows that went away are erased.

Everything is relative to the cursor, since the region's place on the screen is unknown: the
cursor rests at the end of the region's last row, where the next characters of a growing line
go, unless the `^C` a terminal echoes for a Ctrl-C would not fit there; then (and when nothing is
live) at the start of the row below. Rows are reached with cursor-up and newlines, and "\\n" is a
terminal's newline (the tty adds the carriage return, as Rich assumes too). Trailing blanks are
not written: a blank cell shows nothing, and Rich pads every paragraph row to the full width.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Cell = tuple[str, Any]  # one column: its text ("" for a wide character's right half), its Style
Row = tuple[Cell, ...]
Line = Sequence[Any]  # a rendered line, as Rich's Console.render_lines gives it: its Segments

HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
ECHO = "^C"  # what a terminal echoes at the cursor for a Ctrl-C: the cursor rests where it fits
ERASE_LINE_RIGHT, ERASE_BELOW = "\x1b[K", "\x1b[J"
COLOR_SYSTEMS = ("standard", "256", "truecolor", "windows")  # Rich's names, in its enum's order


def cells(line: Iterable[Any], remove_color: bool = False) -> Row:
    """One rendered line (Rich segments) as cells, blank cells at its end left out. With
    `remove_color` (NO_COLOR), colours are dropped as Rich drops them when it prints."""
    from rich.cells import get_character_cell_size
    from rich.segment import Segment

    segments = Segment.remove_color(line) if remove_color else line
    row: list[Cell] = []
    for text, style, control in segments:
        if control:
            continue
        style = style or None
        if text.isascii():  # one column a character (Rich has expanded tabs already)
            row.extend((char, style) for char in text)
            continue
        for char in text:
            size = get_character_cell_size(char)
            if size == 0 and row:  # a combining mark: part of the previous character
                last = len(row) - 1 if row[-1][0] else len(row) - 2
                row[last] = (row[last][0] + char, row[last][1])
                continue
            row.append((char, style))
            if size == 2:
                row.append(("", style))
    while row and row[-1][0] == " " and _blank(row[-1][1]):
        row.pop()
    return tuple(row)


def _blank(style: Any) -> bool:
    """A space in `style` looks like an empty cell."""
    return style is None or not (
        style.bgcolor or style.reverse or style.underline or style.underline2 or style.strike
    )


def color_system_of(console: Any) -> Any:
    """The colour system a Rich console prints with, from its public name."""
    from rich.color import ColorSystem

    name = console.color_system
    return None if name is None else list(ColorSystem)[COLOR_SYSTEMS.index(name)]


class Region:
    """What the terminal shows below the committed rows, and the cursor's place in it."""

    def __init__(self, write: Callable[[str], None], color_system: Any, remove_color: bool = False):
        self.write = write  # writes and flushes a string to the terminal
        self.color_system = color_system
        self.remove_color = remove_color  # NO_COLOR: attributes only, as Rich prints then
        self.rows: list[Row] = []  # on the screen, from the region's top
        self.row = 0  # the cursor's row, from the region's top
        self.col: int | None = 0  # its column; None when unknown, or held past the right edge
        self.size: tuple[int, int] | None = None  # the terminal's (width, height) when drawn
        self.cursor_hidden = False

    def update(
        self, committed: Sequence[Line], live: Sequence[Line], width: int, height: int
    ) -> None:
        """Show `committed` then `live` (its last rows, when it is taller than the terminal
        less one row), then forget `committed`: the region starts below it."""
        out: list[str] = []
        if self.size is not None and self.size != (width, height) and self.rows:
            self._erase(out)  # resized: what the terminal did to the rows is unknown; redraw
        self.size = (width, height)
        shown = [cells(line, self.remove_color) for line in live[-max(1, height - 1) :]]
        if not self.cursor_hidden:  # hidden while the answer streams, as a cursor would
            out.append(HIDE_CURSOR)  # flicker over the rows being drawn
            self.cursor_hidden = True
        old = self.rows
        for index, line in enumerate(committed):
            if index >= len(old):  # a new row: newlines reach it, and scroll at the bottom
                self._move(out, index, 0)
                self._put_line(out, line)  # never compared: no cells needed
            else:
                self._change(out, index, old[index], cells(line, self.remove_color), width)
        for index, new in enumerate(shown, len(committed)):
            if index >= len(old):
                self._move(out, index, 0)
                self._put(out, new, width)
            else:
                self._change(out, index, old[index], new, width)
        end = len(committed) + len(shown)
        if end < len(old):
            self._move(out, end, 0)
            out.append(ERASE_BELOW)
        if shown and len(shown[-1]) <= width - len(ECHO):
            self._move(out, end - 1, len(shown[-1]))  # at the end of the last row
        else:  # at the start of the next: the last row is (nearly) full, or nothing is live
            self._move(out, end, 0)
        self.rows = shown
        self.row -= len(committed)
        if out:
            self.write("".join(out))

    def distrust(self) -> None:
        """Forget what the region's rows and the cursor's column are: the terminal echoed what
        was typed at the cursor (`^C` for a Ctrl-C) and a frame may have drawn after it. The
        next update writes the rows again, whole."""
        width = self.size[0] if self.size else 0
        unknown: Row = (("?", None),) * (width + 1)  # equals no row, and is longer than any
        self.rows = [unknown] * (len(self.rows) + (self.row == len(self.rows)))
        self.col = None

    def leave(self) -> None:
        """Keep what is shown, and put the cursor, visible, at the start of a fresh line below
        it. Also when stdout has gone away: then nothing can be written."""
        out: list[str] = []
        if self.rows:
            self._move(out, len(self.rows), 0)
            self.rows, self.row = [], 0
        if self.cursor_hidden:
            out.append(SHOW_CURSOR)
            self.cursor_hidden = False
        if out:
            with contextlib.suppress(OSError):
                self.write("".join(out))

    def _erase(self, out: list[str]) -> None:
        """Back to the region's top (as far as the screen goes), erasing it all."""
        self._move_row(out, 0)  # cursor-up stops at the screen's top: what went above stays
        out.append("\r" + ERASE_BELOW)
        self.rows, self.row, self.col = [], 0, 0

    def _change(self, out: list[str], index: int, old: Row, new: Row, width: int) -> None:
        """Rewrite the span of row `index` that differs, erasing what the new row no longer
        covers."""
        if old == new:
            return
        start = 0
        shortest = min(len(old), len(new))
        while start < shortest and old[start] == new[start]:
            start += 1
        end = len(new)
        if len(old) == len(new):  # the same length: the cells after the change stay too
            while end > start and old[end - 1] == new[end - 1]:
                end -= 1
        # Never write half of a wide character, nor over half of one.
        while start > 0 and (_right_half(new, start) or _right_half(old, start)):
            start -= 1
        while end < len(new) and (_right_half(new, end) or _right_half(old, end)):
            end += 1
        self._move(out, index, start)
        self._put(out, new[start:end], width)
        if len(new) < len(old):
            out.append(ERASE_LINE_RIGHT)

    def _put(self, out: list[str], cells: Sequence[Cell], width: int) -> None:
        """Write `cells` at the cursor, a style's codes once for each run of cells in it."""
        index = 0
        while index < len(cells):
            style = cells[index][1]
            run = index
            while run < len(cells) and cells[run][1] == style:
                run += 1
            text = "".join(text for text, _ in cells[index:run])
            out.append(style.render(text, color_system=self.color_system) if style else text)
            index = run
        if self.col is not None:
            self.col += len(cells)
            if self.col >= width:
                self.col = None  # the terminal holds the cursor at the edge (a pending wrap)

    def _put_line(self, out: list[str], line: Line) -> None:
        """Write a rendered line at the cursor, as Rich prints it but a style's codes once for
        each run of text in it, blank cells at its end left out. A burst of text commits many
        rows a frame: this is the quick way, for rows that are never compared afterwards."""
        from rich.segment import Segment

        texts: list[str] = []
        styles: list[Any] = []
        for text, style, control in Segment.remove_color(line) if self.remove_color else line:
            if control or not text:
                continue
            if styles and style is styles[-1]:  # the same object: Rich reuses a span's style
                texts[-1] += text
            else:
                texts.append(text)
                styles.append(style or None)
        while texts and texts[-1].endswith(" ") and _blank(styles[-1]):
            texts[-1] = texts[-1].rstrip(" ")
            if texts[-1]:
                break
            texts.pop()
            styles.pop()
        render = self.color_system
        out.extend(
            style.render(text, color_system=render) if style else text
            for text, style in zip(texts, styles, strict=True)
        )
        self.col = None  # not counted: the next row is reached with a newline

    def _move(self, out: list[str], row: int, col: int) -> None:
        self._move_row(out, row)
        self._move_col(out, col)

    def _move_row(self, out: list[str], row: int) -> None:
        if row < self.row:
            up = self.row - row
            out.append("\x1b[A" if up == 1 else f"\x1b[{up}A")
        elif row > self.row:  # rows already on the screen: newlines never scroll here
            out.append("\n" * (row - self.row))
            self.col = 0
        self.row = row

    def _move_col(self, out: list[str], col: int) -> None:
        if col != self.col:
            out.append("\r" if col == 0 else f"\x1b[{col + 1}G")
            self.col = col


def _right_half(row: Row, index: int) -> bool:
    return index < len(row) and row[index][0] == ""
