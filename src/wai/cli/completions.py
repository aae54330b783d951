"""`wai completions bash|zsh|fish`: print the shell's completion script."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

COMPLETE_VAR = "_WAI_COMPLETE"


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion_script(shell: str) -> str:
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="wai", complete_var=COMPLETE_VAR, shell=shell)


def completions(
    shell: Annotated[Shell, typer.Argument(help="The shell to complete for.")],
) -> None:
    """Print a shell completion script (e.g. `wai completions bash > ~/.local/share/bash-completion/completions/wai`)."""
    typer.echo(completion_script(shell.value).rstrip("\n"))
