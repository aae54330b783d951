"""`wai completions bash|zsh|fish`: print the shell's completion script."""

from enum import StrEnum
from typing import Annotated

import typer

COMPLETE_VAR = "_WAI_COMPLETE"


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


# Typer prints its scripts and answers completion requests only through private functions (its
# public way adds --install-completion and --show-completion to the root command): pyproject
# holds typer to the versions that have them, and tests/cli/test_completions.py checks them.


def completion_script(shell: str) -> str:
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="wai", complete_var=COMPLETE_VAR, shell=shell)


def enable_shell_completion() -> None:
    """Register Typer's completion classes; only needed when the shell asks for completions."""
    from typer._completion_classes import completion_init

    completion_init()


def completions(
    shell: Annotated[Shell, typer.Argument(help="The shell to complete for.")],
) -> None:
    """Print a shell completion script.

    bash: `wai completions bash > ~/.local/share/bash-completion/completions/wai`;
    zsh: `wai completions zsh > "${fpath[1]}/_wai"`;
    fish: `wai completions fish > ~/.config/fish/completions/wai.fish`.
    """
    typer.echo(completion_script(shell.value).rstrip("\n"))
