"""`wai sessions list|show|rm|prune|rename|export|path`."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wai.cli import complete
from wai.cli import options as opt
from wai.cli.common import environment, reported

if TYPE_CHECKING:
    from datetime import datetime

    from wai.conversation.store import Session, SessionStore
    from wai.environment import Environment

app = typer.Typer(
    help="List, show, rename, export and remove saved conversations.", no_args_is_help=True
)


Name = Annotated[
    str,
    typer.Argument(
        metavar="name", help="The session's name.", autocompletion=complete.session_names
    ),
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
        typer.Argument(metavar="name", help="The sessions.", autocompletion=complete.session_names),
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
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Sessions last updated more than AGE ago: Nh, Nd or Nw (30d).",
            show_default=False,
        ),
    ] = None,
    one_shots: Annotated[
        bool,
        typer.Option(
            "--one-shots", help="Sessions a one-shot `wai ask` made that nobody followed up on."
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Remove without asking.")] = False,
) -> None:
    """Remove old sessions, or forgotten one-shots (both: the old one-shots). Lists them and
    asks first, unless --yes."""
    env = environment(ctx)
    with reported(env):
        from datetime import UTC, datetime

        from wai.conversation.store import SessionStore
        from wai.errors import UsageError
        from wai.render.table import format_table

        if older_than is None and not one_shots:
            raise UsageError(
                "say which sessions to prune: --older-than AGE, --one-shots, or both",
                hint="e.g. `wai sessions prune --older-than 30d`",
            )
        age = _parse_age(older_than) if older_than is not None else None
        store = SessionStore()
        sessions, problems = store.scan()
        for problem in problems:
            env.notice(f"warning: {problem.message}; skipped")
        now = datetime.now(UTC)

        def chosen(session: Session) -> bool:
            if one_shots and not (session.one_shot and session.turns <= 1):
                return False
            return age is None or now - _last_active(store, session) > age

        doomed = [session for session in sessions if chosen(session)]
        if not doomed:
            env.notice("no sessions to prune")
            return
        if not yes and not env.stdin_isatty:
            raise UsageError(
                "not removing without confirmation: stdin is not a terminal",
                hint="add --yes (-y) to remove without asking",
            )
        rows = [(s.name, _age(now - _last_active(store, s)), str(s.turns), s.title) for s in doomed]
        listing = format_table(("NAME", "AGE", "TURNS", "TITLE"), rows, right_aligned={1, 2})
        env.stderr.write(_shown(listing) if env.stderr_isatty else listing)
        count = _sessions(len(doomed))
        if not yes and not _confirm(env, f"remove {count}? [y/N] "):
            env.notice("nothing was removed")
            return
        removed = sum(store.remove_if(session.name, chosen) for session in doomed)
        kept = len(doomed) - removed
        changed = f"; {_sessions(kept)} changed meanwhile and stayed" if kept else ""
        env.notice(f"removed {_sessions(removed)}{changed}")


AGE = re.compile(r"(\d+)([hdw])")
AGE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def _parse_age(text: str) -> timedelta:
    from wai.errors import UsageError

    match = AGE.fullmatch(text.strip())
    if match is None:
        raise UsageError(
            f"--older-than takes an age like 30d, 12h or 2w, not {text!r}",
            hint="h: hours, d: days, w: weeks",
        )
    return timedelta(**{AGE_UNITS[match[2]]: int(match[1])})


def _last_active(store: SessionStore, session: Session) -> datetime:
    """When the session was last updated: its `updated`, else its file's time (now, when the
    file went meanwhile: it is not taken for an old one)."""
    from datetime import UTC, datetime

    from wai.conversation.store import parse_time

    when = parse_time(session.updated)
    if when is None:
        try:
            when = datetime.fromtimestamp(store.path(session.name).stat().st_mtime, UTC)
        except OSError:
            when = datetime.now(UTC)
    return when


def _age(elapsed: timedelta) -> str:
    """A short age: minutes under an hour, hours under two days, then days."""
    seconds = max(int(elapsed.total_seconds()), 0)
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 2 * 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _sessions(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'}"


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
            autocompletion=complete.session_names,
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
