"""A session as text: a plain transcript, a markdown document, or rendered on a terminal."""

from __future__ import annotations

from typing import Any

from wai.conversation.store import Session, parse_time, reasoning_of
from wai.environment import Environment
from wai.render.console import rich_console
from wai.visible import visible

ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}
REASONING = "Reasoning"
INTERRUPTED = "[interrupted]"


def local_time(stamp: str) -> str:
    """An ISO timestamp as local time, to the minute; as it is written when it is no timestamp."""
    when = parse_time(stamp)
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else stamp


def heading(session: Session) -> str:
    parts = [session.name]
    if session.model:
        parts.append(f"{session.model} ({session.backend})" if session.backend else session.model)
    parts.append(session.turns_text)
    parts.append(f"updated {local_time(session.updated)}")
    return " · ".join(parts)


def role_name(message: dict[str, Any]) -> str:
    role = str(message["role"])
    return ROLES.get(role, role)


def is_interrupted(message: dict[str, Any]) -> bool:
    meta = message.get("meta")
    return isinstance(meta, dict) and meta.get("interrupted") is True


def plain_transcript(session: Session, *, reasoning: bool = False) -> str:
    """The conversation as plain text: a heading, then each message under its role (and with
    `reasoning`, each answer's reasoning before it)."""
    out = [heading(session) + "\n"]
    for message in session.messages:
        thought = reasoning_of(message).rstrip("\n") if reasoning else ""
        if thought:
            out.append(f"\n── {REASONING}\n{thought}\n")
        out.append(f"\n── {role_name(message)}\n")
        content = str(message["content"]).rstrip("\n")
        if content:
            out.append(content + "\n")
        if is_interrupted(message):
            out.append(INTERRUPTED + "\n")
    return "".join(out)


def print_rendered(env: Environment, session: Session, *, reasoning: bool = False) -> None:
    """The transcript on a terminal: answers rendered as markdown, everything else as typed;
    with `reasoning`, each answer's reasoning dimmed before it. Control characters are shown,
    not obeyed (`wai.visible`)."""
    from rich.markdown import Markdown
    from rich.text import Text

    console = rich_console(env)
    console.print(Text(visible(heading(session)), style="dim"), soft_wrap=True)
    for message in session.messages:
        thought = visible(reasoning_of(message).rstrip("\n")) if reasoning else ""
        if thought:
            console.print()
            console.print(Text(f"── {REASONING}", style="bold cyan"))
            console.print(Text(thought, style="dim"), soft_wrap=True)
        console.print()
        console.print(Text(f"── {visible(role_name(message))}", style="bold cyan"))
        content = visible(str(message["content"]).rstrip("\n"))
        if message["role"] == "assistant":
            console.print(Markdown(content))
        elif content:
            console.print(Text(content), soft_wrap=True)  # as typed: the terminal wraps it
        if is_interrupted(message):
            console.print(Text(INTERRUPTED, style="yellow"))


def markdown_transcript(session: Session) -> str:
    """A markdown transcript: `# title`, then a `## System|User|Assistant` section per message."""
    out = [f"# {session.title or session.name}\n"]
    for message in session.messages:
        out.append(f"\n## {role_name(message)}\n")
        content = str(message["content"]).rstrip("\n")
        if content:
            out.append(f"\n{content}\n")
        if is_interrupted(message):
            out.append(f"\n{INTERRUPTED}\n")
    return "".join(out)
