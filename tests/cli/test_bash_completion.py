"""The committed bash script completes in a real bash: its function called as bash's `complete -F`
calls it (COMP_WORDS, COMP_CWORD, then COMPREPLY read back), and Tab pressed at an interactive
bash in a pseudo-terminal. The console script `wai` is found on PATH, as a user's shell finds it;
the data, cache and config directories hold known sessions, a known catalogue, a known config."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import default_sigint
from wai.backends.base import ModelInfo
from wai.backends.catalogue import CatalogueCache

SCRIPT = Path(__file__).parents[2] / "completions" / "wai.bash"
CONSOLE_SCRIPTS = Path(sys.executable).parent  # where the venv put `wai`
SKY = "2026-11-20-why-is-the-sky-blue"
CONFIG = """\
[backends.office]
type = "openai"
base_url = "http://127.0.0.1:9/v1"

[roles.reviewer]
system = "You review code."
"""


def session_document(name: str) -> str:
    return json.dumps(
        {
            "format": "wai.session/1",
            "name": name,
            "created": "2026-11-20T09:15:00.000Z",
            "updated": "2026-11-20T09:15:00.000Z",
            "backend": "cloudflare",
            "model": "@cf/meta/llama-3.1-8b-instruct",
            "params": {},
            "messages": [
                {"role": "user", "content": "why is the sky blue?"},
                {"role": "assistant", "content": "Rayleigh scattering."},
            ],
        }
    )


@pytest.fixture
def home(isolated: Path, config_file: Path) -> Path:
    """Known sessions, a known Workers AI catalogue and a known config."""
    sessions = isolated / "data" / "sessions"
    sessions.mkdir(parents=True)
    for name in (SKY, "work", "work-2"):
        (sessions / f"{name}.json").write_text(session_document(name))
    CatalogueCache(isolated / "cache").store(
        "cloudflare",
        [
            ModelInfo("@cf/meta/llama-3.1-8b-instruct"),
            ModelInfo("@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
            ModelInfo("@cf/openai/gpt-oss-120b"),
        ],
    )
    config_file.parent.mkdir(parents=True)
    config_file.write_text(CONFIG)
    return isolated


def shell_environment() -> dict[str, str]:
    path = f"{CONSOLE_SCRIPTS}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "TZ": "UTC", "LC_ALL": "C.UTF-8"}


def compreply(line: str) -> list[str]:
    """COMPREPLY after the script's function is called, as bash calls it, for a Tab at the end
    of `line`: COMP_LINE and COMP_POINT set, COMP_WORDBREAKS bash's own."""
    program = "\n".join(
        [
            f"source {shlex.quote(str(SCRIPT))}",
            f"COMP_LINE={shlex.quote(line)}",
            "COMP_POINT=${#COMP_LINE}",
            'read -r -a COMP_WORDS <<< "$COMP_LINE"',  # unused by the script; set as bash does
            "COMP_CWORD=${#COMP_WORDS[@]}",
            "_wai_completion wai",
            'printf "[%s]\\n" "${COMPREPLY[@]}"',
        ]
    )
    completed = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        env=shell_environment(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (0, "")
    return [line.removeprefix("[").removesuffix("]") for line in completed.stdout.splitlines()]


def test_the_console_script_is_where_the_shell_looks() -> None:
    assert (CONSOLE_SCRIPTS / "wai").is_file()


def test_compreply_holds_exactly_the_candidates(home: Path) -> None:
    assert compreply("wai sessions show w") == ["work", "work-2"]
    assert compreply("wai sessions rm work ") == [SKY, "work", "work-2"]
    assert compreply("wai chat --session 2026") == [SKY]
    assert compreply("wai ask -b o") == ["office", "ollama"]
    assert compreply("wai chat --role ") == ["reviewer"]
    assert compreply("wai config get ") == [
        "backends.office.base_url",
        "backends.office.type",
        "roles.reviewer.system",
    ]
    assert compreply("wai config set params.top") == ["params.top_k", "params.top_p"]


def test_compreply_replaces_only_what_bash_replaces(home: Path) -> None:
    """`:` and `=` break bash's words: readline replaces the text after the last of them, so
    COMPREPLY holds the rest of each candidate. `@` breaks them too, but stays in the word."""
    ids = [
        "@cf/meta/llama-3.1-8b-instruct",
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "@cf/openai/gpt-oss-120b",
    ]
    assert compreply("wai ask -m @cf/meta/") == ids[:2]
    assert compreply("wai ask -m @") == ids
    assert compreply("wai ask --model=@cf/o") == ids[2:]
    assert compreply("wai ask --model=") == ids
    CatalogueCache(home / "cache").store(
        "ollama", [ModelInfo("llama3.2:latest"), ModelInfo("llama3.2:1b")]
    )
    assert compreply("wai ask -b ollama -m llama3.2:") == ["1b", "latest"]
    assert compreply("wai ask -b ollama -m llama3.2:l") == ["latest"]
    assert compreply("wai ask -b ollama -m ll") == ["llama3.2:1b", "llama3.2:latest"]


def test_a_broken_config_leaves_compreply_empty(home: Path, config_file: Path) -> None:
    config_file.write_text("[roles\n")
    assert compreply("wai config get ") == [""]  # printf's one line for no words
    assert compreply("wai ask --role ") == [""]
    assert compreply("wai sessions show w") == ["work", "work-2"]


def test_tab_at_an_interactive_bash(home: Path, tmp_path: Path) -> None:
    rc = tmp_path / "bashrc"
    rc.write_text(
        f"PS1='bash$ '\nbind 'set enable-bracketed-paste off'\nsource {shlex.quote(str(SCRIPT))}\n"
    )
    child = pexpect.spawn(
        "bash",
        ["--noprofile", "--rcfile", str(rc), "-i"],
        env=shell_environment(),
        dimensions=(30, 120),
        encoding="utf-8",
        preexec_fn=default_sigint,
        timeout=30,
    )
    child.expect_exact("bash$ ")

    # A unique session name is completed whole, then the command runs with it.
    child.send("wai sessions show 2026\t")
    child.expect_exact(f"show {SKY} ")
    child.send("\r")
    child.expect_exact(
        f"{SKY} · @cf/meta/llama-3.1-8b-instruct (cloudflare) · 1 turn · updated 2026-11-20 09:15"
    )
    child.expect_exact("Rayleigh scattering.")
    child.expect_exact("bash$ ")

    # Model ids from the cached catalogues, `@` and `:` in them: each line, completed, is
    # echoed (Ctrl-A goes to its start) to show what the shell would run.
    CatalogueCache(home / "cache").store("ollama", [ModelInfo("llama3.2:latest")])
    for typed, completed in [
        ("wai ask -m @cf/o", "wai ask -m @cf/openai/gpt-oss-120b "),
        (
            "wai ask --model=@cf/meta/llama-3.3",
            "wai ask --model=@cf/meta/llama-3.3-70b-instruct-fp8-fast ",
        ),
        ("wai chat -b ollama -m llama3.2:l", "wai chat -b ollama -m llama3.2:latest "),
        ('wai ask -s "Réponds" -m @cf/o', 'wai ask -s "Réponds" -m @cf/openai/gpt-oss-120b '),
    ]:
        child.send(f"{typed}\t")
        child.expect_exact(completed[len(typed) - 2 :])  # the end of readline's redraw
        child.send("\x01echo '\x05'\r")
        child.expect_exact(f"\r\n{completed}\r\nbash$ ")

    child.sendline("exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
