"""Shared fixtures: an isolated home for every test, the Workers AI server, and ways to run wai."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from tests.servers.openai_compat import OpenAIServer
from tests.servers.workers_ai import ACCOUNT, TOKEN, WorkersAIServer
from wai.cli import app

SCHEMA = json.loads((Path(__file__).parent / "data" / "cloudflare-input.schema.json").read_text())
CLEARED = (
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_API_TOKEN",
    "CF_ACCOUNT_ID",
    "CF_API_TOKEN",
    "CLOUDFLARE_API_BASE_URL",
    "WAI_BACKEND",
    "WAI_MODEL",
    "WAI_DEBUG",
    "WAI_CACHE_DIR",
    "NO_COLOR",
    "PYTHONUNBUFFERED",
    "VISUAL",
    "EDITOR",
    *(f"{scheme}_proxy" for scheme in ("http", "https", "all", "no")),  # tests talk to 127.0.0.1
    *(f"{scheme}_PROXY" for scheme in ("HTTP", "HTTPS", "ALL", "NO")),
)


@pytest.fixture(autouse=True)
def private_files() -> Iterator[None]:
    """Files are made private, as a user's umask 077 would: a test's config holding a token is
    then not the world-readable file wai warns about (those tests make one on purpose)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME, config and data directories and no Cloudflare variables."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WAI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WAI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WAI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TERM", "xterm-256color")
    return tmp_path


@pytest.fixture
def config_file(isolated: Path) -> Path:
    return isolated / "config" / "config.toml"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkersAIServer]:
    """A running Workers AI server; the environment points wai at it with valid credentials.

    At the end, every body sent to /ai/run is checked against Cloudflare's input schema.
    """
    instance = WorkersAIServer().start()
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", instance.base_url)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    try:
        yield instance
    finally:
        instance.stop()
    assert instance.errors == []
    for request in instance.run_requests:
        jsonschema.validate(request.body, SCHEMA)


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A running OpenAI-compatible server on 127.0.0.1 (llama.cpp, vLLM, Ollama); it writes no
    config: point wai at it with `[backends.NAME] type = "openai"` and its `base_url`."""
    instance = OpenAIServer().start()
    try:
        yield instance
    finally:
        instance.stop()
    assert instance.errors == []


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 but not listening: connecting to it is refused, every time."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def assert_secret_absent(self, secret: str = TOKEN) -> None:
        assert secret not in self.stdout
        assert secret not in self.stderr


def wai(*args: str, input: str | bytes | None = None, env: Mapping[str, str] | None = None) -> Run:
    """Run wai in-process with Typer's CliRunner (stdin and stdout are not terminals)."""
    result = CliRunner().invoke(app, list(args), input=input, env=dict(env or {}))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    run = Run(result.exit_code, result.stdout, result.stderr)
    run.assert_secret_absent()
    return run


def popen_wai(*args: str) -> subprocess.Popen[bytes]:
    """Start wai as a real process with stdin closed and pipes on stdout and stderr."""
    return subprocess.Popen(
        [sys.executable, "-m", "wai", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wai_process(
    *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run wai as a real process with pipes on stdin, stdout and stderr."""
    completed = subprocess.run(
        [sys.executable, "-m", "wai", *args],
        input=input if input is not None else b"",
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    assert TOKEN.encode() not in completed.stdout + completed.stderr
    return completed


def complete(words: str) -> list[str]:
    """What bash completion offers for `words` (the last one is being completed)."""
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


def default_sigint() -> None:
    """A pexpect child's preexec_fn: Ctrl-C must interrupt it even when this test run ignores
    SIGINT (a shell's background job does, and Python then installs no KeyboardInterrupt
    handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
