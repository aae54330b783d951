"""Text longer than the screen, through a pager: `$PAGER` when set, else `less`, else Rich's
system pager (Python's own, which falls back to `more` or to printing)."""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess

from wai.environment import Environment


def pager_command(env: Environment) -> list[str]:
    """`$PAGER` split as a shell would (it may carry options: `less -S`), else `less` when it
    is installed; empty when neither is there."""
    chosen = env.environ.get("PAGER", "").strip()
    if chosen:
        try:
            return shlex.split(chosen)
        except ValueError:  # an unclosed quote: tried as one name, which fails with a notice
            return [chosen]
    less = shutil.which("less")
    return [less] if less else []


def page(env: Environment, text: str) -> None:
    """Show `text` (which holds colour escape codes) through the pager, on the terminal."""
    command = pager_command(env)
    if not command:
        from rich.pager import SystemPager

        SystemPager().show(text)
        return
    # less shows escape codes as `ESC[1m` unless told to pass colours through (-R); a LESS of
    # the user's own is kept as it is.
    environ = {**env.environ, "LESS": env.environ.get("LESS", "R")}
    # Ctrl-C in the pager is the pager's (less uses it to stop a search): the REPL ignores it
    # meanwhile, and the pager starts with the default handling.
    env.stdout.flush()  # what was written before goes first
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        subprocess.run(
            command,
            input=text.encode("utf-8", "surrogateescape"),
            env=environ,
            check=False,
            preexec_fn=_default_sigint,
        )
    except OSError as error:  # not found, not executable
        env.notice(
            f"could not run the pager {shlex.join(command)} ({error.strerror}); check $PAGER"
        )
        env.write_out(text)
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
