"""`wai ask`: one question, one answer: read the prompt, open its conversation, send one turn,
report usage."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wai.cli import options as opt
from wai.cli.common import environment, read_stdin, reported
from wai.environment import Environment
from wai.errors import UsageError
from wai.settings import Overrides

if TYPE_CHECKING:  # importing wai.backends loads every backend, which `wai --help` does not need
    from wai.backends.base import TurnResult, Usage
    from wai.conversation import Conversation
    from wai.render import Renderer


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
    role: opt.RoleName = None,
    max_tokens: opt.MaxTokens = None,
    temperature: opt.Temperature = None,
    top_p: opt.TopP = None,
    top_k: opt.TopK = None,
    seed: opt.Seed = None,
    repetition_penalty: opt.RepetitionPenalty = None,
    frequency_penalty: opt.FrequencyPenalty = None,
    presence_penalty: opt.PresencePenalty = None,
    lora: opt.Lora = None,
    option: opt.BodyOption = None,
    reasoning_effort: opt.ReasoningEffortLevel = None,
    no_stream: opt.NoStream = False,
    usage: opt.ShowUsage = False,
    reasoning: opt.Reasoning = None,
    raw: Annotated[
        bool, typer.Option("--raw", help="Send the prompt untouched (write [INST] yourself).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object with the answer at the end.")
    ] = False,
    json_mode: Annotated[
        bool,
        typer.Option(
            "--json-mode",
            help="Ask for a JSON answer (not streamed); print it, checked, as one line of JSON. "
            "With --json, `response` holds the answer's JSON text.",
        ),
    ] = False,
    schema: Annotated[
        str | None,
        typer.Option(
            "--schema",
            metavar="SCHEMA",
            help="Like --json-mode, the answer checked against SCHEMA: a JSON schema, @FILE, or "
            "fields 'name, age int, bio: a short bio' (types str, int, float, bool; every field "
            "required; with newlines between fields, descriptions may hold commas).",
            show_default=False,
        ),
    ] = None,
    markdown: opt.MarkdownMode = None,
    session: opt.SessionName = None,
    resume_last: opt.ResumeLast = False,
    continue_answer: opt.ContinueAnswer = False,
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
        # What a turn needs however it is asked for: a new question, or the last answer resumed.
        turn: dict[str, Any] = {
            "raw": raw,
            "stream": not no_stream,
            "as_json": as_json,
            "markdown": markdown,
            "show_request": show_request,
            "show_usage": usage,
            "session": session,
            "resume_last": resume_last,
            "save": not no_save,
        }
        overrides = opt.overrides_from(ctx.params)
        if continue_answer:
            from wai.cli.continue_answer import run_continue

            structured = json_mode or schema is not None
            run_continue(env, words or [], overrides, structured=structured, **turn)
            return
        run_ask(env, words or [], overrides, json_mode=json_mode, schema=schema, **turn)


def run_ask(
    env: Environment,
    words: list[str],
    overrides: Overrides,
    *,
    raw: bool,
    stream: bool,
    as_json: bool,
    markdown: bool | None,
    show_request: bool,
    show_usage: bool,
    session: str | None,
    resume_last: bool,
    save: bool,
    json_mode: bool = False,
    schema: str | None = None,
) -> None:
    from wai.backends.curl import as_curl
    from wai.conversation import Conversation, structured
    from wai.render import choose_renderer
    from wai.settings.file import load_config

    if raw and overrides.system is not None:
        raise UsageError("--system cannot be used with --raw: write it into the prompt")
    if raw and overrides.role is not None:
        raise UsageError(
            "--role cannot be used with --raw: write its system message into the prompt"
        )
    if overrides.params.get("lora") and not raw:
        raise UsageError("--lora works only with --raw (Workers AI takes LoRA with a prompt)")
    if session and resume_last:
        raise UsageError("--session and --continue cannot be used together")
    response_format = structured.response_format(json_mode=json_mode, schema=schema, raw=raw)
    if response_format is not None:
        stream = False  # Workers AI's JSON mode does not stream
    prompt = read_prompt(words, env)
    config = load_config()
    # A one-shot with no session of the user's is saved unless the config says otherwise.
    one_shot_saved = bool(session or resume_last) or config.get("save_one_shots", True)
    conversation = Conversation.open(
        env,
        overrides,
        config,
        name=session,
        resume_last=resume_last,
        persistent=save and one_shot_saved and not show_request,
        first_words=prompt,
    )
    if show_request:
        request = conversation.request_for(
            prompt, raw=raw, stream=stream, response_format=response_format
        )
        env.write_out(as_curl(conversation.backend.prepare(request)) + "\n")
        return

    fields = answer_fields(conversation)
    if response_format is not None:
        from wai.render.collect import SilentRenderer

        renderer: Renderer = SilentRenderer()  # the answer is printed once it has been checked
    else:
        renderer = choose_renderer(
            env,
            as_json=fields if as_json else None,
            markdown=markdown,
            raw=raw,
            reasoning=conversation.settings.reasoning,
        )
    result = conversation.send(
        prompt, renderer, raw=raw, stream=stream, response_format=response_format
    )
    settle(env, result, show_usage=show_usage)
    if response_format is not None:
        saved_as = conversation.session.name if conversation.persistent else None
        print_structured(
            env, result, response_format, as_json=fields if as_json else None, saved_as=saved_as
        )


def answer_fields(conversation: "Conversation") -> dict[str, Any]:
    """What `--json` prints beside the answer: the model, the backend, the session it is saved
    in (None when it is not)."""
    return {
        "model": conversation.backend.model,
        "backend": conversation.backend.name,
        "session": conversation.session.name if conversation.persistent else None,
    }


def settle(env: Environment, result: "TurnResult", *, show_usage: bool) -> None:
    """After the answer was drawn and saved: the usage on stderr when asked, then the turn's
    error raised (its exit status), or Ctrl-C's when it was interrupted."""
    if show_usage:
        env.notice(describe_usage(result.usage))
    if result.error is not None:
        raise result.error
    if result.finish_reason == "interrupted":
        raise KeyboardInterrupt


def print_structured(
    env: Environment,
    result: "TurnResult",
    response_format: Mapping[str, Any],
    *,
    as_json: Mapping[str, Any] | None,
    saved_as: str | None,
) -> None:
    """The checked answer on stdout: its JSON on one line, or (`as_json`: the fields beside
    the answer) the `--json` document with the answer's text in `response`. A failed check
    prints nothing: the session `saved_as` keeps the answer."""
    import json

    from wai.conversation import structured
    from wai.render.json import JsonRenderer

    value = structured.check_answer(
        result.text, structured.schema_of(response_format), hint=structured.kept_hint(saved_as)
    )
    if as_json is not None:
        JsonRenderer(env, as_json).finish(result)
    else:
        env.write_out(json.dumps(value, ensure_ascii=False) + "\n")


def describe_usage(usage: "Usage | None") -> str:
    if usage is None:
        return "usage: the backend reported no token counts"
    completion = f"{_count(usage.completion_tokens)} completion"
    if usage.reasoning_tokens is not None:
        completion += f" ({usage.reasoning_tokens} reasoning)"
    return (
        f"usage: {_count(usage.prompt_tokens)} prompt + {completion} = "
        f"{_count(usage.total_tokens)} tokens"
    )


def _count(tokens: int | None) -> str:
    return str(tokens) if tokens is not None else "?"


def read_prompt(words: list[str], env: Environment) -> str:
    """The prompt of `wai ask`: piped stdin, a blank line, then the words joined by spaces."""
    stdin_only = words == ["-"]
    text = "" if stdin_only else " ".join(words)
    piped = ""
    if stdin_only or not env.stdin_isatty:
        piped = read_stdin(env).rstrip("\r\n")
        if not piped.strip():
            piped = ""  # an empty stdin (</dev/null, cron) counts as none
    prompt = f"{piped}\n\n{text}" if piped and text.strip() else piped or text
    if not prompt.strip():
        raise UsageError(
            "nothing to ask",
            hint='give a prompt (`wai ask "why is the sky blue?"`) or pipe text in',
        )
    return prompt
