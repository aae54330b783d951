"""The `wai` console script and `python -m wai`."""

import gc
import sys


def run() -> None:
    _refuse_undecodable(sys.argv[1:])
    # Importing typer and wai allocates tens of thousands of objects and frees none of them, so
    # the collector's passes over them are wasted work: ~10 ms of every start. It is turned back
    # on once the command is built, with everything built so far moved out of its way.
    gc.disable()
    from wai.cli import app_for, paired_options

    args = sys.argv[1:]
    app = app_for(args)
    gc.freeze()
    gc.enable()
    from wai import signals

    signals.install()  # SIGTERM and SIGHUP stop wai as Ctrl-C does
    try:
        app(args=paired_options(args), prog_name="wai")
    except SystemExit as leaving:
        code = leaving.code if isinstance(leaving.code, int) else 1 if leaving.code else 0
        status = signals.exit_status(code)
        if status != code:
            raise SystemExit(status) from None  # 143 or 129, not Ctrl-C's 130
        raise


def _refuse_undecodable(args: list[str]) -> None:
    """Python hands over argv bytes that are not UTF-8 as lone surrogates, which nothing can
    send or save: a usage error, before anything else, naming the bytes."""
    import os

    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            from wai.environment import Environment
            from wai.errors import UsageError

            Environment().report(
                UsageError(
                    f"an argument is not UTF-8: {os.fsencode(arg)!r}",
                    hint="wai reads its arguments as UTF-8; check the encoding of the terminal "
                    "or the script",
                )
            )
            raise SystemExit(2) from None


if __name__ == "__main__":
    run()
