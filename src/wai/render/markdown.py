"""Markdown rendered live on a terminal with Rich, redrawn at most ten times a second."""

from __future__ import annotations

import time
from typing import Any

from wai.env import Environment
from wai.turn_result import TurnResult

FRAME_SECONDS = 0.1


class MarkdownRenderer:
    def __init__(self, env: Environment):
        from rich.console import Console

        self.console = Console(file=env.stdout, no_color=env.no_color, highlight=False)
        self.parts: list[str] = []
        self.live: Any = None
        self.drawn_at = 0.0

    def _markdown(self) -> Any:
        from rich.markdown import Markdown

        return Markdown("".join(self.parts))

    def text(self, delta: str) -> None:
        self.parts.append(delta)
        now = time.monotonic()
        if self.live is None:
            from rich.live import Live

            self.live = Live(console=self.console, auto_refresh=False, vertical_overflow="visible")
            self.live.start()
        if now - self.drawn_at >= FRAME_SECONDS:
            self.drawn_at = now
            self.live.update(self._markdown(), refresh=True)

    def finish(self, result: TurnResult) -> None:
        if self.live is None:
            return
        self.live.update(self._markdown(), refresh=True)
        self.live.stop()
        self.live = None
