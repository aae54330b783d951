"""The committed completion scripts are what `wai completions` prints, and they complete."""

from __future__ import annotations

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
    assert run.exit_code == 2
    assert "tcsh" in run.stderr


def test_bash_completes_commands_and_options() -> None:
    assert complete("wai as") == ["ask"]
    assert complete("wai ask --top") == ["--top-p", "--top-k"]
    assert complete("wai completions ") == ["bash", "zsh", "fish"]
