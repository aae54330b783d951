"""Start-up stays light: the heavy libraries load only in the commands that use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = (
    "httpx",
    "httpx_sse",
    "httpcore",
    "h11",
    "prompt_toolkit",
    "rich.markdown",
    "rich.live",
    "markdown_it",
)

PROBE = """
import json, runpy, sys
sys.argv = ["wai", *sys.argv[1:]]
try:
    runpy.run_module("wai", run_name="__main__")
except SystemExit:
    pass
heavy = [m for m in sys.modules if m.startswith(tuple(json.loads(%r)))]
sys.stderr.write("\\nLOADED " + json.dumps(sorted(heavy)) + "\\n")
"""


def loaded_modules(*args: str, env: dict[str, str] | None = None) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE % json.dumps(HEAVY), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    marker = completed.stderr.rsplit("LOADED ", 1)
    assert len(marker) == 2, completed.stderr
    return json.loads(marker[1])


@pytest.mark.parametrize(
    "args", [("--help",), ("--version",), ("ask", "--help"), ("config", "path")]
)
def test_light_commands_import_nothing_heavy(args: tuple[str, ...]) -> None:
    assert loaded_modules(*args) == []


def test_shell_completion_imports_nothing_heavy() -> None:
    env = {"_WAI_COMPLETE": "complete_bash", "COMP_WORDS": "wai as", "COMP_CWORD": "1"}
    assert loaded_modules(env=env) == []


def test_plain_ask_loads_no_markdown_no_prompt_toolkit_and_no_httpcore(server) -> None:
    loaded = loaded_modules("ask", "--plain", "hi")
    assert "httpx" in loaded
    assert not [m for m in loaded if m.startswith(("httpcore", "h11"))]  # wai's own transport
    # (rich.live may come with httpx itself: httpx loads its own CLI, which uses rich.progress,
    # wherever click is installed, as it is beside llama-cpp-python in the test environment.)
    assert not [m for m in loaded if m.startswith(("prompt_toolkit", "rich.markdown"))]
