"""The Typer application. Command modules are light; their heavy imports live in the bodies."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from wai import __version__
from wai.cli import ask, chat, completions, config, doctor, login, models, sessions

app = typer.Typer(
    name="wai",
    help="Chat with Cloudflare Workers AI from the terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"wai {__version__}")
        raise typer.Exit()


@app.callback()
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


app.command("ask", no_args_is_help=False)(ask.ask)
app.command("chat")(chat.chat)
app.add_typer(sessions.app, name="sessions")
app.command("models")(models.models)
app.command("login")(login.login)
app.command("doctor")(doctor.doctor)
app.add_typer(config.app, name="config")
app.command("completions")(completions.completions)


def main() -> None:
    if completions.COMPLETE_VAR in os.environ:
        completions.enable_shell_completion()
    app(prog_name="wai")
