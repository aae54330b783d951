"""A spinner on stderr while waiting for the first token (terminal only)."""

from __future__ import annotations

from typing import Any

from wai.env import Environment


class Spinner:
    def __init__(self, env: Environment, message: str = "waiting for the model…"):
        self.env = env
        self.message = message
        self.status: Any = None

    def start(self) -> None:
        if not self.env.stderr_is_live or self.status is not None:
            return
        from rich.console import Console

        console = Console(file=self.env.stderr, no_color=self.env.no_color)
        from wai.render import start_thread_without_sigint

        self.status = console.status(self.message, spinner="dots")
        start_thread_without_sigint(self.status.start)

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
