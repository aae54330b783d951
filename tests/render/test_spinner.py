"""The spinner shows only when the wait for the first token lasts."""

from __future__ import annotations

import io
import threading

from wai.environment import Environment
from wai.render.spinner import Spinner


class TerminalText(io.StringIO):
    def isatty(self) -> bool:
        return True


def spinner(delay: float) -> tuple[Spinner, TerminalText]:
    stderr = TerminalText()
    env = Environment(stdout=io.StringIO(), stderr=stderr, environ={"TERM": "xterm-256color"})
    return Spinner(env, "waiting for the model…", delay=delay), stderr


def test_a_wait_shorter_than_the_delay_shows_nothing_and_leaves_no_thread() -> None:
    shown, stderr = spinner(delay=60)
    before = threading.active_count()
    shown.start()
    assert shown.active and shown.status is None
    timer = shown.timer
    assert timer is not None
    shown.stop()
    timer.join(10)
    assert not shown.active
    assert (stderr.getvalue(), threading.active_count()) == ("", before)


def test_a_longer_wait_shows_the_spinner_until_stopped() -> None:
    shown, stderr = spinner(delay=0)
    shown.start()
    timer = shown.timer
    assert timer is not None
    timer.join(10)  # the timer has fired: the spinner is up
    assert shown.status is not None
    shown.stop()
    assert not shown.active
    assert "waiting for the model…" in stderr.getvalue()


def test_no_spinner_where_stderr_is_not_a_terminal() -> None:
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), environ={})
    shown = Spinner(env, delay=0)
    shown.start()
    assert not shown.active
