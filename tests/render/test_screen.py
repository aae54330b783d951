"""The live region's differ: the exact bytes it writes for each kind of change, and, for any
sequence of frames, a terminal emulator showing exactly the committed rows then the live ones."""

from __future__ import annotations

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style

from wai.render.screen import HIDE_CURSOR, SHOW_CURSOR, Region, cells

BOLD = Style(bold=True)
RED = Style(color="red")
CODE = Style(color="white", bgcolor="blue")  # a background: its spaces are visible
WIDTH, HEIGHT = 20, 6


def row(*parts: str | tuple[str, Style]) -> list[Segment]:
    """A rendered line from text pieces, plain or (text, style)."""
    return [Segment(part) if isinstance(part, str) else Segment(*part) for part in parts]


class Recorder:
    """A region writing into a list, one string per update."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.region = Region(self.written.append, ColorSystem.STANDARD)

    def update(
        self, committed: list[list[Segment]], live: list[list[Segment]], height: int = HEIGHT
    ) -> str:
        """What one update writes (the first one's cursor hiding left out)."""
        self.region.update(committed, live, WIDTH, height)
        return self.written.pop().removeprefix(HIDE_CURSOR) if self.written else ""


# --- cells ----------------------------------------------------------------------------------------


def test_cells_drop_the_blanks_at_the_end_but_not_visible_ones() -> None:
    assert cells(row("ab   ")) == (("a", None), ("b", None))
    assert cells(row(("ab  ", BOLD))) == (("a", BOLD), ("b", BOLD))  # bold spaces show nothing
    assert cells(row(("a ", CODE))) == (("a", CODE), (" ", CODE))  # a background does
    assert cells(row(("a", Style()))) == (("a", None),)  # the null style is no style


def test_cells_give_a_wide_character_two_columns_and_a_combining_mark_none() -> None:
    assert cells(row("日b")) == (("日", None), ("", None), ("b", None))
    assert cells(row("e\u0301x")) == (("e\u0301", None), ("x", None))


def test_cells_drop_colours_for_no_color() -> None:
    assert cells([Segment("a", RED + BOLD)], remove_color=True) == (("a", BOLD),)


# --- the bytes of each change ---------------------------------------------------------------------


def test_the_first_frame_writes_its_rows_and_rests_at_the_end_of_the_last() -> None:
    region = Recorder()
    region.region.update([], [row("one"), row("two")], WIDTH, HEIGHT)
    assert region.written == [HIDE_CURSOR + "one\ntwo"]


def test_extending_the_last_line_writes_only_the_new_characters() -> None:
    region = Recorder()
    region.update([], [row("Hello wor")])
    assert region.update([], [row("Hello world")]) == "ld"
    assert region.update([], [row("Hello world", (" and", BOLD))]) == "\x1b[1m and\x1b[0m"
    assert region.update([], [row("Hello world", (" and", BOLD))]) == ""  # nothing new


def test_changing_a_middle_line_writes_its_changed_cells_and_comes_back() -> None:
    region = Recorder()
    region.update([], [row("first line"), row("middle *x"), row("last")])
    # "*x" becomes "x" in italics: from column 7 on, the row is shorter; up one row and back
    assert region.update(
        [], [row("first line"), row("middle ", ("x", Style(italic=True))), row("last")]
    ) == ("\x1b[A\x1b[8G\x1b[3mx\x1b[0m\x1b[K\n\x1b[5G")


def test_a_change_between_unchanged_cells_writes_only_the_change() -> None:
    region = Recorder()
    region.update([], [row(("def f", CODE), ("          ", CODE)), row("end")])
    changed = row(("def fn", CODE), ("         ", CODE))
    assert region.update([], [changed, row("end")]) == "\x1b[A\x1b[6G\x1b[37;44mn\x1b[0m\n\x1b[4G"


def test_growing_adds_rows_with_newlines() -> None:
    region = Recorder()
    region.update([], [row("one")])
    assert region.update([], [row("one"), row("two"), row("three")]) == "\ntwo\nthree"


def test_shrinking_erases_the_rows_below_and_comes_back_to_the_end_of_the_last() -> None:
    region = Recorder()
    region.update([], [row("one"), row("two"), row("three")])
    assert region.update([], [row("one")]) == "\x1b[A\r\x1b[J\x1b[A\x1b[4G"
    assert region.update([], []) == "\r\x1b[J"  # nothing live: the cursor at the region's top


def test_committed_rows_stay_and_the_region_starts_below_them() -> None:
    region = Recorder()
    region.update([], [row("para wrapped"), row("still going")])
    # the first row is final now: nothing to write for it, and the second grows
    assert region.update([row("para wrapped")], [row("still going on")]) == " on"
    assert region.region.rows == [cells(row("still going on"))]
    # everything final: the cursor goes to the start of a fresh line below
    assert region.update([row("still going on.")], []) == ".\n"
    assert region.update([], [row("next")]) == "next"


def test_a_full_width_row_is_never_extended_in_place() -> None:
    region = Recorder()
    full = row("x" * WIDTH)
    assert region.update([], [full]) == "x" * WIDTH + "\n"
    # the cursor may be held past the edge: the next row starts with a newline, and a change
    # to the full row goes to its column first
    assert region.written == [] and region.region.row == 1  # at the start of the row below
    assert region.update([], [full, row("y")]) == "y"
    assert region.update([], [row("x" * (WIDTH - 1) + "z"), row("y")]) == "\x1b[A\x1b[20Gz\n\x1b[2G"


def test_a_wide_character_is_rewritten_whole() -> None:
    region = Recorder()
    region.update([], [row("a日b")])
    assert region.update([], [row("a本b")]) == "\x1b[2G本\x1b[5G"
    assert region.update([], [row("a本c")]) == "\x1b[4Gc"


def test_the_live_rows_are_cut_to_the_terminals_height_less_one() -> None:
    region = Recorder()
    rows = [row(f"row {i}") for i in range(10)]
    assert region.update([], rows, height=4) == "row 7\nrow 8\nrow 9"


def test_a_resize_erases_the_region_and_draws_it_again() -> None:
    region = Recorder()
    region.update([], [row("one"), row("two")])
    region.region.update([], [row("one"), row("two")], WIDTH + 10, HEIGHT)
    assert region.written == ["\x1b[A\r\x1b[Jone\ntwo"]


def test_after_a_ctrl_c_the_rows_are_written_again_whole() -> None:
    """The terminal echoed `^C` at the cursor, and a frame may have drawn after it."""
    region = Recorder()
    region.update([], [row("one"), row("two")])
    region.region.distrust()
    assert region.update([], [row("one"), row("two")]) == "\x1b[A\rone\x1b[K\ntwo\x1b[K"
    region.update([], [row("x" * (WIDTH - 1))])  # too long for the echo: the cursor goes below
    region.region.distrust()
    assert (
        region.update([row("x" * (WIDTH - 1))], [])
        == "\x1b[A\r" + "x" * (WIDTH - 1) + "\x1b[K\n\x1b[J"
    )


def test_leaving_keeps_the_rows_and_shows_the_cursor_on_a_fresh_line() -> None:
    region = Recorder()
    region.update([], [row("one"), row("two")])
    region.region.leave()
    assert region.written == ["\n" + SHOW_CURSOR]
    region.region.leave()  # twice: nothing more
    assert region.written == ["\n" + SHOW_CURSOR]


# --- any sequence of frames, in a terminal emulator -----------------------------------------------

TEXT = st.text(alphabet="ab日 ", max_size=WIDTH // 2).map(lambda text: text * 2)
STYLED_ROW = st.lists(st.tuples(TEXT, st.sampled_from([None, BOLD, RED, CODE])), max_size=3).map(
    lambda parts: Segment.adjust_line_length([Segment(*part) for part in parts], WIDTH, pad=False)
)
FRAME = st.tuples(st.lists(STYLED_ROW, max_size=4), st.lists(STYLED_ROW, max_size=8))


def shown(screen: pyte.HistoryScreen) -> list[list[tuple[str, str, str, bool]]]:
    """Scrollback then screen, each cell's character, colours and weight, the blank rows at the
    end left out (a space's colour and weight show nothing)."""
    lines = [*screen.history.top, *(screen.buffer[y] for y in range(screen.lines))]
    rows = []
    for line in lines:
        chars = [line[x] for x in range(screen.columns)]
        rows.append(
            [
                (c.data, "default", c.bg, False) if c.data == " " else (c.data, c.fg, c.bg, c.bold)
                for c in chars
            ]
        )
    while rows and all(cell == (" ", "default", "default", False) for cell in rows[-1]):
        rows.pop()
    return rows


def expected_screen(rows: list[list[Segment]]) -> list[list[tuple[str, str, str, bool]]]:
    """The rows written plainly, one after the other, into a fresh terminal."""
    screen = pyte.HistoryScreen(WIDTH, HEIGHT, history=1000)
    screen.set_mode(pyte.modes.LNM)
    stream = pyte.Stream(screen)
    for index, line in enumerate(rows):
        if index:
            stream.feed("\n")
        stream.feed(
            "".join(
                style.render(text, color_system=ColorSystem.STANDARD) if style else text
                for text, style, _ in line
            )
        )
    return shown(screen)


@settings(max_examples=200, deadline=None)
@given(st.lists(FRAME, min_size=1, max_size=8), st.integers(min_value=2, max_value=HEIGHT))
def test_after_any_frames_the_terminal_shows_the_committed_rows_then_the_live_ones(
    frames: list[tuple[list[list[Segment]], list[list[Segment]]]], height: int
) -> None:
    screen = pyte.HistoryScreen(WIDTH, HEIGHT, history=1000)
    screen.set_mode(pyte.modes.LNM)  # "\n" as a tty delivers it: to the next line's start
    stream = pyte.Stream(screen)
    region = Region(stream.feed, ColorSystem.STANDARD)
    committed: list[list[Segment]] = []
    for new, live in frames:
        region.update(new, live, WIDTH, height)
        committed += new
    region.leave()
    final_live = frames[-1][1][-(height - 1) :]
    assert shown(screen) == expected_screen([*committed, *final_live])
    assert (screen.cursor.x, screen.cursor.hidden) == (0, False)
