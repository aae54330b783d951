"""`wai chat`: the interactive REPL over a session."""

import typer

from wai.cli import options as opt
from wai.cli.common import environment, reported


def chat(
    ctx: typer.Context,
    model: opt.Model = None,
    backend: opt.BackendName = None,
    system: opt.System = None,
    max_tokens: opt.MaxTokens = None,
    temperature: opt.Temperature = None,
    top_p: opt.TopP = None,
    top_k: opt.TopK = None,
    seed: opt.Seed = None,
    repetition_penalty: opt.RepetitionPenalty = None,
    frequency_penalty: opt.FrequencyPenalty = None,
    presence_penalty: opt.PresencePenalty = None,
    session: opt.SessionName = None,
    resume_last: opt.ResumeLast = False,
) -> None:
    """Chat in a REPL (/help lists its commands). Piped stdin becomes the first message."""
    env = environment(ctx)
    with reported(env):
        from wai.chat import run_chat
        from wai.errors import UsageError

        if session and resume_last:
            raise UsageError("--session and --continue cannot be used together")
        run_chat(
            env,
            opt.options_from(ctx.params),
            session=session,
            resume_last=resume_last,
        )
