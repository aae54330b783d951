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
    """An error meant for the user: printed as `wai: error: MESSAGE` and `hint: HINT`."""

    exit_code = EXIT_BACKEND

    def __init__(self, message: str, hint: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code


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
    ):
        super().__init__(message, hint, exit_code)
        self.retryable = retryable
        self.retry_after = retry_after


class NetworkError(BackendError):
    exit_code = EXIT_NETWORK


class StreamInterrupted(WaiError):
    """The answer stopped after some text arrived; what arrived has been kept."""

    exit_code = EXIT_NETWORK
