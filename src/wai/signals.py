"""SIGTERM and SIGHUP handled as Ctrl-C is: the partial answer is saved, marked interrupted, and
the terminal restored, then wai exits with 128 + the signal's number (143, 129).

The handler raises `Terminated`, a KeyboardInterrupt, in the main thread, so that every path
that stops cleanly on Ctrl-C stops the same way on these signals. The CLI maps a
KeyboardInterrupt to 130; `exit_status` turns that into the signal's status at the very end
(`wai.__main__`). Installed by `install`, for a real process only: never at import time.
"""

from __future__ import annotations

import signal
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGHUP)

received: int | None = None  # the last of SIGNALS that arrived, once one has


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: stop as for Ctrl-C, then exit with 128 + `signum`."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _handle(signum: int, frame: FrameType | None) -> None:
    global received
    received = signum
    raise Terminated(signum)


def install() -> None:
    """Handle SIGTERM and SIGHUP; a signal that is ignored (`nohup`) stays ignored."""
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _handle)


def raise_if_terminated() -> None:
    """Raise `Terminated` again when one of SIGNALS arrived (and was taken as an interruption
    somewhere, a turn say): for a loop that would otherwise go on."""
    if received is not None:
        raise Terminated(received)


def exit_status(code: int) -> int:
    """The process's exit status: 128 + the signal's number when one of SIGNALS arrived and the
    process was stopping because of it (any failing status), else `code`."""
    if received is not None and code != 0:
        return 128 + received
    return code
