"""What one turn produced: the text, the usage and why it ended."""

from __future__ import annotations

from dataclasses import dataclass

from wai.backends.base import Usage


@dataclass(frozen=True)
class TurnResult:
    text: str
    usage: Usage | None
    finish_reason: str  # "stop", "length", ... from the backend; "interrupted" or "error"
