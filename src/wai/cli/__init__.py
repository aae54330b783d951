"""The Typer application. Command modules are light; their heavy imports live in the bodies."""

import functools
import importlib
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from wai import __version__
from wai.cli import completions


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


class WaiGroup(TyperGroup):
    """The root command: Typer's own errors (`--nope`, a missing argument, a bad choice, an
    unknown command) are reported as wai reports its own, `wai: error: ...` and a `hint:`
    naming the command's --help, with the same exit status (2 for a usage error).

    In standalone mode (the console script, and CliRunner) it runs Typer's `main` with
    `standalone_mode=False`, which hands those errors back as exceptions, and does the rest of
    what standalone mode does: exit with the status. `--help` and completion are untouched.

    Typer's errors are its vendored Click's ClickException and the usage errors under it,
    which Typer does not export (0.28 bases them on typer.TyperException, 0.27 on Exception):
    they are told by what they have, an integer `exit_code` and `format_message()`. Whatever
    else escapes a command (its own errors are reported inside it) is a bug, raised as it is."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            status = super().main(*args, standalone_mode=False, **kwargs)
        except typer.Abort:  # input ended inside a Typer prompt (Ctrl-D)
            from wai.cli.common import report_aborted

            sys.exit(report_aborted())
        except Exception as error:
            if not _is_typer_error(error):
                raise
            from wai.cli.common import exit_for_typer_error

            argv = kwargs.get("args", args[0] if args else None)
            named = invoked_command(list(argv if argv is not None else sys.argv[1:]))
            sys.exit(exit_for_typer_error(error, f"wai {named}" if named else "wai"))
        # What the command returned (wai's return nothing), or the status of a typer.Exit.
        sys.exit(status if isinstance(status, int) else 0)


def _is_typer_error(error: Exception) -> bool:
    return isinstance(getattr(error, "exit_code", None), int) and callable(
        getattr(error, "format_message", None)
    )


COMMANDS = {  # name: "module:attribute" in wai.cli, a command function or a Typer group
    "ask": "ask:ask",
    "chat": "chat:chat",
    "sessions": "sessions:app",
    "models": "models:app",
    "login": "login:login",
    "doctor": "doctor:doctor",
    "config": "config:app",
    "completions": "completions:completions",
}


def _load(name: str) -> typer.Typer | Callable[..., None]:
    module, attribute = COMMANDS[name].split(":")
    return getattr(importlib.import_module(f"wai.cli.{module}"), attribute)


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
        cls=WaiGroup,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        command = _load(name)
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name)
        else:
            app.command(name, no_args_is_help=False)(command)
    return app


@functools.cache
def whole_app() -> typer.Typer:
    return build_app()


def __getattr__(name: str) -> Any:  # `wai.cli.app`: the whole application, built when first used
    if name == "app":
        return whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def invoked_command(args: list[str]) -> str | None:
    """The command `args` runs, when its first word after the root's own flags names one."""
    for arg in args:
        if arg == "--debug":
            continue
        return arg if arg in COMMANDS else None
    return None


BODY_OPTION_COMMANDS = ("ask", "chat")  # the commands with `-o/--option KEY VALUE`


def paired_options(args: list[str]) -> list[str]:
    """`args` with each `-o KEY VALUE` (or `--option KEY VALUE`) of ask and chat made into
    `--option KEY=VALUE`, before a `--`: Typer takes no repeatable option of two values.

    A word after `-o` that holds `=` already is KEY=VALUE; a KEY with no VALUE after it is left
    for Typer to refuse."""
    if invoked_command(args) not in BODY_OPTION_COMMANDS:
        return args
    paired: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            return paired + args[index:]
        key = None
        if word in ("-o", "--option") and index + 1 < len(args):
            key, index = args[index + 1], index + 1
        elif word.startswith("--option="):
            key = word.removeprefix("--option=")
        if key is None:
            paired.append(word)
        elif "=" in key or index + 1 >= len(args) or args[index + 1] == "--":
            paired.append(f"--option={key}")
        else:
            paired.append(f"--option={key}={args[index + 1]}")
            index += 1
        index += 1
    return paired


def app_for(args: list[str]) -> typer.Typer:
    """The application this command line needs."""
    if completions.COMPLETE_VAR in os.environ:
        completions.enable_shell_completion()
        return whole_app()
    return build_app(only=invoked_command(args))
