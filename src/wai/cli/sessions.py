"""`wai sessions list|show|rm|rename|export|path`."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wai.cli import options as opt
from wai.cli.common import environment, reported

if TYPE_CHECKING:
    from wai.conversation.store import Session, SessionStore
    from wai.environment import Environment

app = typer.Typer(
    help="List, show, rename, export and remove saved conversations.", no_args_is_help=True
)


def _complete_name(incomplete: str) -> list[str]:
    """Shell completion: the names of the saved sessions."""
    from wai.conversation.store import SLUG, SessionStore

    directory = SessionStore().directory
    names = (path.stem for path in directory.glob("*.json"))
    return sorted(n for n in names if SLUG.fullmatch(n) and n.startswith(incomplete))


Name = Annotated[
    str, typer.Argument(metavar="name", help="The session's name.", autocompletion=_complete_name)
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class Format(StrEnum):
    md = "md"
    json = "json"


@app.command("list")
def list_(ctx: typer.Context, as_json: Json = False) -> None:
    """List the sessions, most recently updated first."""
    env = environment(ctx)
    with reported(env):
        from wai.conversation.store import SessionStore

        store = SessionStore()
        sessions, problems = store.scan()
        for problem in problems:
            env.notice(f"warning: {problem.message}; skipped")
        if as_json:
            env.write_out(_json([_summary(session) for session in sessions]))
        elif sessions:
            env.write_out(_table(sessions, env.stdout_width, on_terminal=env.stdout_isatty))
        else:
            env.notice(f"no sessions yet in {store.directory}")


@app.command()
def show(
    ctx: typer.Context,
    name: Name,
    as_json: Annotated[bool, typer.Option("--json", help="Print the session document.")] = False,
    markdown: opt.MarkdownMode = None,
    reasoning: Annotated[
        bool, typer.Option("--reasoning", help="Also print each answer's reasoning, before it.")
    ] = False,
) -> None:
    """Print a session's conversation."""
    env = environment(ctx)
    with reported(env):
        from wai.conversation import transcript
        from wai.render import markdown_wanted

        store, session = _stored(name)
        if as_json:
            env.write_out(_document(store, name))
        elif markdown_wanted(env, markdown):
            transcript.print_rendered(env, session, reasoning=reasoning)
        else:
            text = transcript.plain_transcript(session, reasoning=reasoning)
            env.write_out(_shown(text) if env.stdout_isatty else text)


@app.command()
def export(
    ctx: typer.Context,
    name: Name,
    format_: Annotated[
        Format,
        typer.Option("-f", "--format", help="md: a markdown transcript; json: the document."),
    ] = Format.md,
) -> None:
    """Print a session as markdown or JSON (`wai sessions export NAME > notes.md`)."""
    env = environment(ctx)
    with reported(env):
        from wai.conversation import transcript

        store, session = _stored(name)
        env.write_out(
            _document(store, name)
            if format_ is Format.json
            else transcript.markdown_transcript(session)
        )


@app.command("rm")
def rm(
    ctx: typer.Context,
    names: Annotated[
        list[str],
        typer.Argument(metavar="name", help="The sessions.", autocompletion=_complete_name),
    ],
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Remove without asking.")] = False,
) -> None:
    """Remove sessions (asks first, unless --yes)."""
    env = environment(ctx)
    with reported(env):
        from wai.conversation.store import SLUG, SessionStore
        from wai.errors import UsageError

        store = SessionStore()
        names = list(dict.fromkeys(names))
        unknown = [repr(n) for n in names if not SLUG.fullmatch(n) or not store.exists(n)]
        if unknown:
            which = ", ".join(unknown[:-1]) + " or " if len(unknown) > 1 else ""
            which += unknown[-1]
            raise UsageError(
                f"no session named {which}" + ("; nothing was removed" if len(names) > 1 else ""),
                hint="`wai sessions list` shows the sessions",
            )
        if not yes and not env.stdin_isatty:
            raise UsageError(
                "not removing without confirmation: stdin is not a terminal",
                hint="add --yes (-y) to remove without asking",
            )
        for name in names:
            if yes or _confirm(env, f"Remove session {name}? [y/N] "):
                store.remove(name)
                env.notice(f"removed {name}")


@app.command()
def rename(
    ctx: typer.Context,
    old: Name,
    new: Annotated[str, typer.Argument(metavar="new", help="The new name.")],
) -> None:
    """Give a session a new name."""
    env = environment(ctx)
    with reported(env):
        from wai.conversation.store import SessionStore, check_name
        from wai.errors import UsageError

        store = SessionStore()
        store.existing(old)
        check_name(new)
        if store.exists(new):
            raise UsageError(
                f"a session named {new!r} exists already",
                hint=f"choose another name, or remove that one first (`wai sessions rm {new}`)",
            )
        store.rename(old, new)
        env.notice(f"renamed {old} to {new}")


@app.command()
def path(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="name",
            help="A session (default: print the sessions directory).",
            autocompletion=_complete_name,
        ),
    ] = None,
) -> None:
    """Print where the sessions are kept, or the file of one session."""
    env = environment(ctx)
    with reported(env):
        from wai.conversation.store import SessionStore

        store = SessionStore()
        env.write_out(f"{store.existing(name) if name is not None else store.directory}\n")


# --- formatting -------------------------------------------------------------------------------


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def _stored(name: str) -> tuple[SessionStore, Session]:
    """The sessions and the one named `name`; a usage error when there is no such session."""
    from wai.conversation.store import SessionStore

    store = SessionStore()
    store.existing(name)
    return store, store.load(name)


def _document(store: SessionStore, name: str) -> str:
    """The file's JSON object itself, as wai writes it."""
    import json

    return _json(json.loads(store.path(name).read_bytes()))


def _summary(session: Session) -> dict[str, Any]:
    return {
        "name": session.name,
        "updated": session.updated,
        "model": session.model,
        "backend": session.backend,
        "turns": session.turns,
        "title": session.title,
    }


def _shown(text: str) -> str:
    """`text` for a terminal: control characters shown, not obeyed."""
    from wai.visible import visible

    return visible(text)


def _table(sessions: list[Session], width: int | None = None, *, on_terminal: bool = False) -> str:
    """The listing; `on_terminal`, with the fields' control characters shown, not obeyed."""
    from wai.conversation import transcript
    from wai.render.table import format_table

    rows = [
        (s.name, transcript.local_time(s.updated), s.model or "-", str(s.turns), s.title)
        for s in sessions
    ]
    if on_terminal:
        rows = [tuple(_shown(cell) for cell in row) for row in rows]
    return format_table(
        ("NAME", "UPDATED", "MODEL", "TURNS", "TITLE"), rows, right_aligned={3}, width=width
    )


def _confirm(env: Environment, question: str) -> bool:
    env.stderr.write(question)
    env.stderr.flush()
    answer = env.stdin.readline()
    if not answer.endswith("\n"):
        env.stderr.write("\n")  # Ctrl-D: end the prompt's line
    return answer.strip().lower() in ("y", "yes")
