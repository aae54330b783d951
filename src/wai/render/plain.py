"""The answer's text byte for byte as the model sent it, flushed per delta; no Rich, and never
the reasoning (stdout carries the answer alone). On a terminal, control characters are shown
(`wai.visible`) instead of obeyed; a pipe or a file gets every byte as it came."""

from __future__ import annotations

from wai.backends.base import TurnResult
from wai.environment import Environment
from wai.visible import visible


class PlainRenderer:
    shows_reasoning = False

    def __init__(self, env: Environment):
        self.env = env
        self.write = env.answer_writer()
        self.last = ""
        self.on_terminal = env.stdout_isatty

    def reasoning(self, delta: str) -> None:
        pass  # a pipe or a file gets the answer alone

    def text(self, delta: str) -> None:
        self.write(visible(delta) if self.on_terminal else delta)
        self.last = delta

    def finish(self, result: TurnResult) -> None:
        # A terminal gets its prompt back on a fresh line; a pipe gets exactly the model's bytes.
        if self.on_terminal and self.last and not self.last.endswith("\n"):
            self.write("\n")
