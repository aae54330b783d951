"""Start the REPL: open the conversation, take piped stdin as the first message, find a terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO

from wai.env import Environment
from wai.settings import Options


def run_chat(env: Environment, options: Options, *, session: str | None, resume_last: bool) -> None:
    from wai.conversation import Conversation
    from wai.inputs import read_stdin
    from wai.repl import Repl

    first_message = None
    if not env.stdin_isatty:
        piped = read_stdin(env).rstrip("\r\n")
        first_message = piped if piped.strip() else None
    conversation = Conversation.open(env, options, name=session, resume_last=resume_last, save=True)
    repl = Repl(env, conversation, options)
    if env.stdin_isatty:
        repl.run(first_message)
        return
    with _open_terminal() as terminal:
        if first_message is None and terminal is None:
            env.notice("nothing piped in and no terminal to read from")
            return
        repl.run(first_message, terminal)


@contextlib.contextmanager
def _open_terminal() -> Iterator[IO[str] | None]:
    """The controlling terminal, when stdin is a pipe but a person is there (/dev/tty)."""
    try:
        terminal = open("/dev/tty")  # noqa: SIM115 - closed below
    except OSError:
        yield None
        return
    with terminal:
        yield terminal
