"""Rich on wai's terms: a console on stdout that leaves quietly when the reader does, and
Rich's helper threads started so that Ctrl-C still reaches the main thread."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from wai.environment import Environment


def rich_console(env: Environment) -> Any:
    """A Rich console on stdout. When the reader goes away (`| head`), Rich's own handling exits
    with status 1; this one raises BrokenPipeError, which the CLI layer turns into a quiet 141,
    as for plain text."""
    from rich.console import Console

    class QuietConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return QuietConsole(file=env.stdout, no_color=env.no_color, highlight=False)


def start_thread_without_sigint(start: Callable[[], None]) -> None:
    """Call `start`, which starts a helper thread (Rich's refresh thread), with SIGINT blocked,
    so that the thread never takes a Ctrl-C: it must reach the main thread, which may be blocked
    reading the network and only wakes for a signal delivered to it."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
