"""What one turn produced: the text, the usage and why it ended."""

from __future__ import annotations

from typing import NamedTuple

from wai.backends.base import Usage
from wai.errors import WaiError


class TurnResult(NamedTuple):
    text: str
    usage: Usage | None
    finish_reason: str  # "stop", "length", ... from the backend; "interrupted" or "error"
    error: WaiError | None = None

    @property
    def interrupted(self) -> bool:
        """The answer stopped early (Ctrl-C, an error): what arrived is partial."""
        return self.finish_reason in ("interrupted", "error")
