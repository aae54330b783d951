"""The spinner shows only when the wait for the first token lasts, and leaves nothing behind:
what reaches stderr is read through a terminal emulator, as a user would see it."""

from __future__ import annotations

import io
import threading

import pyte

from wai.environment import Environment
from wai.render.spinner import Spinner

MESSAGE = "waiting for the model…"
DOTS = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"  # Rich's "dots" frames: which one shows depends on the time


class TerminalText(io.StringIO):
    def isatty(self) -> bool:
        return True


def spinner(delay: float) -> tuple[Spinner, TerminalText]:
    stderr = TerminalText()
    env = Environment(stdout=io.StringIO(), stderr=stderr, environ={"TERM": "xterm-256color"})
    return Spinner(env, MESSAGE, delay=delay), stderr


def screen(output: str) -> pyte.Screen:
    terminal = pyte.Screen(80, 3)
    pyte.Stream(terminal).feed(output)
    return terminal


def assert_spinning(output: str) -> None:
    shown = screen(output)
    frame, text = shown.display[0][0], shown.display[0][1:].rstrip()
    assert frame in DOTS
    assert text == f" {MESSAGE}"
    assert shown.cursor.hidden


def assert_clean(output: str) -> None:
    left = screen(output)
    assert left.display == [" " * 80] * 3
    assert (left.cursor.x, left.cursor.y, left.cursor.hidden) == (0, 0, False)


def test_a_wait_shorter_than_the_delay_shows_nothing_and_leaves_no_thread() -> None:
    shown, stderr = spinner(delay=60)
    before = threading.active_count()
    shown.start()
    assert shown.active
    shown.stop()
    assert not shown.active
    assert (stderr.getvalue(), threading.active_count()) == ("", before)


def test_a_longer_wait_shows_the_spinner_until_stopped() -> None:
    shown, stderr = spinner(delay=0)
    before = threading.active_count()
    shown.start()
    assert shown.shown.wait(10)
    assert_spinning(stderr.getvalue())
    shown.stop()
    assert (shown.active, shown.shown.is_set()) == (False, False)
    assert_clean(stderr.getvalue())
    assert threading.active_count() == before


def test_it_shows_again_once_restarted() -> None:
    # a notice in the middle of a wait takes the spinner down and puts it back
    shown, stderr = spinner(delay=0)
    before = threading.active_count()
    shown.start()
    assert shown.shown.wait(10)
    shown.stop()
    taken_down = len(stderr.getvalue())
    shown.start()
    assert shown.shown.wait(10)
    assert_spinning(stderr.getvalue()[taken_down:])
    shown.stop()
    assert_clean(stderr.getvalue())
    assert threading.active_count() == before


def test_no_spinner_where_stderr_is_not_a_terminal() -> None:
    stderr = io.StringIO()
    env = Environment(stdout=io.StringIO(), stderr=stderr, environ={"TERM": "xterm-256color"})
    shown = Spinner(env, delay=0)
    before = threading.active_count()
    shown.start()
    assert not shown.active
    shown.stop()
    assert (stderr.getvalue(), threading.active_count()) == ("", before)
