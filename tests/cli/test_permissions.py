"""What others could read or plant: the session lock, a config file open to others, a data
directory anyone may write in, overlong session names, /undo with another writer, and a value
JSON cannot hold."""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import date
from pathlib import Path

from tests.conftest import wai, wai_process
from tests.servers.workers_ai import ACCOUNT, TOKEN, WorkersAIServer
from wai.conversation import Conversation
from wai.environment import Environment
from wai.repl import Repl
from wai.settings import Overrides
from wai.settings.file import load_config

ANSWER = "Hello, world!"


def today() -> str:
    return date.today().isoformat()


# --- the lock file ---


def test_the_lock_file_is_made_private(server: WorkersAIServer, isolated: Path) -> None:
    assert wai("ask", "hi").exit_code == 0
    lock = isolated / "data" / "sessions" / ".lock"
    assert stat.S_IMODE(lock.lstat().st_mode) == 0o600


def test_a_symlink_planted_at_the_lock_is_refused(server: WorkersAIServer, isolated: Path) -> None:
    sessions = isolated / "data" / "sessions"
    sessions.mkdir(parents=True)
    target = isolated / "elsewhere"
    target.write_text("someone else's file\n")
    target.chmod(0o644)
    (sessions / ".lock").symlink_to(target)
    result = wai_process("ask", "hi")
    assert (result.returncode, result.stdout.decode(), result.stderr.decode()) == (
        3,
        "",
        f"wai: error: {sessions}/.lock is a symbolic link; wai will not follow it\n"
        "hint: remove it: wai makes its own lock file there\n",
    )
    assert server.run_requests == []
    assert target.read_text() == "someone else's file\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in sessions.iterdir()) == [".lock"]


# --- a config file open to others ---

SECRET_CONFIG = f'[backends.cloudflare]\naccount_id = "{ACCOUNT}"\napi_token = "{TOKEN}"\n'


def open_config(config_file: Path, mode: int, text: str = SECRET_CONFIG) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(text)
    config_file.chmod(mode)


def warning(config_file: Path, mode: str = "0644") -> str:
    return (
        f"wai: warning: {config_file} holds a secret and is open to others (mode {mode}); "
        f"run chmod 600 {config_file}\n"
    )


def test_a_config_file_with_a_secret_open_to_others_is_warned_about_once(
    server: WorkersAIServer, config_file: Path
) -> None:
    open_config(config_file, 0o644)
    result = wai_process("ask", "hi", env={"CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_ACCOUNT_ID": ""})
    assert (result.returncode, result.stdout.decode(), result.stderr.decode()) == (
        0,
        ANSWER,
        warning(config_file),
    )
    config_file.chmod(0o640)
    result = wai_process("config", "get", "model")
    assert result.stderr.decode().startswith(warning(config_file, "0640"))


def test_every_command_that_reads_the_config_warns(config_file: Path) -> None:
    open_config(config_file, 0o604)
    assert wai_process("config", "show").stderr.decode() == warning(config_file, "0604")
    result = wai_process("config", "set", "model", "@cf/meta/llama-3.1-8b-instruct")
    assert (result.returncode, result.stderr.decode()) == (0, warning(config_file, "0604"))
    # `config set` writes the file with mode 0600: the next command says nothing
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert wai_process("config", "show").stderr == b""


def test_a_private_config_file_or_one_without_a_secret_is_not_warned_about(
    server: WorkersAIServer, config_file: Path
) -> None:
    open_config(config_file, 0o600)
    assert wai_process("ask", "hi").stderr == b""
    open_config(config_file, 0o644, 'model = "@hf/thebloke/mistral-7b-instruct-v0.1-awq"\n')
    assert wai_process("ask", "hi").stderr == b""


def test_doctor_flags_a_config_file_open_to_others(
    server: WorkersAIServer, config_file: Path
) -> None:
    open_config(config_file, 0o644)
    result = wai_process("doctor", "--json", env={"CLOUDFLARE_API_TOKEN": ""})
    assert result.returncode == 0
    assert result.stderr.decode() == warning(config_file)  # once, though doctor reads it twice
    checks = json.loads(result.stdout)["checks"]
    assert checks[1] == {
        "check": "config file permissions",
        "status": "warn",
        "detail": warning(config_file).removeprefix("wai: warning: ").rstrip("\n"),
    }
    config_file.chmod(0o600)
    result = wai_process("doctor", "--json", env={"CLOUDFLARE_API_TOKEN": ""})
    assert result.stderr == b""
    assert "config file permissions" not in result.stdout.decode()


# --- a data directory anyone may write in ---


def test_a_world_writable_data_directory_is_refused(
    server: WorkersAIServer, isolated: Path
) -> None:
    data = isolated / "data"
    data.mkdir()
    data.chmod(0o777)
    result = wai_process("ask", "hi")
    assert (result.returncode, result.stdout, result.stderr.decode()) == (
        3,
        b"",
        f"wai: error: {data} is writable by everyone (mode 0777); wai will not keep sessions "
        f"there\nhint: run chmod o-w {data}\n",
    )
    assert server.run_requests == []
    assert list(data.iterdir()) == []


def test_a_world_writable_sessions_directory_is_refused(
    server: WorkersAIServer, isolated: Path
) -> None:
    sessions = isolated / "data" / "sessions"
    sessions.mkdir(parents=True)
    sessions.chmod(0o773)
    result = wai("sessions", "list")
    assert (result.exit_code, result.stderr) == (
        3,
        f"wai: error: {sessions} is writable by everyone (mode 0773); wai will not keep "
        f"sessions there\nhint: run chmod o-w {sessions}\n",
    )


def test_a_sticky_world_writable_data_directory_is_accepted(
    server: WorkersAIServer, isolated: Path
) -> None:
    data = isolated / "data"
    data.mkdir()
    data.chmod(0o1777)
    result = wai_process("ask", "hi")
    assert (result.returncode, result.stderr) == (0, b"")


# --- session names ---


def test_a_session_name_over_100_characters_is_a_usage_error(server: WorkersAIServer) -> None:
    for length in (101, 300):
        result = wai_process("ask", "--session", "a" * length, "hi")
        assert (result.returncode, result.stdout, result.stderr.decode()) == (
            2,
            b"",
            f"wai: error: invalid session name {'a' * 20}…: {length} characters, at most 100\n"
            "hint: choose a shorter name\n",
        )
    assert server.run_requests == []
    assert wai_process("ask", "--session", "a" * 100, "hi").returncode == 0


# --- a value JSON cannot hold ---


def test_a_nan_in_a_session_is_a_clear_error_and_the_file_stays(
    server: WorkersAIServer, isolated: Path
) -> None:
    assert wai("ask", "--session", "odd", "hi").exit_code == 0
    path = isolated / "data" / "sessions" / "odd.json"
    document = json.loads(path.read_text())
    document["x-note"] = float("nan")  # a key from a newer wai, kept as it is
    path.write_text(json.dumps(document))
    before = path.read_bytes()
    result = wai("ask", "--session", "odd", "again")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "wai: error: cannot save the session odd: it holds a number JSON cannot store "
        "(NaN or infinity)\nhint: its file was left as it was\n",
    )
    assert len(server.run_requests) == 1  # refused before the second request
    assert path.read_bytes() == before


# --- /undo with another writer ---


class Chat:
    """A Repl on string streams, as `wai chat` runs it."""

    def __init__(self, name: str) -> None:
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


def contents(path: Path) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in json.loads(path.read_text())["messages"]]


def test_undo_drops_only_this_chats_exchange(server: WorkersAIServer, isolated: Path) -> None:
    path = isolated / "data" / "sessions" / "shared.json"
    chat = Chat("shared")
    chat.type("mine")
    assert wai_process("ask", "--session", "shared", "theirs").returncode == 0
    chat.type("/undo")
    assert chat.stderr() == "wai: dropped the last exchange\n"
    assert contents(path) == [("user", "theirs"), ("assistant", ANSWER)]
    chat.type("/undo")
    assert chat.stderr() == (
        "wai: error: no exchange was sent from this chat yet; /undo drops only this chat's own\n"
        "hint: the session's earlier exchanges stay as they are\n"
    )
    assert contents(path) == [("user", "theirs"), ("assistant", ANSWER)]


def test_undo_drops_this_chats_exchanges_newest_first(
    server: WorkersAIServer, isolated: Path
) -> None:
    path = isolated / "data" / "sessions" / "shared.json"
    chat = Chat("shared")
    chat.type("one")
    assert wai_process("ask", "--session", "shared", "theirs").returncode == 0
    chat.type("two", "/undo", "/undo")
    assert chat.stderr() == "wai: dropped the last exchange\n" * 2
    assert contents(path) == [("user", "theirs"), ("assistant", ANSWER)]
