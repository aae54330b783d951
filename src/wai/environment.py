"""The Environment: the process's streams, their TTY flags and variables, and the one place that
writes notices and errors to stderr (with every known secret scrubbed)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from wai.errors import WaiError
from wai.visible import visible

MIN_SECRET_LENGTH = 8  # a shorter "secret" is not scrubbed: it would mangle words


@dataclass
class Environment:
    stdin: IO[Any] = field(default_factory=lambda: sys.stdin)
    stdout: IO[Any] = field(default_factory=lambda: sys.stdout)
    stderr: IO[Any] = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    debug: bool = False
    secrets: set[str] = field(default_factory=set)

    @staticmethod
    def _isatty(stream: IO[Any]) -> bool:
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def stdin_isatty(self) -> bool:
        return self._isatty(self.stdin)

    @property
    def stdout_isatty(self) -> bool:
        return self._isatty(self.stdout)

    @property
    def stderr_isatty(self) -> bool:
        return self._isatty(self.stderr)

    @property
    def stdout_width(self) -> int | None:
        """The terminal's width when stdout is one (for cutting long lines), else None."""
        if not self.stdout_isatty:
            return None
        return shutil.get_terminal_size().columns

    @property
    def dumb_terminal(self) -> bool:
        return self.environ.get("TERM") == "dumb"

    @property
    def no_color(self) -> bool:
        return bool(self.environ.get("NO_COLOR")) or self.dumb_terminal

    @property
    def stderr_is_live(self) -> bool:
        """Whether stderr may show a spinner (a terminal that understands escape codes)."""
        return self.stderr_isatty and not self.dumb_terminal

    def add_secret(self, secret: str | None) -> None:
        """Scrub `secret` from whatever goes to stderr: as it is, escaped as `repr` shows it (a
        traceback's locals, an exception's message) and as JSON. One shorter than
        MIN_SECRET_LENGTH is ignored: replacing it would mangle ordinary words."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        self.secrets.add(secret)
        for escaped in (
            repr(secret)[1:-1],
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
        ):
            if len(escaped) >= MIN_SECRET_LENGTH:
                self.secrets.add(escaped)

    def scrub(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):  # the longest form first
            text = text.replace(secret, "********")
        return text

    def notice(self, message: str) -> None:
        self._to_stderr(f"wai: {message}\n")

    def report(self, error: WaiError) -> None:
        lines = f"wai: error: {error.message}\n"
        if error.hint:
            lines += f"hint: {error.hint}\n"
        self._to_stderr(lines)

    def _to_stderr(self, text: str) -> None:
        """Scrubbed; on a terminal, with control characters shown rather than obeyed (an error
        body or a server's notice does not get to drive it)."""
        text = self.scrub(text)
        if self.stderr_isatty:
            text = visible(text)
        self.stderr.write(text)
        self.stderr.flush()

    def write_out(self, text: str) -> None:
        """Write answer text to stdout as UTF-8 bytes, flushed at once."""
        self.answer_writer()(text)

    def show(self, text: str) -> None:
        """Write text that came from a model or a server (a stored message, a session's title)
        to stdout: on a terminal, with its control characters shown rather than obeyed."""
        self.write_out(visible(text) if self.stdout_isatty else text)

    def answer_writer(self) -> Callable[[str], None]:
        """A function that writes text to stdout as UTF-8 bytes and flushes: the per-token path,
        so it does no more than that."""
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            stream = self.stdout

            def write_text(text: str) -> None:
                stream.write(text)
                stream.flush()

            return write_text
        self.stdout.flush()  # whatever went through the text layer goes first
        write, flush = buffer.write, buffer.flush

        def write_bytes(text: str) -> None:
            write(text.encode("utf-8", "surrogateescape"))
            flush()

        return write_bytes
