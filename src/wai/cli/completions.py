"""`wai completions bash|zsh|fish`: print the shell's completion script."""

import os
from enum import StrEnum
from typing import Annotated, Any

import typer

COMPLETE_VAR = "_WAI_COMPLETE"


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


# Typer prints its scripts and answers completion requests only through private functions (its
# public way adds --install-completion and --show-completion to the root command): pyproject
# holds typer to the versions that have them, and tests/cli/test_completions.py checks them.

# bash's own script: Typer's hands over COMP_WORDS, which bash splits at COMP_WORDBREAKS as well
# as at spaces, so `-m @cf/meta/...` reached wai as the words `@` and `cf/meta/...` (and
# `llama3.2:latest` as three). This one hands over the line itself: see line_bash_complete.
BASH_SCRIPT = """\
_wai_completion() {
    local IFS=$'\\n'
    COMPREPLY=( $( env COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" \\
                   COMP_WORDBREAKS="$COMP_WORDBREAKS" \\
                   _WAI_COMPLETE=complete_bash "$1" ) )
    return 0
}

complete -o default -F _wai_completion wai
"""


def completion_script(shell: str) -> str:
    if shell == Shell.bash:
        return BASH_SCRIPT
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="wai", complete_var=COMPLETE_VAR, shell=shell)


def enable_shell_completion() -> None:
    """Register the completion classes; only needed when the shell asks for completions."""
    from typer._click.shell_completion import add_completion_class
    from typer._completion_classes import completion_init

    completion_init()
    add_completion_class(line_bash_complete(), Shell.bash.value)


def line_bash_complete() -> Any:
    """Typer's bash completion, reading the command line up to the cursor (COMP_LINE,
    COMP_POINT) rather than bash's words, and answering with what bash replaces: the text after
    the last of COMP_WORDBREAKS (`latest` for `llama3.2:la`; an `@` stays in). A script that sends
    COMP_WORDS and COMP_CWORD, as Typer's does, is answered as Typer answers it."""
    from typer._click.shell_completion import CompletionItem, split_arg_string
    from typer._completion_classes import BashComplete

    class LineBashComplete(BashComplete):
        kept = ""  # the start of the word that bash does not replace

        def get_completion_args(self) -> tuple[list[str], str]:
            line = os.environ.get("COMP_LINE")
            if line is None:
                return super().get_completion_args()
            point = os.environ.get("COMP_POINT", "")
            typed = line[: int(point)] if point.isdigit() else line  # characters, in bash too
            words = split_arg_string(typed)
            at_new_word = not typed or typed[-1].isspace()
            incomplete = "" if at_new_word or not words else words.pop()
            # The value being completed, as click sees it: `--model=@cf/x` completes `@cf/x`
            value = incomplete
            if "=" in value and value[:1] == "-":
                value = value.partition("=")[2]
            breaks = set(os.environ.get("COMP_WORDBREAKS", "")) | {" ", "\t", "\n"}
            cut = max(typed.rfind(c) for c in breaks)
            # readline's special prefixes break a word but start the next one (`@` of `@cf/...`)
            replaced = typed[cut if cut >= 0 and typed[cut] in "$@" else cut + 1 :]
            if value.endswith(replaced):
                self.kept = value[: len(value) - len(replaced)]
            return words[1:], incomplete

        def format_completion(self, item: CompletionItem) -> str:
            value = str(item.value)
            return value[len(self.kept) :] if value.startswith(self.kept) else value

    return LineBashComplete


def completions(
    shell: Annotated[Shell, typer.Argument(help="The shell to complete for.")],
) -> None:
    """Print a shell completion script.

    bash: `wai completions bash > ~/.local/share/bash-completion/completions/wai`;
    zsh: `wai completions zsh > "${fpath[1]}/_wai"`;
    fish: `wai completions fish > ~/.config/fish/completions/wai.fish`.
    """
    typer.echo(completion_script(shell.value).rstrip("\n"))
