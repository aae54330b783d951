"""The committed completion scripts are what `wai completions` prints, and they complete."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from tests.conftest import complete, wai

COMPLETIONS = Path(__file__).parents[2] / "completions"
FILES = {"bash": "wai.bash", "zsh": "_wai", "fish": "wai.fish"}


@pytest.mark.parametrize("shell", sorted(FILES))
def test_committed_script_is_up_to_date(shell: str) -> None:
    run = wai("completions", shell)
    assert run.exit_code == 0
    committed = (COMPLETIONS / FILES[shell]).read_text()
    assert run.stdout == committed, (
        f"completions/{FILES[shell]} is out of date: "
        f"run `wai completions {shell} > completions/{FILES[shell]}`"
    )
    assert "_WAI_COMPLETE" in committed


def test_unknown_shell_is_a_usage_error() -> None:
    run = wai("completions", "tcsh")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "wai: error: invalid value for 'shell': 'tcsh' is not one of 'bash', 'zsh', 'fish'\n"
        "hint: `wai completions --help` shows how to use it\n"
    )


def test_the_bash_script_sends_the_line_typed_so_far() -> None:
    script = (COMPLETIONS / "wai.bash").read_text()
    assert 'COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT"' in script
    assert 'COMP_WORDBREAKS="$COMP_WORDBREAKS"' in script
    assert script.endswith("complete -o default -F _wai_completion wai\n")


def test_bash_completes_commands_and_options() -> None:
    """Through COMP_WORDS and COMP_CWORD, as Typer's own script (installed before wai had its
    own) asks."""
    assert complete("wai as") == ["ask"]
    assert complete("wai ask --top") == ["--top-p", "--top-k"]
    assert complete("wai completions ") == ["bash", "zsh", "fish"]


def test_the_private_typer_functions_wai_completes_with_are_still_there() -> None:
    """Typer has no public way to print its completion script or to answer completion requests
    without adding --install-completion to the root command; pyproject holds typer to the
    versions where these private functions exist (CI tests the lowest and the highest), and this
    says so loudly the day they move."""
    from typer._click.shell_completion import (
        CompletionItem,
        ShellComplete,
        add_completion_class,
        split_arg_string,
    )
    from typer._completion_classes import BashComplete, completion_init
    from typer._completion_shared import get_completion_script

    assert list(inspect.signature(completion_init).parameters) == []
    assert {"prog_name", "complete_var", "shell"} <= set(
        inspect.signature(get_completion_script).parameters
    )
    # bash's line-reading completion (wai.cli.completions) builds on these
    assert issubclass(BashComplete, ShellComplete)
    assert list(inspect.signature(add_completion_class).parameters)[:2] == ["cls", "name"]
    assert split_arg_string("wai ask -m '@cf/x") == ["wai", "ask", "-m", "@cf/x"]
    assert CompletionItem("x").value == "x"
