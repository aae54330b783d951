"""The Environment: the process's streams, their TTY flags and variables, and the one place that
writes notices and errors to stderr (with every known secret scrubbed).

On a terminal, what goes to stderr has its control characters shown, is wrapped at word
boundaries to the terminal's width (so that a number or a word is never split by the terminal's
own wrapping), and its labels are coloured: `wai: error:` bold red, `hint:` cyan, `wai:
warning:` yellow; not with NO_COLOR or TERM=dumb. Piped, each message is one line, as it is."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from wai.errors import WaiError
from wai.visible import visible

MIN_SECRET_LENGTH = 8  # a shorter "secret" is not scrubbed: it would mangle words

ERROR_LABEL, HINT_LABEL, WARNING_LABEL, NOTICE_LABEL = (
    "wai: error:",
    "hint:",
    "wai: warning:",
    "wai:",
)
BOLD_RED, CYAN, YELLOW, RESET = "\x1b[1;31m", "\x1b[36m", "\x1b[33m", "\x1b[0m"
CONTINUATION = "  "  # the indent of a message's wrapped lines on a terminal
WARNING = "warning: "  # a notice that starts so is a warning


@dataclass
class Environment:
    stdin: IO[Any] = field(default_factory=lambda: sys.stdin)
    stdout: IO[Any] = field(default_factory=lambda: sys.stdout)
    stderr: IO[Any] = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    debug: bool = False
    secrets: set[str] = field(default_factory=set)
    # Inside `wai chat`'s REPL: hints name slash commands (`/model ID`) rather than flags.
    in_repl: bool = False

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
    def stderr_width(self) -> int | None:
        """The terminal's width when stderr is one (to wrap messages at), else None."""
        if not self.stderr_isatty:
            return None
        try:
            return os.get_terminal_size(self.stderr.fileno()).columns or None
        except (AttributeError, OSError, ValueError):
            return None

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

    @property
    def stderr_colored(self) -> bool:
        return self.stderr_isatty and not self.no_color

    def phrased(self, cli: str, repl: str) -> str:
        """The advice fit for where the user is: `cli` in the shell, `repl` inside `wai chat`
        (`raise --max-tokens` there is `/set max_tokens N`)."""
        return repl if self.in_repl else cli

    def notice(self, message: str) -> None:
        """`wai: MESSAGE` on stderr; `warning: ...` is labelled (and coloured) a warning."""
        if message.startswith(WARNING):
            self._to_stderr([(WARNING_LABEL, message.removeprefix(WARNING), YELLOW)])
        else:
            self._to_stderr([(NOTICE_LABEL, message, None)])

    def report(self, error: WaiError) -> None:
        """`wai: error: MESSAGE`, then `hint: HINT` (phrased for the REPL inside it)."""
        lines: list[tuple[str, str, str | None]] = [(ERROR_LABEL, error.message, BOLD_RED)]
        hint = error.hint_for(self.in_repl)
        if hint:
            lines.append((HINT_LABEL, hint, CYAN))
        self._to_stderr(lines)

    def hint(self, text: str) -> None:
        """A `hint: TEXT` line of its own (after a notice rather than an error)."""
        self._to_stderr([(HINT_LABEL, text, CYAN)])

    def _to_stderr(self, lines: list[tuple[str, str, str | None]]) -> None:
        """Each (label, text, colour) as a line: scrubbed; on a terminal, with control
        characters shown rather than obeyed (an error body or a server's notice does not get to
        drive it), wrapped at word boundaries, and with the label coloured (the colour codes
        are wai's own, added after the text was made visible)."""
        terminal = self.stderr_isatty
        width = self.stderr_width
        colour = self.stderr_colored
        written = []
        for label, text, code in lines:
            line = f"{label} {self.scrub(text)}"
            if terminal:
                line = visible(line)
            if width:
                line = wrap(line, width)
            if colour and code:
                line = f"{code}{label}{RESET}{line[len(label) :]}"
            written.append(line + "\n")
        self.stderr.write("".join(written))
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


def wrap(text: str, width: int) -> str:
    """`text` with each of its lines broken at spaces to fit `width` columns, the wrapped parts
    indented by CONTINUATION; a word longer than a line is left whole (the terminal breaks it,
    but no number or word is split where a space could have been used)."""
    if all(len(line) <= width for line in text.split("\n")):
        return text
    wrapped = []
    for line in text.split("\n"):
        parts = textwrap.wrap(
            line,
            width,
            subsequent_indent=CONTINUATION,
            break_long_words=False,
            break_on_hyphens=False,
            replace_whitespace=False,
        )
        wrapped.extend(parts or [""])
    return "\n".join(wrapped)
