"""A spinner on stderr while waiting for the first token (terminal only).

It shows only once the wait has lasted SHOW_AFTER seconds: an answer that starts sooner (a local
server, a warm model) never flashes it, and never pays for loading Rich's live display.
"""

from __future__ import annotations

import threading
from typing import Any

from wai.environment import Environment
from wai.render.terminal import start_thread_without_sigint

SHOW_AFTER = 0.15


class Spinner:
    def __init__(
        self, env: Environment, message: str = "waiting for the model…", delay: float = SHOW_AFTER
    ):
        self.env = env
        self.message = message
        self.delay = delay
        self.lock = threading.Lock()  # between _show (a timer's thread) and stop
        self.timer: threading.Timer | None = None
        self.status: Any = None

    @property
    def active(self) -> bool:
        """Shown, or about to be."""
        return self.timer is not None or self.status is not None

    def start(self) -> None:
        if not self.env.stderr_is_live or self.active:
            return
        self.timer = threading.Timer(self.delay, self._show)
        self.timer.daemon = True
        start_thread_without_sigint(self.timer.start)  # Rich's thread inherits its signal mask

    def _show(self) -> None:
        with self.lock:
            if self.timer is None:  # stopped meanwhile
                return
            from rich.console import Console

            console = Console(file=self.env.stderr, no_color=self.env.no_color)
            self.status = console.status(self.message, spinner="dots")
            self.status.start()

    def stop(self) -> None:
        if not self.active:
            return
        if self.timer is not None:
            self.timer.cancel()
        with self.lock:
            self.timer = None
            if self.status is not None:
                self.status.stop()
                self.status = None
