"""Stored messages (a resumed session's last exchanges, `/history`) drawn on a terminal as the
live REPL draws them: the user's message as it was typed after the prompt (PROMPT, then
CONTINUATION before each further line), and the answer rendered as markdown by the same Rich
classes as a live answer (so the same colours, and wrapping at word boundaries). Control
characters are shown, not obeyed (`wai.visible`): stored text came from a model, or from a file
anyone may have edited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from wai.environment import Environment
from wai.render.console import rich_console
from wai.render.markdown import markdown_class
from wai.visible import visible

PROMPT = "› "  # what the REPL's prompt shows before the first line of a message
CONTINUATION = "… "  # ... and before each further line
INTERRUPTED = "[interrupted]"
CUT = "[cut at max_tokens]"


def typed(text: str) -> str:
    """`text` as it looked at the prompt once sent: PROMPT then the first line, CONTINUATION
    before each other line; a newline at the end."""
    first, *rest = text.split("\n")
    return "".join([PROMPT + first + "\n", *(CONTINUATION + line + "\n" for line in rest)])


def _marks(message: Mapping[str, Any]) -> str:
    meta = message.get("meta")
    if not isinstance(meta, dict):
        return ""
    if meta.get("interrupted") is True:
        return INTERRUPTED
    return CUT if meta.get("finish_reason") == "length" else ""


def print_messages(env: Environment, messages: Iterable[Mapping[str, Any]]) -> None:
    """Print `messages` on the terminal (stdout), each as the live REPL showed it."""
    console = rich_console(env)
    for renderable in _renderables(messages):
        console.print(renderable, soft_wrap=_is_text(renderable))


def render_messages(env: Environment, messages: Iterable[Mapping[str, Any]]) -> str:
    """What `print_messages` would print, as a string with its escape codes (for a pager)."""
    console = rich_console(env)
    with console.capture() as capture:
        for renderable in _renderables(messages):
            console.print(renderable, soft_wrap=_is_text(renderable))
    return str(capture.get())


def _is_text(renderable: Any) -> bool:
    from rich.text import Text

    return isinstance(renderable, Text)  # typed text: the terminal wraps it, as it did then


def _renderables(messages: Iterable[Mapping[str, Any]]) -> Iterable[Any]:
    from rich.text import Text

    for message in messages:
        role = message.get("role")
        content = visible(str(message.get("content", "")))
        if role == "user":
            yield Text(typed(content).rstrip("\n"))
        elif role == "assistant":
            if content.strip():
                yield markdown_class()(content)
            mark = _marks(message)
            if mark:
                yield Text(mark, style="dim")
        else:  # the system message (or any other role): not typed at the prompt, so set apart
            yield Text(f"{visible(str(role))}: {content}".rstrip("\n"), style="dim")


def screen_rows(text: str, width: int) -> int:
    """How many rows of a `width`-column terminal `text` (with escape codes) takes."""
    from rich.text import Text

    rows = 0
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        length = Text.from_ansi(line).cell_len
        rows += max(1, -(-length // width))
    return rows
