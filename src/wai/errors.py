"""The errors `wai` reports to a user: a message, an optional hint and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_BACKEND = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_NETWORK = 4
EXIT_RATE_LIMITED = 5
EXIT_INTERRUPTED = 130


class WaiError(Exception):
    """An error meant for the user: printed as `wai: error: MESSAGE` and `hint: HINT`.

    `repl_hint` says the same as `hint` for someone inside `wai chat`, where a flag such as
    `-m MODEL` is a slash command (`/model ID`); the Environment picks the one that fits."""

    exit_code = EXIT_BACKEND

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        exit_code: int | None = None,
        *,
        repl_hint: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.repl_hint = repl_hint
        if exit_code is not None:
            self.exit_code = exit_code

    def hint_for(self, in_repl: bool) -> str | None:
        """The hint phrased for the shell, or for the REPL when `in_repl` and it has one."""
        return self.repl_hint if in_repl and self.repl_hint is not None else self.hint


class UsageError(WaiError):
    exit_code = EXIT_USAGE


class ConfigError(WaiError):
    exit_code = EXIT_CONFIG


class BackendError(WaiError):
    """The backend refused or failed; `retryable` errors may be tried again before any output."""

    exit_code = EXIT_BACKEND

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        exit_code: int | None = None,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        repl_hint: str | None = None,
    ):
        super().__init__(message, hint, exit_code, repl_hint=repl_hint)
        self.retryable = retryable
        self.retry_after = retry_after


class NetworkError(BackendError):
    exit_code = EXIT_NETWORK


class StreamInterrupted(WaiError):
    """The answer stopped after some text arrived; what arrived has been kept."""

    exit_code = EXIT_NETWORK
