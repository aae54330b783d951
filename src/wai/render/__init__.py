"""Renderers: how an answer's text reaches stdout (plain bytes, live markdown, or one JSON object).

Each takes text deltas as they arrive and the finished turn at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from wai.backends.base import TurnResult
from wai.environment import Environment


class Renderer(Protocol):
    def text(self, delta: str) -> None: ...

    def finish(self, result: TurnResult) -> None: ...


def rich_console(env: Environment) -> Any:
    """A Rich console on stdout. When the reader goes away (`| head`), Rich's own handling exits
    with status 1; this one raises BrokenPipeError, which the CLI layer turns into a quiet 141,
    as for plain text."""
    from rich.console import Console

    class QuietConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return QuietConsole(file=env.stdout, no_color=env.no_color, highlight=False)


def start_thread_without_sigint(start: Callable[[], None]) -> None:
    """Call `start`, which starts a helper thread (Rich's refresh thread), with SIGINT blocked,
    so that the thread never takes a Ctrl-C: it must reach the main thread, which may be blocked
    reading the network and only wakes for a signal delivered to it."""
    import signal

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def markdown_wanted(env: Environment, markdown: bool | None) -> bool:
    """`--markdown/--plain` when given, else markdown on a terminal that understands it."""
    if markdown is not None:
        return markdown
    return env.stdout_isatty and not env.dumb_terminal


def choose_renderer(
    env: Environment,
    *,
    as_json: Mapping[str, Any] | None = None,
    markdown: bool | None = None,
    raw: bool = False,
) -> Renderer:
    """`as_json` (the fields beside the answer) picks JSON; otherwise markdown on a terminal."""
    if as_json is not None:
        from wai.render.json import JsonRenderer

        return JsonRenderer(env, as_json)
    if markdown_wanted(env, markdown) and not raw:
        from wai.render.markdown import MarkdownRenderer

        return MarkdownRenderer(env)
    from wai.render.plain import PlainRenderer

    return PlainRenderer(env)
