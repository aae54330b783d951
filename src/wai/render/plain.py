"""The answer's text byte for byte as the model sent it, flushed per delta; no Rich, and never
the reasoning (stdout carries the answer alone)."""

from __future__ import annotations

from wai.backends.base import TurnResult
from wai.environment import Environment


class PlainRenderer:
    shows_reasoning = False

    def __init__(self, env: Environment):
        self.env = env
        self.write = env.answer_writer()
        self.last = ""

    def reasoning(self, delta: str) -> None:
        pass  # a pipe or a file gets the answer alone

    def text(self, delta: str) -> None:
        self.write(delta)
        self.last = delta

    def finish(self, result: TurnResult) -> None:
        # A terminal gets its prompt back on a fresh line; a pipe gets exactly the model's bytes.
        if self.env.stdout_isatty and self.last and not self.last.endswith("\n"):
            self.write("\n")
