"""`wai chat`: the interactive REPL over a session. Opens the conversation, takes piped stdin as
the first message, finds a terminal."""

import contextlib
from collections.abc import Iterator
from typing import IO, Annotated

import typer

from wai.cli import options as opt
from wai.cli.common import environment, read_stdin, reported
from wai.environment import Environment
from wai.settings import Overrides


def chat(
    ctx: typer.Context,
    model: opt.Model = None,
    backend: opt.BackendName = None,
    system: opt.System = None,
    role: opt.RoleName = None,
    max_tokens: opt.MaxTokens = None,
    temperature: opt.Temperature = None,
    top_p: opt.TopP = None,
    top_k: opt.TopK = None,
    seed: opt.Seed = None,
    repetition_penalty: opt.RepetitionPenalty = None,
    frequency_penalty: opt.FrequencyPenalty = None,
    presence_penalty: opt.PresencePenalty = None,
    option: opt.BodyOption = None,
    reasoning_effort: opt.ReasoningEffortLevel = None,
    reasoning: opt.Reasoning = None,
    session: opt.SessionName = None,
    resume_last: opt.ResumeLast = False,
    no_save: Annotated[
        bool, typer.Option("--no-save", help="Do not save this conversation as a session.")
    ] = False,
) -> None:
    """Chat in a REPL (/help lists its commands). Piped stdin becomes the first message."""
    env = environment(ctx)
    with reported(env):
        from wai.errors import UsageError

        if session and resume_last:
            raise UsageError("--session and --continue cannot be used together")
        run_chat(
            env,
            opt.overrides_from(ctx.params),
            session=session,
            resume_last=resume_last,
            save=not no_save,
        )


def run_chat(
    env: Environment,
    overrides: Overrides,
    *,
    session: str | None,
    resume_last: bool,
    save: bool = True,
) -> None:
    from wai.conversation import Conversation
    from wai.repl import Repl
    from wai.settings.file import load_config

    first_message = None
    if not env.stdin_isatty:
        piped = read_stdin(env).rstrip("\r\n")
        first_message = piped if piped.strip() else None
    config = load_config()
    conversation = Conversation.open(
        env, overrides, config, name=session, resume_last=resume_last, persistent=save
    )
    repl = Repl(env, conversation, overrides)
    if env.stdin_isatty:
        env.in_repl = True  # from here on, hints name slash commands (/model ID, /set ...)
        repl.run(first_message)
        return
    with _open_terminal() as terminal:
        if first_message is None and terminal is None:
            env.notice("nothing piped in and no terminal to read from")
            return
        env.in_repl = terminal is not None  # piped text with no terminal is a one-shot
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
