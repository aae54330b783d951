"""The committed completion scripts are what `wai completions` prints, and they complete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import wai

COMPLETIONS = Path(__file__).parent.parent / "completions"
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


def _complete(words: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "wai"],
        env={
            **os.environ,
            "_WAI_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return completed.stdout.split()


def test_bash_completes_commands_and_options() -> None:
    assert _complete("wai as") == ["ask"]
    assert _complete("wai ask --top") == ["--top-p", "--top-k"]
    assert _complete("wai completions ") == ["bash", "zsh", "fish"]
