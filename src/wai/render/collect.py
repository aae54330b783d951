"""A renderer that prints nothing: for a caller that prints the answer itself once the turn has
ended (`wai ask --json-mode/--schema` checks the answer first)."""

from __future__ import annotations

from wai.backends.base import TurnResult


class SilentRenderer:
    shows_reasoning = False  # the spinner waits on, on stderr, until the answer is whole

    def reasoning(self, delta: str) -> None:
        pass  # the turn's result holds the whole reasoning

    def text(self, delta: str) -> None:
        pass  # the turn's result holds the whole text

    def finish(self, result: TurnResult) -> None:
        pass
