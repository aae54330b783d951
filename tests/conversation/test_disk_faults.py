"""Full, read-only and forbidden disks under the data and config directories: configuration
errors naming the path (exit 3), checked before a request is paid for, files left intact.

The faults are real: a small tmpfs filled up (ENOSPC), a read-only bind mount (EROFS), a file
size limit (EFBIG), and a process without CAP_DAC_OVERRIDE (EACCES, since root ignores modes).
They need root, as in CI's container; a fault that cannot be set up fails the test."""

from __future__ import annotations

import ctypes
import errno
import io
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import wai
from tests.servers.workers_ai import TOKEN, WorkersAIServer
from wai.conversation import Conversation
from wai.environment import Environment
from wai.repl import Repl
from wai.settings import Overrides
from wai.settings.file import load_config

ANSWER = "Hello, world!"
ROOM = "free some space there, or set WAI_DATA_DIR to a directory on another disk"
READ_ONLY = "that file system is read-only; set WAI_DATA_DIR to a writable directory"


def today() -> str:
    return date.today().isoformat()


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@contextmanager
def tmpfs(directory: Path, size: str = "64k") -> Iterator[Path]:
    """A tmpfs of `size` mounted on `directory` (made if missing), unmounted at the end."""
    assert os.geteuid() == 0, "these faults need root (mount, capabilities)"
    directory.mkdir(parents=True, exist_ok=True)
    run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(directory))
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=True)


@contextmanager
def read_only(directory: Path) -> Iterator[Path]:
    """`directory` bind-mounted on itself read-only, until the end."""
    assert os.geteuid() == 0, "these faults need root (mount, capabilities)"
    run("mount", "--bind", str(directory), str(directory))
    try:
        run("mount", "-o", "remount,bind,ro", str(directory))
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=True)


def fill(directory: Path, leave: int = 0) -> Path:
    """Write zeros into `directory` until its disk is full, then free `leave` bytes."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    assert os.statvfs(directory).f_bavail == 0, "the disk did not fill up"
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def wai_child(*args: str, preexec_fn: Callable[[], None]) -> subprocess.CompletedProcess[str]:
    """wai as a real process, changed by `preexec_fn` before it starts."""
    completed = subprocess.run(
        [sys.executable, "-m", "wai", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=preexec_fn,
    )
    assert TOKEN not in completed.stdout + completed.stderr
    return completed


def listing(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


# --- a full disk ---


def test_a_full_data_disk_is_refused_before_a_request_is_sent(
    server: WorkersAIServer, isolated: Path
) -> None:
    with tmpfs(isolated / "data") as data:
        fill(data)
        result = wai("ask", "hi")
        sessions = data / "sessions"
        assert (result.exit_code, result.stdout, result.stderr) == (
            3,
            "",
            f"wai: error: cannot write {sessions}/{today()}-hi.json: No space left on device\n"
            f"hint: {ROOM}\n",
        )
        assert server.run_requests == []
        assert sorted(p.name for p in sessions.iterdir()) == [".lock"]  # no probe left behind


def test_an_answer_that_arrived_is_shown_when_it_cannot_be_saved(
    server: WorkersAIServer, isolated: Path
) -> None:
    long_answer = "x" * 100_000  # more than the whole 64k disk
    server.tokens = (long_answer,)
    with tmpfs(isolated / "data") as data:
        result = wai("ask", "hi")
        sessions = data / "sessions"
        assert (result.exit_code, result.stdout, result.stderr) == (
            3,
            long_answer,
            f"wai: error: cannot write {sessions}/{today()}-hi.json: No space left on device\n"
            f"hint: {ROOM}\n",
        )
        assert len(server.run_requests) == 1
        assert sorted(p.name for p in sessions.iterdir()) == [".lock"]  # no temporary file left


def test_a_full_disk_leaves_an_existing_session_intact(
    server: WorkersAIServer, isolated: Path
) -> None:
    with tmpfs(isolated / "data") as data:
        assert wai("ask", "--session", "kept", "hi").exit_code == 0
        before = listing(data / "sessions")
        fill(data)
        result = wai("ask", "--session", "kept", "again")
        assert (result.exit_code, result.stderr) == (
            3,
            f"wai: error: cannot write {data}/sessions/kept.json: No space left on device\n"
            f"hint: {ROOM}\n",
        )
        assert len(server.run_requests) == 1  # the second question was never sent
        assert listing(data / "sessions") == before


class Chat:
    """A Repl on string streams, as `wai chat` runs it."""

    def __init__(self, name: str | None = None) -> None:
        self.env = Environment(
            stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), environ=os.environ
        )
        conversation = Conversation.open(self.env, Overrides(), load_config(), name=name)
        self.repl = Repl(self.env, conversation, Overrides())

    def type(self, *lines: str) -> None:
        for line in lines:
            self.repl.handle(line)

    def stderr(self) -> str:
        text = self.env.stderr.getvalue()
        self.env.stderr.seek(0)
        self.env.stderr.truncate()
        return text


def test_the_repl_keeps_a_turn_it_could_not_save_and_saves_it_next_time(
    server: WorkersAIServer, isolated: Path, config_file: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[backends.cloudflare]\ncontext_window = 100000\n")  # all history
    long_answer = "€" * 8_000  # 24,000 bytes in the file, but few tokens for the history
    with tmpfs(isolated / "data") as data:
        filler = fill(data, leave=24 * 1024)  # room for the check, not for the answer
        chat = Chat("kept")
        server.tokens = (long_answer,)
        chat.type("first")
        assert chat.stderr() == (
            f"wai: error: cannot write {data}/sessions/kept.json: No space left on device\n"
            f"hint: {ROOM}\n"
        )
        assert not (data / "sessions" / "kept.json").exists()
        filler.unlink()
        server.tokens = (ANSWER,)
        chat.type("second")
        assert chat.stderr() == ""
        saved = json.loads((data / "sessions" / "kept.json").read_text())
        assert [(m["role"], m["content"]) for m in saved["messages"]] == [
            ("user", "first"),
            ("assistant", long_answer),
            ("user", "second"),
            ("assistant", ANSWER),
        ]
        sent = server.run_requests[-1].body["messages"]
        assert [m["content"] for m in sent] == ["first", long_answer, "second"]


def test_a_file_size_limit_is_a_configuration_error(
    server: WorkersAIServer, isolated: Path
) -> None:
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = wai_child("ask", "--session", "big", "hi", preexec_fn=limited)
    assert (result.returncode, result.stdout, result.stderr) == (
        3,
        "",
        f"wai: error: cannot write {isolated}/data/sessions/big.json: File too large\n"
        "hint: the file would be larger than this process may write (see `ulimit -f`)\n",
    )
    assert server.run_requests == []


# --- a read-only disk ---


def test_a_read_only_data_disk_is_refused_before_a_request_is_sent(
    server: WorkersAIServer, isolated: Path
) -> None:
    assert wai("ask", "--session", "kept", "hi").exit_code == 0
    sessions = isolated / "data" / "sessions"
    before = listing(sessions)
    with read_only(isolated / "data"):
        result = wai("ask", "--session", "kept", "again")
        assert (result.exit_code, result.stdout, result.stderr) == (
            3,
            "",
            f"wai: error: cannot write {sessions}/.lock: Read-only file system\n"
            f"hint: {READ_ONLY}\n",
        )
    assert len(server.run_requests) == 1
    assert listing(sessions) == before


def test_a_read_only_config_directory_is_a_configuration_error(
    config_file: Path, isolated: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('model = "@cf/old/model"\n')
    config_file.chmod(0o600)
    with read_only(config_file.parent):
        result = wai("config", "set", "model", "@cf/new/model")
        assert (result.exit_code, result.stdout, result.stderr) == (
            3,
            "",
            f"wai: error: cannot write {config_file}: Read-only file system\n"
            "hint: that file system is read-only; set WAI_CONFIG_DIR to a writable directory\n",
        )
    assert config_file.read_text() == 'model = "@cf/old/model"\n'


# --- no permission (root without CAP_DAC_OVERRIDE) ---

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def without_dac_override() -> None:
    """Drop the capabilities that let root ignore file modes; exec then leaves root without
    them, so a directory's mode 0500 refuses it (EACCES) as it would any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            os._exit(99)  # the fault cannot be set up: the test fails on this exit code


@pytest.mark.parametrize("fresh", [True, False])
def test_a_data_directory_without_write_permission_is_a_configuration_error(
    server: WorkersAIServer, isolated: Path, fresh: bool
) -> None:
    sessions = isolated / "data" / "sessions"
    if fresh:
        sessions.mkdir(parents=True)
    else:
        assert wai("ask", "--session", "kept", "hi").exit_code == 0
    before = listing(sessions)
    sessions.chmod(0o500)
    try:
        result = wai_child("ask", "--session", "kept", "again", preexec_fn=without_dac_override)
    finally:
        sessions.chmod(0o700)
    target = f"{sessions}/.lock" if fresh else f"{sessions}/kept.json"
    assert (result.returncode, result.stdout, result.stderr) == (
        3,
        "",
        f"wai: error: cannot write {target}: Permission denied\n"
        f"hint: make {sessions} writable, or set WAI_DATA_DIR to a writable directory\n",
    )
    assert len(server.run_requests) == (0 if fresh else 1)
    assert listing(sessions) == before
