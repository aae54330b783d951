"""What every command shares: the Environment, the mapping of errors to exit codes, stdin."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

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
