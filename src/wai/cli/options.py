"""Overrides shared by `ask` and `chat`."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

import typer

from wai.cli import complete
from wai.settings import Overrides
from wai.settings.params import REASONING_EFFORTS, REASONING_MODES

Model = Annotated[
    str | None,
    typer.Option(
        "-m",
        "--model",
        help="Model id (default from config or WAI_MODEL).",
        autocompletion=complete.model_ids,
    ),
]
BackendName = Annotated[
    str | None,
    typer.Option(
        "-b",
        "--backend",
        help="Backend name (default: cloudflare).",
        autocompletion=complete.backend_names,
    ),
]
System = Annotated[str | None, typer.Option("-s", "--system", help="System message.")]
RoleName = Annotated[
    str | None,
    typer.Option(
        "--role",
        metavar="NAME",
        help="Use the config's [roles.NAME]: its system message, model and parameters (the "
        "flags given here win).",
        show_default=False,
        autocompletion=complete.role_names,
    ),
]
MaxTokens = Annotated[int | None, typer.Option(help="Most tokens to generate.")]
Temperature = Annotated[float | None, typer.Option(help="Randomness, 0 to 5.")]
TopP = Annotated[float | None, typer.Option(help="Nucleus sampling, 0.001 to 1.")]
TopK = Annotated[int | None, typer.Option(help="Top-k sampling, 1 to 50.")]
Seed = Annotated[int | None, typer.Option(help="Random seed, 1 to 9999999999.")]
RepetitionPenalty = Annotated[float | None, typer.Option(help="Repetition penalty, 0 to 2.")]
FrequencyPenalty = Annotated[float | None, typer.Option(help="Frequency penalty, -2 to 2.")]
PresencePenalty = Annotated[float | None, typer.Option(help="Presence penalty, -2 to 2.")]
Lora = Annotated[
    str | None,
    typer.Option(help="LoRA adapter id or name (with --raw only)."),
]


def _check_option_words(values: list[str] | None) -> list[str] | None:
    """Each `-o` as KEY=VALUE: the entry point pairs `-o KEY VALUE` into that form, so a word
    without `=` is a KEY whose VALUE is missing."""
    for value in values or []:
        if "=" not in value:
            raise typer.BadParameter(f"{value!r} needs a VALUE: -o KEY VALUE")
    return values


BodyOption = Annotated[
    list[str] | None,
    typer.Option(
        "-o",
        "--option",
        metavar="KEY VALUE",
        callback=_check_option_words,
        help="Add KEY to the request body; VALUE is JSON where it parses (0.2, true, "
        '{"enable_thinking": false}), else a string. Repeatable; a known parameter keeps its '
        "range. For this command line and its session only: the config's [params] takes only "
        "the known parameters.",
        show_default=False,
    ),
]


def _choices(name: str, values: tuple[str, ...]) -> Any:
    """`values` as the Enum Typer shows and checks as choices (defined once, in settings)."""
    return StrEnum(name, [(value, value) for value in values])


ReasoningEffort = _choices("ReasoningEffort", REASONING_EFFORTS)


ReasoningEffortLevel = Annotated[
    ReasoningEffort | None,
    typer.Option(
        "--reasoning-effort",
        help="How hard a reasoning model thinks: sent as reasoning_effort to a model that takes "
        "Chat Completions bodies (gpt-oss, Qwen 3, GLM, Kimi...) or an OpenAI-compatible server.",
        show_default=False,
    ),
]
NoStream = Annotated[
    bool, typer.Option("--no-stream", help="Wait for the whole answer instead of streaming.")
]


ReasoningMode = _choices("ReasoningMode", REASONING_MODES)


Reasoning = Annotated[
    ReasoningMode | None,
    typer.Option(
        "--reasoning",
        help="A reasoning model's thinking on a terminal: auto (live, then one line), show "
        "(kept whole), hide. Never part of the answer. [default: config's reasoning, or auto]",
        show_default=False,
    ),
]
ShowUsage = Annotated[bool, typer.Option("-u", "--usage", help="Print token usage to stderr.")]
MarkdownMode = Annotated[
    bool | None,
    typer.Option(
        "--markdown/--plain",
        help="Render markdown, or print plain text (default: markdown on a terminal).",
        show_default=False,
    ),
]
SessionName = Annotated[
    str | None,
    typer.Option(
        "--session",
        help="Continue (or start) the session NAME.",
        autocompletion=complete.session_names,
    ),
]
ResumeLast = Annotated[
    bool, typer.Option("-c", "--continue", help="Continue the most recently updated session.")
]
ContinueAnswer = Annotated[
    bool,
    typer.Option(
        "--continue-answer",
        help="Resume the session's last answer, interrupted or cut at max_tokens (with -c or "
        "--session; no prompt): only the new text is printed, and it is appended to that answer.",
    ),
]


def overrides_from(values: Mapping[str, Any]) -> Overrides:
    """The Overrides of a command line (`ctx.params`): only the parameters that were given, then
    the `-o` body fields and the reasoning effort. A parameter's own flag beats `-o`; whether the
    values are allowed is settled in resolve."""
    from wai.settings.params import PARAMS, REASONING_EFFORT

    params = {k: v for k, v in values.items() if k in PARAMS and v is not None}
    for key, value in body_options(values.get("option") or []).items():
        params.setdefault(key, value)
    if values.get("reasoning_effort"):
        params[REASONING_EFFORT] = str(values["reasoning_effort"])
    return Overrides(
        backend=values.get("backend"),
        model=values.get("model"),
        system=values.get("system"),
        role=values.get("role"),
        reasoning=str(values["reasoning"]) if values.get("reasoning") else None,
        params=params,
    )


def body_options(words: list[str]) -> dict[str, Any]:
    """`-o KEY=VALUE` words as body fields, in order; a key given again takes the last value."""
    from wai.settings.params import param_name, parse_option_value

    options: dict[str, Any] = {}
    for word in words:
        key, _, text = word.partition("=")
        options[param_name(key)] = parse_option_value(text)
    return options
