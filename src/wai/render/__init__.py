"""Renderers: how an answer's text reaches stdout (plain bytes, live markdown, or one JSON object).

Each takes text deltas as they arrive and the finished turn at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from wai.backends.base import TurnResult
from wai.environment import Environment
from wai.render.json import JsonRenderer
from wai.render.markdown import MarkdownRenderer
from wai.render.plain import PlainRenderer


class Renderer(Protocol):
    shows_reasoning: bool  # it draws the reasoning on the terminal (else the spinner waits on)

    def reasoning(self, delta: str) -> None: ...

    def text(self, delta: str) -> None: ...

    def finish(self, result: TurnResult) -> None: ...


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
    reasoning: str = "auto",
) -> Renderer:
    """`as_json` (the fields beside the answer) picks JSON; otherwise markdown on a terminal.
    `reasoning` ("auto", "show", "hide") is how markdown draws the model's reasoning: the other
    two never put it on stdout."""
    if as_json is not None:
        return JsonRenderer(env, as_json)
    if markdown_wanted(env, markdown) and not raw:
        return MarkdownRenderer(env, reasoning=reasoning)
    return PlainRenderer(env)
