"""Options shared by `ask` and `chat`."""

from __future__ import annotations

from typing import Annotated

import typer

MODEL_HELP = "Generation"

Model = Annotated[
    str | None, typer.Option("-m", "--model", help="Model id (default from config or WAI_MODEL).")
]
BackendName = Annotated[
    str | None, typer.Option("-b", "--backend", help="Backend name (default: cloudflare).")
]
System = Annotated[str | None, typer.Option("-s", "--system", help="System message.")]
MaxTokens = Annotated[
    int | None, typer.Option(help="Most tokens to generate.", rich_help_panel=MODEL_HELP)
]
Temperature = Annotated[
    float | None, typer.Option(help="Randomness, 0 to 5.", rich_help_panel=MODEL_HELP)
]
TopP = Annotated[
    float | None, typer.Option(help="Nucleus sampling, 0.001 to 1.", rich_help_panel=MODEL_HELP)
]
TopK = Annotated[int | None, typer.Option(help="Top-k sampling, 1 to 50.", rich_help_panel=MODEL_HELP)]
Seed = Annotated[
    int | None, typer.Option(help="Random seed, 1 to 9999999999.", rich_help_panel=MODEL_HELP)
]
RepetitionPenalty = Annotated[
    float | None, typer.Option(help="Repetition penalty, 0 to 2.", rich_help_panel=MODEL_HELP)
]
FrequencyPenalty = Annotated[
    float | None, typer.Option(help="Frequency penalty, -2 to 2.", rich_help_panel=MODEL_HELP)
]
PresencePenalty = Annotated[
    float | None, typer.Option(help="Presence penalty, -2 to 2.", rich_help_panel=MODEL_HELP)
]
Lora = Annotated[
    str | None,
    typer.Option(help="LoRA adapter id or name (with --raw only).", rich_help_panel=MODEL_HELP),
]
NoStream = Annotated[
    bool, typer.Option("--no-stream", help="Wait for the whole answer instead of streaming.")
]
ShowUsage = Annotated[bool, typer.Option("-u", "--usage", help="Print token usage to stderr.")]
