"""What every command shares: the Environment and the mapping of errors to exit codes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from wai.env import Environment
from wai.errors import EXIT_INTERRUPTED, WaiError


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
    except (typer.Exit, typer.Abort):
        raise
    except Exception as error:
        if env.debug:
            raise
        env.report(
            WaiError(
                f"unexpected {type(error).__name__}: {error}",
                hint="run again with --debug (or WAI_DEBUG=1) for the traceback",
            )
        )
        raise typer.Exit(1) from None
