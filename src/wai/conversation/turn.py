"""One turn: stream a request's events into a renderer and return what arrived, however it ended."""

from __future__ import annotations

import contextlib

from wai.backends.base import Backend, Finish, Notice, Request, TextDelta, TurnResult, Usage
from wai.environment import Environment
from wai.errors import WaiError
from wai.render import Renderer
from wai.render.spinner import Spinner


def run_turn(
    backend: Backend, request: Request, renderer: Renderer, env: Environment
) -> TurnResult:
    """Stream one answer. An error or Ctrl-C ends it early: the result keeps what arrived, and
    the renderer is always finished, so the terminal is left clean."""
    parts: list[str] = []
    usage: Usage | None = None
    reason: str | None = None
    error: WaiError | None = None
    spinner = Spinner(env)
    spinner.start()
    try:
        with contextlib.closing(backend.stream(request)) as events:  # type: ignore[arg-type]
            for event in events:
                if isinstance(event, TextDelta):
                    if spinner.active:
                        spinner.stop()
                    parts.append(event.text)
                    renderer.text(event.text)
                elif isinstance(event, Usage):
                    usage = event
                elif isinstance(event, Finish):
                    reason = event.reason
                elif isinstance(event, Notice):
                    waiting = spinner.active
                    spinner.stop()
                    env.notice(event.message)
                    if waiting:
                        spinner.start()
    except KeyboardInterrupt:
        reason = "interrupted"
    except WaiError as failure:
        reason, error = "error", failure
    finally:
        spinner.stop()
    result = TurnResult("".join(parts), usage, reason or "stop", error)
    renderer.finish(result)
    return result
