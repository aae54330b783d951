"""What every command shares: the Environment, the mapping of errors to exit codes, stdin."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from wai.environment import Environment
from wai.errors import EXIT_INTERRUPTED, WaiError

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left


def environment(ctx: typer.Context) -> Environment:
    root = ctx.find_root()
    debug = bool((root.obj or {}).get("debug")) or os.environ.get("WAI_DEBUG") == "1"
    return Environment(debug=debug)


@contextmanager
def reported(env: Environment) -> Iterator[None]:
    """Turn a WaiError into `wai: error: ...` and its exit code; no traceback without --debug."""
    try:
        yield
    except WaiError as error:
        env.report(error)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        env.stderr.write("\n")
        env.notice("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (`| head`): stop quietly, as shell tools do
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as error:
        if env.debug:  # the traceback, scrubbed: its lines may quote a token
            import traceback

            env.stderr.write(env.scrub(traceback.format_exc()))
            env.stderr.flush()
            raise typer.Exit(1) from None
        env.report(
            WaiError(
                f"unexpected {type(error).__name__}: {error}",
                hint="run again with --debug (or WAI_DEBUG=1) for the traceback",
            )
        )
        raise typer.Exit(1) from None


def typer_error(error: Any, command: str = "wai") -> WaiError:
    """Typer's own error (a usage error: an unknown option or command, a missing argument, a
    bad value) as wai words its errors: `no such option: --nope`, with a hint naming the
    command's --help. The exception is read through its attributes (the message, the exit code,
    a usage error's `ctx`: the command it happened in, `command` when it has none; an unknown
    option's name and close matches), never by importing Typer's private modules."""
    ctx = getattr(error, "ctx", None)
    possibilities = getattr(error, "possibilities", None)
    message = error.message if possibilities else error.format_message()  # no "(Possible...)"
    message = _lowered(message.strip().removesuffix("."))
    if ctx is not None:
        command = ctx.command_path
    if getattr(error, "option_name", None) is not None:
        what = "lists the options"
    elif ctx is not None and isinstance(ctx.command, TyperGroup):
        what = "lists the commands"
    else:
        what = "shows how to use it"
    hint = f"`{command} --help` {what}"
    if possibilities:  # the closest first
        hint = f"did you mean {possibilities[0]}? {hint}"
    return WaiError(message, hint=hint, exit_code=error.exit_code)


def _lowered(message: str) -> str:
    """The message with its first letter lowercase, as wai's messages are (`No such option` is
    `no such option`), unless the first word is an acronym."""
    first = message.split(" ", 1)[0]
    return message if first.isupper() else message[:1].lower() + message[1:]


def exit_for_typer_error(error: Any, command: str = "wai") -> int:
    """Report Typer's error on stderr as wai's errors are, and return the exit status (2 for
    a usage error); `command`: the command line's, for an error that does not say. The help
    Typer shows for a group called with no command goes out as it did."""
    ctx = getattr(error, "ctx", None)
    if ctx is not None and error.format_message() == ctx.get_help():
        typer.echo(ctx.get_help(), err=True)  # `wai sessions`: the help, not an error
        return error.exit_code
    Environment().report(typer_error(error, command))
    return error.exit_code


def report_aborted() -> int:
    """Typer's Abort (input that ended inside one of its prompts), said as wai says things."""
    env = Environment()
    env.stderr.write("\n")
    env.notice("aborted")
    return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def read_stdin(env: Environment) -> str:
    """All of stdin as text; invalid UTF-8 is replaced, with a warning."""
    stream = getattr(env.stdin, "buffer", env.stdin)
    data = stream.read()
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        env.notice("warning: stdin is not valid UTF-8; undecodable bytes were replaced with �")
        return data.decode("utf-8", errors="replace")
