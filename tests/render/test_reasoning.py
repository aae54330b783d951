"""The model's reasoning: drawn live on a terminal then collapsed into one line before the answer
("auto"), kept in the scrollback ("show") or not drawn ("hide"); never on stdout otherwise, and
in the JSON document. What reaches a terminal is read through a terminal emulator."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pyte
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from tests.render.test_markdown import BLOCKS, split_stream, whole
from tests.render.test_spinner import assert_clean, spinner
from tests.render.test_spinner import screen as spinner_screen
from wai.backends.base import TurnResult, Usage
from wai.environment import Environment
from wai.render import choose_renderer
from wai.render.json import JsonRenderer
from wai.render.markdown import MarkdownRenderer, tail_of
from wai.render.plain import PlainRenderer

COLUMNS, ROWS = 80, 24
SECONDS = r"\d+\.\d"
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def collapse_line(tokens: int | None) -> re.Pattern[str]:
    count = rf" \({tokens} tokens\)" if tokens is not None else ""
    return re.compile(rf"thought for {SECONDS} s{count}")


class TerminalText(io.StringIO):
    def isatty(self) -> bool:
        return True


class DimScreen(pyte.HistoryScreen):
    """pyte keeps no "dim" (SGR 2): this screen keeps it as "strikethrough" (SGR 9, which every
    pyte wai allows has and Rich never sends here; the output has no colours either: see
    `terminal_lines`)."""

    def select_graphic_rendition(self, *attrs: int, **kwargs: Any) -> None:
        super().select_graphic_rendition(*(9 if attr == 2 else attr for attr in attrs), **kwargs)


def terminal_lines(output: str) -> list[tuple[str, bool]]:
    """What a terminal shows after `output`, scrollback then screen, each line with whether it
    is dimmed (all its characters, and it has some)."""
    for params in SGR.findall(output):  # NO_COLOR: attributes only, so the mapping above holds
        assert not any(30 <= int(p) <= 49 or 90 <= int(p) <= 107 for p in params.split(";") if p)
    screen = DimScreen(COLUMNS, ROWS, history=10_000)
    screen.set_mode(pyte.modes.LNM)  # a terminal's "\n" comes back to the first column
    pyte.Stream(screen).feed(output)
    rows = [*screen.history.top, *(screen.buffer[y] for y in range(ROWS))]
    lines = []
    for row in rows:
        chars = [row[x] for x in range(COLUMNS)]
        text = "".join(char.data for char in chars).rstrip()
        shown = [char for char in chars if char.data != " "]
        lines.append((text, bool(shown) and all(char.strikethrough for char in shown)))
    while lines and not lines[-1][0]:
        lines.pop()
    return lines


def renderer_on(
    stdout: io.StringIO, mode: str = "auto", frame_interval: float | None = None
) -> MarkdownRenderer:
    """A markdown renderer on `stdout` (NO_COLOR), sized like the emulator; with frame_interval
    None the test draws the frames (`frame()`) where it wants them."""
    renderer = MarkdownRenderer(
        Environment(stdout=stdout, environ={"NO_COLOR": "1"}), frame_interval, reasoning=mode
    )
    renderer.console.width, renderer.console.height = COLUMNS, ROWS
    return renderer


def run(
    reasoning: list[str],
    answer: list[str],
    mode: str = "auto",
    frame_interval: float | None = None,
    finish_reason: str = "stop",
    stdout: io.StringIO | None = None,
) -> str:
    """The whole turn: the reasoning, then the answer, then the end."""
    out = stdout if stdout is not None else io.StringIO()
    renderer = renderer_on(out, mode, frame_interval)
    for delta in reasoning:
        renderer.reasoning(delta)
    for delta in answer:
        renderer.text(delta)
    result = TurnResult("".join(answer), None, finish_reason, reasoning="".join(reasoning))
    renderer.finish(result)
    return out.getvalue()


STEPS = [f"Step {i}: the user wants a greeting.\n" for i in range(40)]
ANSWER = ["Hello **th", "ere**.\n\n", "- one\n", "- two\n"]
ANSWER_LINES = [("Hello there.", False), ("", False), (" • one", False), (" • two", False)]


# --- auto: the tail while it streams, one line when the answer begins ----------------------------


def test_auto_shows_the_reasonings_tail_then_one_line_before_the_answer() -> None:
    out = TerminalText()
    renderer = renderer_on(out)
    for step in STEPS:
        renderer.reasoning(step)
    renderer.frame()
    thinking = [("thinking…", True)] + [(step.rstrip(), True) for step in STEPS[-(ROWS - 2) :]]
    assert terminal_lines(out.getvalue()) == thinking  # the region fills all rows but one
    for delta in ANSWER:
        renderer.text(delta)
    renderer.frame()
    renderer.finish(TurnResult("".join(ANSWER), None, "stop", reasoning="".join(STEPS)))
    (collapsed, dim), *rest = terminal_lines(out.getvalue())
    assert collapse_line(40).fullmatch(collapsed)
    assert dim
    assert rest == [("", False), *ANSWER_LINES]  # nothing of the reasoning left, in scrollback


def test_auto_with_frames_of_its_own_leaves_the_same_screen() -> None:
    out = TerminalText()
    run(STEPS, ANSWER, frame_interval=0.0, stdout=out)
    (collapsed, dim), *rest = terminal_lines(out.getvalue())
    assert (bool(collapse_line(40).fullmatch(collapsed)), dim) == (True, True)
    assert rest == [("", False), *ANSWER_LINES]


def test_a_reasoning_in_one_piece_gives_no_count() -> None:
    output = run(["All of it at once."], ["Fine.\n"])
    collapsed, rest = output.split("\n", 1)
    assert collapse_line(None).fullmatch(collapsed)
    assert rest == "\n" + whole("Fine.")


def test_a_reasoning_only_turn_leaves_the_line_alone() -> None:
    out = TerminalText()
    run(["Hmm", ", let me", " think"], [], finish_reason="length", stdout=out)
    [(collapsed, dim)] = terminal_lines(out.getvalue())
    assert (bool(collapse_line(3).fullmatch(collapsed)), dim) == (True, True)
    assert collapse_line(3).fullmatch(run(["Hmm", ", let me", " think"], []).removesuffix("\n"))


def test_ctrl_c_during_the_reasoning_leaves_the_line_and_a_clean_terminal() -> None:
    out = TerminalText()
    renderer = renderer_on(out)
    for step in STEPS[:5]:
        renderer.reasoning(step)
    renderer.frame()
    assert terminal_lines(out.getvalue())[0] == ("thinking…", True)
    renderer.finish(TurnResult("", None, "interrupted", reasoning="".join(STEPS[:5])))
    screen = DimScreen(COLUMNS, ROWS)
    screen.set_mode(pyte.modes.LNM)
    pyte.Stream(screen).feed(out.getvalue())
    assert collapse_line(5).fullmatch(screen.display[0].rstrip())
    assert [line.rstrip() for line in screen.display[1:]] == [""] * (ROWS - 1)
    assert (screen.cursor.x, screen.cursor.y, screen.cursor.hidden) == (0, 1, False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=4),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
    st.sampled_from([None, 0.0]),
)
def test_the_answer_follows_the_line_as_it_would_follow_a_paragraph(
    blocks: list[str], cuts: list[int], frame_interval: float | None
) -> None:
    """One blank line between them, whatever the first block is (a list, a table and a quote
    bring theirs), whether the line and the first blocks are printed together or apart."""
    text = "\n\n".join(blocks)
    output = run(["Think", "ing."], split_stream(text, cuts), frame_interval=frame_interval)
    collapsed, rest = output.split("\n", 1)
    assert collapse_line(2).fullmatch(collapsed)
    assert rest == whole("P\n\n" + text).split("\n", 1)[1]


def test_no_reasoning_renders_the_answer_as_before() -> None:
    text = "\n\n".join(BLOCKS)
    assert run([], [text]) == whole(text)


def test_whitespace_before_the_reasoning_does_not_end_it() -> None:
    out = io.StringIO()
    renderer = renderer_on(out)
    renderer.text("\n\n")
    renderer.reasoning("Still thinking.")
    renderer.text("Done.")
    renderer.reasoning(" (late, not shown)")
    renderer.finish(TurnResult("\n\nDone.", None, "stop"))
    collapsed, rest = out.getvalue().split("\n", 1)
    assert collapse_line(None).fullmatch(collapsed)  # the late delta is not counted
    assert rest == "\n" + whole("Done.")


# --- show: the reasoning stays in the scrollback --------------------------------------------------


def test_show_keeps_the_reasoning_dimmed_above_the_line_and_the_answer() -> None:
    out = TerminalText()
    renderer = renderer_on(out, "show")
    for delta in ["\nFirst thought.\nSecond thought, still go", "ing.\n\n", "Thi", "rd"]:
        renderer.reasoning(delta)
    renderer.frame()
    assert terminal_lines(out.getvalue()) == [
        ("thinking…", True),
        ("First thought.", True),
        ("Second thought, still going.", True),
        ("Third", True),  # the live region: the unfinished line (the blank one waits for it)
    ]
    renderer.reasoning(" and last.\n\n")
    renderer.frame()
    for delta in ANSWER:
        renderer.text(delta)
    renderer.finish(TurnResult("".join(ANSWER), None, "stop"))
    lines = terminal_lines(out.getvalue())
    assert lines[:5] == [
        ("thinking…", True),
        ("First thought.", True),
        ("Second thought, still going.", True),
        ("", False),
        ("Third and last.", True),
    ]
    (collapsed, dim), *rest = lines[5:]
    assert (bool(collapse_line(5).fullmatch(collapsed)), dim) == (True, True)
    assert rest == [("", False), *ANSWER_LINES]


def test_show_prints_everything_at_the_end_without_frames() -> None:
    output = run(["One.\nTwo", " and a half"], ["Answer."], mode="show")
    assert output.startswith("thinking…\nOne.\nTwo and a half\n")
    collapsed, rest = output.removeprefix("thinking…\nOne.\nTwo and a half\n").split("\n", 1)
    assert collapse_line(2).fullmatch(collapsed)
    assert rest == "\n" + whole("Answer.")


# --- hide, plain, JSON: no trace of it ------------------------------------------------------------


def test_hide_draws_nothing_of_the_reasoning() -> None:
    out, without = TerminalText(), TerminalText()
    run(STEPS, ANSWER, mode="hide", stdout=out)
    run([], ANSWER, stdout=without)
    assert out.getvalue() == without.getvalue()
    assert terminal_lines(out.getvalue()) == ANSWER_LINES
    assert not renderer_on(io.StringIO(), "hide").shows_reasoning


def test_plain_writes_the_answers_bytes_alone() -> None:
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    renderer = PlainRenderer(Environment(stdout=stdout, environ={}))
    assert not renderer.shows_reasoning
    for kind, delta in [("r", "Thinking…\n"), ("t", "héllo"), ("r", " more"), ("t", " wörld\n")]:
        (renderer.reasoning if kind == "r" else renderer.text)(delta)
    renderer.finish(TurnResult("héllo wörld\n", None, "stop", reasoning="Thinking…\n more"))
    assert stdout.buffer.getvalue() == "héllo wörld\n".encode()  # type: ignore[attr-defined]


FIELDS = {"model": "@cf/some/model", "backend": "cloudflare", "session": "2026-01-01-hi"}


def json_output(result: TurnResult) -> str:
    out = io.StringIO()
    renderer = JsonRenderer(Environment(stdout=out, environ={}), FIELDS)
    assert not renderer.shows_reasoning
    renderer.reasoning("ignored: the result has it all")
    renderer.text("ignored too")
    renderer.finish(result)
    return out.getvalue()


def test_json_has_the_reasoning_after_the_response() -> None:
    usage = Usage(5, 9, 14, reasoning_tokens=6)
    assert json_output(TurnResult("Hi.", usage, "stop", reasoning="Say hi.")) == (
        '{"response": "Hi.", "reasoning": "Say hi.", "model": "@cf/some/model", '
        '"backend": "cloudflare", "usage": {"prompt_tokens": 5, "completion_tokens": 9, '
        '"total_tokens": 14, "reasoning_tokens": 6}, "finish_reason": "stop", '
        '"session": "2026-01-01-hi"}\n'
    )
    assert json_output(TurnResult("Hi.", None, "stop")) == (
        '{"response": "Hi.", "reasoning": null, "model": "@cf/some/model", '
        '"backend": "cloudflare", "usage": null, "finish_reason": "stop", '
        '"session": "2026-01-01-hi"}\n'
    )


def test_json_after_an_error_only_when_something_arrived() -> None:
    assert json_output(TurnResult("", None, "error")) == ""
    document = json.loads(json_output(TurnResult("", None, "error", reasoning="Partial")))
    assert (document["response"], document["reasoning"]) == ("", "Partial")


def test_choose_renderer_passes_the_mode_on() -> None:
    def chosen(mode: str, **options: Any) -> Any:
        env = Environment(stdout=TerminalText(), environ={"TERM": "xterm-256color"})
        return choose_renderer(env, reasoning=mode, **options)

    assert chosen("show").reasoning_mode == "show"
    shows = [chosen(mode).shows_reasoning for mode in ("auto", "show", "hide")]
    assert shows == [True, True, False]
    assert not chosen("show", markdown=False).shows_reasoning
    assert not chosen("show", as_json={}).shows_reasoning
    with pytest.raises(ValueError, match="reasoning is one of auto, show, hide"):
        chosen("loud")


# --- the live region: cut to the terminal, bounded work -------------------------------------------


class Recording(Console):
    """Records the length of every text it is asked to lay out."""

    def __init__(self, **options: Any):
        super().__init__(file=io.StringIO(), color_system=None, **options)
        self.laid_out: list[int] = []

    def render_lines(self, renderable: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(renderable, Text):
            self.laid_out.append(len(renderable.plain))
        return super().render_lines(renderable, *args, **kwargs)


def region(renderer: MarkdownRenderer, console: Console) -> list[str]:
    lines = console.render_lines(renderer.reasoning_view, console.options, pad=False)
    return ["".join(segment.text for segment in line).rstrip() for line in lines]


def test_the_region_is_cut_to_the_terminals_height() -> None:
    line = "Thought {} goes on for a while, wrapping at forty columns.\n"
    reasoning = "".join(line.format(i) for i in range(50))
    renderer = renderer_on(io.StringIO())
    renderer.console.width, renderer.console.height = 40, 10
    renderer.reasoning(reasoning)
    renderer.frame()
    console = Recording(width=40, height=10)
    wrapped = console.render_lines(Text(reasoning.rstrip()), console.options, pad=False)
    expected = ["".join(segment.text for segment in line).rstrip() for line in wrapped]
    assert region(renderer, console) == ["thinking…", *expected[-8:]]  # 9 rows: one left below

    show = renderer_on(io.StringIO(), "show")
    show.console.width, show.console.height = 40, 10
    show.reasoning(reasoning + "x" * 1000)  # an unfinished line of 25 rows
    show.frame()
    assert region(show, console) == ["x" * 40] * 9


@pytest.mark.parametrize("mode", ["auto", "show"])
def test_a_frame_lays_out_a_bounded_tail_of_a_long_reasoning(mode: str) -> None:
    sentence = "a rather long sentence of reasoning words. "
    # 1 MB: paragraphs of 2 kB ("auto"), or one line never finished ("show")
    piece = (sentence * 50)[:2047] + ("\n" if mode == "auto" else "a")
    renderer = renderer_on(io.StringIO(), mode)
    for _ in range(512):
        renderer.reasoning(piece)
    assert (renderer.thoughts.count, len(renderer.thought_pieces)) == (0, 512)  # appended only
    renderer.frame()
    console = Recording(width=COLUMNS, height=ROWS)
    shown = region(renderer, console)
    limit = 2 * COLUMNS * ROWS
    assert len(renderer.thoughts.tail) <= limit
    assert max(console.laid_out) <= limit
    assert len(shown) == ROWS - 1
    assert shown[-1] and piece.rstrip().endswith(shown[-1])


def test_tail_of_starts_at_a_line_when_one_starts_in_the_first_half() -> None:
    assert tail_of("short", 10) == "short"
    assert tail_of("0123456789abc\nxyz\n0123", 12) == "xyz\n0123"
    assert tail_of("0123456789ab\ncde", 12) == "456789ab\ncde"  # the "\n" comes too late
    assert tail_of("x" * 100, 12) == "x" * 12


# --- the spinner says "thinking…" when nothing else shows the reasoning ---------------------------


def test_the_spinners_message_changes_while_it_runs() -> None:
    shown, stderr = spinner(delay=0)
    shown.start()
    assert shown.shown.wait(10)
    assert shown.message_shown.wait(10)
    shown.set_message("thinking…")
    assert shown.message_shown.wait(10)  # a frame has drawn it
    line = spinner_screen(stderr.getvalue()).display[0]
    assert line[1:].rstrip() == " thinking…"
    shown.stop()
    assert_clean(stderr.getvalue())


def test_a_message_set_before_the_spinner_shows_is_the_one_it_shows() -> None:
    shown, stderr = spinner(delay=0)
    shown.set_message("thinking…")
    shown.start()
    assert shown.message_shown.wait(10)
    assert spinner_screen(stderr.getvalue()).display[0][1:].rstrip() == " thinking…"
    shown.stop()
    assert_clean(stderr.getvalue())
