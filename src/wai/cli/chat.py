"""`wai chat`: the interactive REPL over a session."""

from __future__ import annotations
