"""Markdown rendered live on a terminal with Rich: a token only appends; Live's own thread
redraws at most ten times a second, so tokens arriving faster than frames cost almost nothing,
and a pause in the stream still shows everything that arrived."""

from __future__ import annotations

from typing import Any

from wai.env import Environment
from wai.turn_result import TurnResult

FRAMES_PER_SECOND = 10


class _MarkdownSoFar:
    """A renderable that parses the text received so far each time it is drawn."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.markdown import Markdown

        yield Markdown("".join(self.parts))


class MarkdownRenderer:
    def __init__(self, env: Environment):
        from rich.console import Console

        self.console = Console(file=env.stdout, no_color=env.no_color, highlight=False)
        self.answer = _MarkdownSoFar()
        self.live: Any = None

    def text(self, delta: str) -> None:
        self.answer.parts.append(delta)
        if self.live is None:
            from rich.live import Live

            self.live = Live(
                self.answer,
                console=self.console,
                refresh_per_second=FRAMES_PER_SECOND,
                vertical_overflow="visible",
            )
            self.live.start()

    def finish(self, result: TurnResult) -> None:
        if self.live is None:
            return
        self.live.stop()  # draws the final frame
        self.live = None
