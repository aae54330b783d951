"""Session storage: the document, atomic writes, the lock, files wai must not touch."""

from __future__ import annotations

import inspect
import json
import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import SCHEMA, popen_wai, wai
from tests.servers.workers_ai import DEFAULT_MODEL, Reply, WorkersAIServer, sse, token_events
from wai.atomic import write_atomic
from wai.conversation.store import Session, SessionStore

ANSWER = "Hello, world!"
USAGE = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
NAME_HINT = "hint: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
BROKEN_HINT = "hint: fix or move the file by hand; wai will not overwrite it"


def sessions_dir(isolated: Path) -> Path:
    return isolated / "data" / "sessions"


def entries(directory: Path) -> list[str]:
    """Every file in the sessions directory except the lock file."""
    if not directory.exists():
        return []
    return sorted(path.name for path in directory.iterdir() if path.name != ".lock")


def user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def scoped(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def parse_time(text: str) -> datetime:
    assert TIMESTAMP.fullmatch(text), text
    return datetime.fromisoformat(text)


def now_ms() -> datetime:
    """Now, truncated to milliseconds as session timestamps are."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# --- the document ---


def test_document_format_after_ask(server: WorkersAIServer, isolated: Path) -> None:
    before = now_ms()
    run = wai(
        "ask", "--session", "doc", "-s", "Be brief.", "--temperature", "0.5", "Why is it blue?"
    )
    after = now_ms()
    assert (run.exit_code, run.stdout, run.stderr) == (0, ANSWER, "")

    path = sessions_dir(isolated) / "doc.json"
    assert entries(path.parent) == ["doc.json"]
    document = json.loads(path.read_text(encoding="utf-8"))
    assert list(document) == [
        "format", "name", "created", "updated", "backend", "model", "params", "affinity",
        "messages",
    ]  # fmt: skip
    assert re.fullmatch(r"ses_[0-9a-f]{16}", document["affinity"])  # x-session-affinity's id
    assert document["format"] == "wai.session/1"
    assert document["name"] == "doc"
    assert document["backend"] == "cloudflare"
    assert document["model"] == DEFAULT_MODEL
    assert document["params"] == {"temperature": 0.5}

    messages = document["messages"]
    asked_at = parse_time(messages[1]["meta"]["time"])
    answered_at = parse_time(messages[2]["meta"]["time"])
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": "Why is it blue?",
            "meta": {"time": messages[1]["meta"]["time"]},
        },
        {
            "role": "assistant",
            "content": ANSWER,
            "meta": {"time": messages[2]["meta"]["time"], "model": DEFAULT_MODEL, "usage": USAGE},
        },
    ]
    created, updated = parse_time(document["created"]), parse_time(document["updated"])
    assert before <= created <= asked_at <= answered_at <= updated <= after


def test_dropping_meta_gives_the_messages_cloudflare_accepts(
    server: WorkersAIServer, isolated: Path
) -> None:
    assert wai("ask", "--session", "doc", "-s", "Be brief.", "first").exit_code == 0
    document = json.loads((sessions_dir(isolated) / "doc.json").read_text(encoding="utf-8"))
    dropped = scoped(document["messages"])
    assert dropped == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": ANSWER},
    ]
    jsonschema.validate({"messages": dropped}, SCHEMA)

    # ... and that list is exactly the history the next turn sends
    assert wai("ask", "--session", "doc", "second").exit_code == 0
    assert server.last_body["messages"] == [*dropped, {"role": "user", "content": "second"}]


def test_a_later_turn_keeps_created_and_moves_updated(
    server: WorkersAIServer, isolated: Path
) -> None:
    path = sessions_dir(isolated) / "doc.json"
    assert wai("ask", "--session", "doc", "first").exit_code == 0
    first = json.loads(path.read_text(encoding="utf-8"))
    assert wai("ask", "--session", "doc", "second").exit_code == 0
    second = json.loads(path.read_text(encoding="utf-8"))

    assert second["created"] == first["created"]
    assert parse_time(second["updated"]) >= parse_time(first["updated"])
    assert second["messages"][:2] == first["messages"]
    assert scoped(second["messages"]) == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": ANSWER},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": ANSWER},
    ]


# --- atomic writes: SIGKILL in the middle of a save ---

SIZE = 2_000_000  # bytes of content per version: a save takes long enough to be hit


def versioned_document(version: int, size: int) -> bytes:
    """A session document whose content says which version it is (self-contained: the writer
    process runs this function's source)."""
    import json

    document = {
        "format": "wai.session/1",
        "name": "doc",
        "created": "2026-01-01T00:00:00.000Z",
        "updated": "2026-01-01T00:00:00.000Z",
        "backend": "cloudflare",
        "model": "@hf/thebloke/mistral-7b-instruct-v0.1-awq",
        "params": {},
        "messages": [
            {"role": "user", "content": f"{version:06d} " + "x" * size},
            {"role": "assistant", "content": f"version {version}"},
        ],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


WRITER = """
import os
import sys
from pathlib import Path

from wai.atomic import write_atomic

path, stop, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
renamed = False


def signal_parent_and_wait():
    sys.stdout.buffer.write(b"!")
    sys.stdout.buffer.flush()
    sys.stdin.buffer.read()  # the parent never writes: it kills this process


def hook(event, args):
    global renamed
    if event == "os.rename" and os.fspath(args[1]) == os.fspath(path):
        if stop == "before-rename":
            signal_parent_and_wait()
        renamed = True
    elif event == "open" and renamed and stop == "after-rename":
        signal_parent_and_wait()


sys.addaudithook(hook)
if stop == "loop":
    for version in range(1, 1000):  # until killed (ending early fails the test)
        data = versioned_document(version, size)
        sys.stdout.buffer.write(b".")  # version `version` is about to be saved
        sys.stdout.buffer.flush()
        write_atomic(path, data)
elif stop == "mid-write":  # the kernel kills this process once a file passes half the size
    import resource
    import signal

    data = versioned_document(1, size)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size // 2, size // 2))
    write_atomic(path, data)
else:
    write_atomic(path, versioned_document(1, size))  # killed inside, or just after it:
    if stop == "after-rename":
        signal_parent_and_wait()  # (had nothing been opened after the rename)
"""

TEMP_FILE = re.compile(r"\.doc\.json\.[A-Za-z0-9_]+\.tmp")


def kill_writer(path: Path, stop: str, signals: int) -> None:
    """Run the writer on `path`, SIGKILL it once it has sent `signals` bytes."""
    script = inspect.getsource(versioned_document) + WRITER
    writer = subprocess.Popen(
        [sys.executable, "-c", script, str(path), stop, str(SIZE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert writer.stdout is not None and writer.stderr is not None
    try:
        received = writer.stdout.read(signals)
        writer.kill()
        writer.wait(timeout=60)
        assert received == (b"." if stop == "loop" else b"!") * signals, writer.stderr.read()
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        for stream in (writer.stdin, writer.stdout, writer.stderr):
            assert stream is not None
            stream.close()
    assert writer.returncode == -signal.SIGKILL


def saved_version(path: Path) -> int:
    """The version in `path`, which must be exactly one of the documents written."""
    data = path.read_bytes()
    document = json.loads(data)
    version = int(document["messages"][0]["content"][:6])
    assert data == versioned_document(version, SIZE)
    return version


def check_store_sees_one_session(directory: Path, version: int) -> None:
    sessions = SessionStore(directory).all()
    assert [session.name for session in sessions] == ["doc"]
    assert sessions[0].messages[1] == {"role": "assistant", "content": f"version {version}"}


@pytest.mark.parametrize("signals", [1, 2, 4])
def test_sigkill_while_saving_leaves_the_old_or_a_new_file(tmp_path: Path, signals: int) -> None:
    path = tmp_path / "sessions" / "doc.json"
    write_atomic(path, versioned_document(0, SIZE))

    kill_writer(path, "loop", signals)

    # versions 1 .. signals-1 were saved whole; `signals` (or a later one) was being saved
    version = saved_version(path)
    assert version >= signals - 1
    leftovers = [name for name in entries(path.parent) if name != "doc.json"]
    assert all(TEMP_FILE.fullmatch(name) for name in leftovers), leftovers
    assert len(leftovers) <= 1
    check_store_sees_one_session(path.parent, version)


def test_a_crash_in_the_middle_of_writing_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "doc.json"
    write_atomic(path, versioned_document(0, SIZE))

    script = inspect.getsource(versioned_document) + WRITER
    crashed = subprocess.run(
        [sys.executable, "-c", script, str(path), "mid-write", str(SIZE)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert (crashed.returncode, crashed.stdout, crashed.stderr) == (-signal.SIGXFSZ, b"", b"")
    assert saved_version(path) == 0
    [temp] = [name for name in entries(path.parent) if name != "doc.json"]
    assert TEMP_FILE.fullmatch(temp)
    assert (path.parent / temp).read_bytes() == versioned_document(1, SIZE)[: SIZE // 2]
    check_store_sees_one_session(path.parent, 0)


def test_sigkill_just_before_the_rename_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "doc.json"
    write_atomic(path, versioned_document(0, SIZE))

    kill_writer(path, "before-rename", 1)

    assert saved_version(path) == 0
    [temp] = [name for name in entries(path.parent) if name != "doc.json"]
    assert TEMP_FILE.fullmatch(temp)
    assert (path.parent / temp).read_bytes() == versioned_document(1, SIZE)  # written in full
    check_store_sees_one_session(path.parent, 0)


def test_sigkill_just_after_the_rename_leaves_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "doc.json"
    write_atomic(path, versioned_document(0, SIZE))

    kill_writer(path, "after-rename", 1)

    assert saved_version(path) == 1
    assert entries(path.parent) == ["doc.json"]
    check_store_sees_one_session(path.parent, 1)


def test_write_atomic_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "file.json"
    write_atomic(path, b"one")
    write_atomic(path, b"two", mode=0o640)
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.json"]


def test_write_atomic_that_fails_removes_its_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "file.json"
    write_atomic(path, b"old")
    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.json"]


def test_store_ignores_temp_files_and_names_that_are_not_slugs(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    store.update(Session(name="real"), lambda s: s.messages.append(user("hi")))
    document = (tmp_path / "real.json").read_bytes()
    # leftovers of killed saves, each a complete session document
    (tmp_path / ".real.json.k2j4_x9.tmp").write_bytes(document)
    (tmp_path / ".other.json.abc123.tmp").write_bytes(document)
    (tmp_path / ".hidden.json").write_bytes(document)
    (tmp_path / "Not A Slug.json").write_bytes(document)

    assert [session.name for session in store.all()] == ["real"]
    assert store.most_recent().name == "real"


# --- the lock: concurrent changes keep every turn ---


class BarrierGate:
    """The server's gate as a barrier: every paused reply waits until all of them have arrived,
    so all requests are in flight at once and all answers end together."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=60)

    def acquire(self) -> None:
        self.barrier.wait()

    def release(self) -> None:
        self.barrier.abort()


@pytest.mark.parametrize("processes", [2, 4])
def test_concurrent_asks_on_one_session_keep_every_turn(
    server: WorkersAIServer, isolated: Path, processes: int
) -> None:
    server.gate = BarrierGate(processes)  # type: ignore[assignment]
    for _ in range(processes):
        server.enqueue(Reply.stream(sse(*token_events(("Hello", ", world!"))), pause_before=[0]))

    started = [popen_wai("ask", "--session", "shared", f"question {i}") for i in range(processes)]
    results = [(p.communicate(timeout=60), p.returncode) for p in started]

    assert results == [((ANSWER.encode(), b""), 0)] * processes
    assert len(server.run_requests) == processes
    for request in server.run_requests:  # each started from the empty session
        assert request.body["messages"][:-1] == []
    messages = json.loads((sessions_dir(isolated) / "shared.json").read_text())["messages"]
    assert len(messages) == 2 * processes
    questions = []
    for question, answer in zip(messages[::2], messages[1::2], strict=True):
        assert question["role"] == "user"
        assert (answer["role"], answer["content"]) == ("assistant", ANSWER)
        questions.append(question["content"])
    assert sorted(questions) == [f"question {i}" for i in range(processes)]
    assert entries(sessions_dir(isolated)) == ["shared.json"]


UPDATER = """
import sys
from pathlib import Path

from wai.conversation.store import Session, SessionStore

directory, worker, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
store = SessionStore(directory)
assert sys.stdin.buffer.read() == b""  # the start: the parent closes the pipe
for i in range(count):
    message = {"role": "user", "content": f"{worker}-{i}"}
    store.update(Session(name="shared"), lambda session: session.messages.append(message))
"""


def check_every_change_kept(directory: Path, workers: int, count: int) -> None:
    contents = [m["content"] for m in SessionStore(directory).load("shared").messages]
    assert sorted(contents) == sorted(f"{w}-{i}" for w in range(workers) for i in range(count))
    for worker in range(workers):  # each worker's changes in the order it made them
        mine = [c for c in contents if c.startswith(f"{worker}-")]
        assert mine == [f"{worker}-{i}" for i in range(count)]
    assert sorted(p.name for p in directory.iterdir()) == [".lock", "shared.json"]


def test_concurrent_updates_from_processes_keep_every_change(tmp_path: Path) -> None:
    directory = tmp_path / "sessions"
    workers, count = 4, 40
    start_read, start_write = os.pipe()
    try:
        started = [
            subprocess.Popen(
                [sys.executable, "-c", UPDATER, str(directory), str(worker), str(count)],
                stdin=start_read,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for worker in range(workers)
        ]
    finally:
        os.close(start_read)
        os.close(start_write)  # every worker reads EOF at once and starts changing
    results = [(p.communicate(timeout=120), p.returncode) for p in started]
    assert results == [((b"", b""), 0)] * workers
    check_every_change_kept(directory, workers, count)


def test_concurrent_updates_from_threads_keep_every_change(tmp_path: Path) -> None:
    directory = tmp_path / "sessions"
    workers, count = 6, 30
    barrier = threading.Barrier(workers, timeout=60)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            store = SessionStore(directory)
            barrier.wait()
            for i in range(count):
                message = user(f"{worker}-{i}")
                store.update(Session(name="shared"), lambda s, m=message: s.messages.append(m))
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    check_every_change_kept(directory, workers, count)


def test_a_change_that_fails_leaves_the_file_and_releases_the_lock(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    store.update(Session(name="s"), lambda s: s.messages.append(user("kept")))
    before = (tmp_path / "s.json").read_bytes()

    def fail(session: Session) -> None:
        session.messages.append(user("lost"))
        raise ValueError("change failed")

    with pytest.raises(ValueError, match="change failed"):
        store.update(Session(name="s"), fail)
    assert (tmp_path / "s.json").read_bytes() == before

    # another process can take the lock and change the file
    completed = subprocess.run(
        [sys.executable, "-c", UPDATER, str(tmp_path), "9", "1"],
        input=b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (0, b"")
    assert [m["content"] for m in store.load("shared").messages] == ["9-0"]
    assert [m["content"] for m in store.load("s").messages] == ["kept"]


# --- files wai must not touch ---


def not_json_error(data: bytes) -> str:
    try:
        json.loads(data)
    except ValueError as error:
        return str(error)
    raise AssertionError("the data parses")


BROKEN = {
    "not JSON": (b'{"format": "wai.session/1", "messages": [', None),
    "empty": (b"", None),
    "not an object": (b'["wai.session/1"]\n', "not a JSON object"),
    "no format": (b'{"name": "s", "messages": []}\n', "unknown format None"),
    "unknown format": (b'{"format": "chatlog", "messages": []}\n', "unknown format 'chatlog'"),
    "messages not a list": (
        b'{"format": "wai.session/1", "messages": {"role": "user"}}\n',
        "messages must be a list of {role, content} objects",
    ),
    "params not an object": (
        b'{"format": "wai.session/1", "params": [0.5], "messages": []}\n',
        "params must be an object",
    ),
    "model not a string": (
        b'{"format": "wai.session/1", "model": 7, "messages": []}\n',
        "model must be a string",
    ),
    "a message without content": (
        b'{"format": "wai.session/1", "messages": [{"role": "user"}]}\n',
        "messages must be a list of {role, content} objects",
    ),
}


@pytest.mark.parametrize(("data", "why"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_session_file_is_reported_by_path_and_left_alone(
    server: WorkersAIServer, isolated: Path, data: bytes, why: str | None
) -> None:
    path = sessions_dir(isolated) / "broken.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    why = why or f"not valid JSON ({not_json_error(data)})"

    run = wai("ask", "--session", "broken", "hi")

    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == f"wai: error: cannot read the session file {path}: {why}\n{BROKEN_HINT}\n"
    assert path.read_bytes() == data
    assert entries(path.parent) == ["broken.json"]
    assert server.run_requests == []


def test_session_in_a_newer_format_is_refused_and_left_alone(
    server: WorkersAIServer, isolated: Path
) -> None:
    path = sessions_dir(isolated) / "future.json"
    path.parent.mkdir(parents=True)
    data = json.dumps(
        {
            "format": "wai.session/2",
            "name": "future",
            "turns": [{"ask": "hi", "answer": "hello"}],
        },
        indent=2,
    ).encode()
    path.write_bytes(data)

    run = wai("ask", "--session", "future", "hi")

    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == (
        f"wai: error: {path} is a session in format wai.session/2, newer than this wai "
        "understands (wai.session/1)\n"
        "hint: upgrade wai to open it; the file was left untouched\n"
    )
    assert path.read_bytes() == data
    assert entries(path.parent) == ["future.json"]
    assert server.run_requests == []


def test_keys_a_newer_wai_added_survive_a_turn(server: WorkersAIServer, isolated: Path) -> None:
    path = sessions_dir(isolated) / "s.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "format": "wai.session/1",
                "name": "s",
                "created": "2026-01-01T00:00:00.000Z",
                "updated": "2026-01-01T00:00:00.000Z",
                "backend": "cloudflare",
                "model": DEFAULT_MODEL,
                "params": {},
                "messages": [],
                "tags": ["work"],
            }
        )
    )
    assert wai("ask", "--session", "s", "hi").exit_code == 0
    document = json.loads(path.read_text())
    assert document["tags"] == ["work"]
    assert document["created"] == "2026-01-01T00:00:00.000Z"
    assert scoped(document["messages"]) == [user("hi"), {"role": "assistant", "content": ANSWER}]


@pytest.mark.parametrize(
    "name", ["Bad Name", "UPPER", ".hidden", "-dash", "a/b", "../escape", "a b", "é", ""]
)
def test_invalid_session_name_is_a_usage_error(
    server: WorkersAIServer, isolated: Path, name: str
) -> None:
    run = wai("ask", f"--session={name}", "hi")

    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"wai: error: invalid session name {name!r}\n{NAME_HINT}\n"
    assert server.run_requests == []
    assert not (isolated / "data").exists() or list((isolated / "data").rglob("*.json")) == []
