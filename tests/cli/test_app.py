"""A run builds only the command it names; what the user sees is what the whole app shows."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import wai_process
from wai.cli import COMMANDS, build_app, invoked_command

HELPS = [
    ("ask", "--help"),
    ("chat", "--help"),
    ("sessions", "--help"),
    ("sessions", "list", "--help"),
    ("models", "--help"),
    ("login", "--help"),
    ("doctor", "--help"),
    ("config", "--help"),
    ("config", "set", "--help"),
    ("completions", "--help"),
    ("--debug", "ask", "--help"),
    ("ask", "--temperature", "9", "hi"),
    ("config", "nope"),
    ("nope",),
    ("--help",),
]


WHOLE_APP = "import sys; from wai.cli import app; sys.argv[0] = 'wai'; app(prog_name='wai')"


@pytest.mark.parametrize("args", HELPS, ids=" ".join)
def test_a_run_shows_exactly_what_the_whole_app_shows(isolated, args: tuple[str, ...]) -> None:
    env = {**os.environ, "COLUMNS": "80"}
    whole = subprocess.run(
        [sys.executable, "-c", WHOLE_APP, *args], capture_output=True, env=env, timeout=60
    )
    assert whole.stdout + whole.stderr  # something to compare
    run = wai_process(*args, env={"COLUMNS": "80"})
    assert (run.returncode, run.stdout, run.stderr) == (
        whole.returncode,
        whole.stdout,
        whole.stderr,
    )


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["ask", "hi"], "ask"),
        (["--debug", "sessions", "list"], "sessions"),
        (["--version"], None),
        (["--debug", "--version"], None),
        (["nope", "ask"], None),
        ([], None),
    ],
)
def test_the_invoked_command_is_the_first_word_after_the_root_flags(
    args: list[str], command: str | None
) -> None:
    assert invoked_command(args) == command


def test_an_app_for_one_command_has_that_command_alone() -> None:
    assert [c.name for c in build_app("ask").registered_commands] == ["ask"]
    assert [g.name for g in build_app("config").registered_groups] == ["config"]
    whole = build_app()
    names = [c.name for c in whole.registered_commands] + [g.name for g in whole.registered_groups]
    assert sorted(names) == sorted(COMMANDS)
