"""The Typer application. Command modules are light; their heavy imports live in the bodies."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from wai import __version__
from wai.cli import ask, chat, completions, config, doctor, login, models, sessions


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"wai {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version."),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks for unexpected errors.")
    ] = False,
) -> None:
    ctx.obj = {"debug": debug}


COMMANDS: dict[str, typer.Typer | Callable[..., None]] = {  # a command, or a group of them
    "ask": ask.ask,
    "chat": chat.chat,
    "sessions": sessions.app,
    "models": models.models,
    "login": login.login,
    "doctor": doctor.doctor,
    "config": config.app,
    "completions": completions.completions,
}


def build_app(only: str | None = None) -> typer.Typer:
    """The application with every command, or with `only` that one: Typer turns each registered
    command into a click command at every start (~1 ms apiece), and a run needs one."""
    app = typer.Typer(
        name="wai",
        help="Chat with Cloudflare Workers AI from the terminal.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    for name, command in COMMANDS.items():
        if only is not None and name != only:
            continue
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name)
        else:
            app.command(name, no_args_is_help=False)(command)
    return app


app = build_app()


def invoked_command(args: list[str]) -> str | None:
    """The command `args` runs, when its first word after the root's own flags names one."""
    for arg in args:
        if arg == "--debug":
            continue
        return arg if arg in COMMANDS else None
    return None


def main() -> None:
    if completions.COMPLETE_VAR in os.environ:
        completions.enable_shell_completion()
        cli = app
    else:
        cli = build_app(only=invoked_command(sys.argv[1:]))
    cli(prog_name="wai")
