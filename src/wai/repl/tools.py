"""The REPL's everyday tools: `/copy` (the clipboard through the terminal), `/file` (a text file
attached to the next message) and `/export` (the conversation as a markdown file)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import NamedTuple

from wai.atomic import write_atomic
from wai.errors import UsageError
from wai.render.markdown import markdown_class

MAX_ATTACHMENT = 1024 * 1024  # bytes: more is surely not what the user meant to send
BACKTICKS = re.compile(r"`{3,}")


class CodeBlock(NamedTuple):
    language: str  # the fence's info string's first word; "" when none
    code: str


def code_blocks(markdown: str) -> list[CodeBlock]:
    """The fenced code blocks of `markdown`, in order (those in lists and quotes too), as a
    markdown reader finds them: an unclosed fence at the end is a block."""
    blocks = []
    for token in markdown_class()(markdown).parsed:
        if token.type == "fence":
            language = token.info.split()[0] if token.info.strip() else ""
            blocks.append(CodeBlock(language, token.content))
    return blocks


def osc52(text: str) -> str:
    """The escape sequence that asks the terminal to put `text` on the clipboard (OSC 52). tmux
    passes it on to the terminal outside with `set -g set-clipboard on` in its config."""
    payload = base64.b64encode(text.encode("utf-8", "replace")).decode("ascii")
    return f"\x1b]52;c;{payload}\x07"


def count(number: int, noun: str) -> str:
    """`1 line`, `12 lines`, `1,234 characters`."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


class Attachment(NamedTuple):
    name: str  # the path as the user typed it: the fence's label
    text: str

    def fenced(self) -> str:
        """The file as a fenced block labelled with its name, with a fence longer than any run
        of backticks inside, so that the file cannot close it early."""
        longest = max((len(run) for run in BACKTICKS.findall(self.text)), default=2)
        fence = "`" * (longest + 1)
        body = self.text if self.text.endswith("\n") or not self.text else self.text + "\n"
        return f"{fence}{self.name}\n{body}{fence}\n"


def read_attachment(typed: str, cwd: Path | None = None) -> Attachment:
    """The text file at `typed` (`~` expanded, relative to `cwd`); a UsageError for a file that
    is missing, not a regular file, larger than MAX_ATTACHMENT or not UTF-8 text."""
    path = Path(typed).expanduser()
    if cwd is not None and not path.is_absolute():
        path = cwd / path
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise UsageError(f"no such file: {typed}") from None
    except OSError as error:
        raise UsageError(f"cannot read {typed}: {error.strerror or error}") from None
    if not path.is_file():
        raise UsageError(f"{typed} is not a file", hint="attach one file at a time")
    if size > MAX_ATTACHMENT:
        raise UsageError(
            f"{typed} is {size:,} bytes; /file attaches text files up to 1 MiB",
            hint="attach a part of it (e.g. `head -c 500000 FILE > part.txt`, then /file part.txt)",
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {typed}: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\0"  # refused just below, as binary
    if "\0" in text:
        raise UsageError(f"{typed} is not a text file (it is not UTF-8 text)")
    return Attachment(typed, text)


def with_attachments(message: str, attachments: list[Attachment]) -> str:
    """The message as sent: each attached file fenced, a blank line, then the message."""
    if not attachments:
        return message
    return "\n".join(attachment.fenced() for attachment in attachments) + "\n" + message


def export_path(typed: str, default_stem: str, cwd: Path) -> Path:
    """Where `/export` writes: FILE as typed (refused when it exists), or else `STEM.md` in
    `cwd`, numbered (`STEM-2.md`, ...) past the names taken."""
    if typed:
        path = Path(typed).expanduser()
        path = path if path.is_absolute() else cwd / path
        if path.exists():
            raise UsageError(
                f"{typed} exists already; /export does not overwrite a file",
                hint="name another file, or remove that one first",
            )
        return path
    path, number = cwd / f"{default_stem}.md", 2
    while path.exists():
        path = cwd / f"{default_stem}-{number}.md"
        number += 1
    return path


def write_export(path: Path, text: str) -> None:
    """Write the export atomically; it may not replace a file made meanwhile either."""
    if path.exists():
        raise UsageError(f"{path} exists already; /export does not overwrite a file")
    try:
        write_atomic(path, text.encode("utf-8"), mode=0o600)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
