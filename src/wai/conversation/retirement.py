"""The notice that the chosen model retires soon: at most once a day per model, so that a user
who asks often hears it without being drowned in it."""

from __future__ import annotations

import contextlib
import json
from datetime import date, timedelta
from pathlib import Path

from wai.atomic import write_atomic

SOON = timedelta(days=30)


def retirement_notice(model: str, retires: str | None, today: date, state: Path) -> str | None:
    """The notice to give today about `model`, retiring on `retires` (YYYY-MM-DD), or None: no
    date, not within SOON, or already given today. Giving it is recorded in the `state` file
    (model -> the day it was last given); a state that cannot be read counts as empty."""
    try:
        day = date.fromisoformat(retires) if retires else None
    except ValueError:
        return None
    if day is None or not today <= day <= today + SOON:
        return None
    given = _read(state)
    if given.get(model) == today.isoformat():
        return None
    given[model] = today.isoformat()
    with contextlib.suppress(OSError):  # a read-only cache: the notice comes again, no worse
        write_atomic(state, (json.dumps(given, indent=2, sort_keys=True) + "\n").encode())
    return f"{model} is retired on {day.isoformat()}; wai models lists the others"


def _read(state: Path) -> dict[str, str]:
    try:
        given = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(given, dict):
        return {}
    return {str(k): v for k, v in given.items() if isinstance(v, str)}
