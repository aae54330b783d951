"""Overrides shared by `ask` and `chat`."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

import typer

from wai.settings import Overrides

Model = Annotated[
    str | None, typer.Option("-m", "--model", help="Model id (default from config or WAI_MODEL).")
]
BackendName = Annotated[
    str | None, typer.Option("-b", "--backend", help="Backend name (default: cloudflare).")
]
System = Annotated[str | None, typer.Option("-s", "--system", help="System message.")]
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
NoStream = Annotated[
    bool, typer.Option("--no-stream", help="Wait for the whole answer instead of streaming.")
]


class ReasoningMode(StrEnum):  # settings.params.REASONING_MODES, as Typer's choices
    auto = "auto"
    show = "show"
    hide = "hide"


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
    str | None, typer.Option("--session", help="Continue (or start) the session NAME.")
]
ResumeLast = Annotated[
    bool, typer.Option("-c", "--continue", help="Continue the most recently updated session.")
]


def overrides_from(values: Mapping[str, Any]) -> Overrides:
    """The Overrides of a command line (`ctx.params`): only the parameters that were given."""
    from wai.settings.params import PARAMS

    return Overrides(
        backend=values.get("backend"),
        model=values.get("model"),
        system=values.get("system"),
        reasoning=str(values["reasoning"]) if values.get("reasoning") else None,
        params={k: v for k, v in values.items() if k in PARAMS and v is not None},
    )
