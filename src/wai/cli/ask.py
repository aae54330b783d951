"""`wai ask`: one question, one answer."""

from typing import Annotated

import typer

from wai.cli import options as opt
from wai.cli.common import environment, reported


def ask(
    ctx: typer.Context,
    words: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PROMPT",
            help="The question; `-` (or none) reads stdin.",
            show_default=False,
        ),
    ] = None,
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
    lora: opt.Lora = None,
    no_stream: opt.NoStream = False,
    usage: opt.ShowUsage = False,
    raw: Annotated[
        bool, typer.Option("--raw", help="Send the prompt untouched (write [INST] yourself).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object with the answer at the end.")
    ] = False,
    markdown: opt.MarkdownMode = None,
    session: opt.SessionName = None,
    resume_last: opt.ResumeLast = False,
    no_save: Annotated[
        bool, typer.Option("--no-save", help="Do not save this one-shot as a session.")
    ] = False,
    show_request: Annotated[
        bool, typer.Option("--show-request", help="Print the request as curl and send nothing.")
    ] = False,
) -> None:
    """Ask one question and stream the answer. Piped stdin comes first, then the words."""
    env = environment(ctx)
    with reported(env):
        from wai.ask import AskOptions, run_ask

        run_ask(
            env,
            words or [],
            opt.options_from(ctx.params),
            AskOptions(
                raw=raw,
                stream=not no_stream,
                as_json=as_json,
                markdown=markdown,
                show_request=show_request,
                show_usage=usage,
                session=session,
                resume_last=resume_last,
                save=not no_save,
            ),
        )
