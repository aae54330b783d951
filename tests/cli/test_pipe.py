"""`wai ask` with stdout a pipe: the model's bytes exactly, flushed token by token."""

from __future__ import annotations

import json
import os
import select
from pathlib import Path

import pytest

from tests.conftest import popen_wai, wai_process
from tests.servers.workers_ai import Reply, WorkersAIServer, sse, token_events

TIMEOUT = 30.0

# Markdown that a terminal would render, a trailing space and no final newline: a pipe gets it raw.
TOKENS = (
    "# Title\n\n",
    "Some **bold**, *italic* and `code`.\n\n",
    "- one\n- two\n\n",
    "```python\nprint('hi')\n```\n",
    "Grüße aus 東京 🎉 ",
)


def test_pipe_gets_the_model_text_byte_for_byte(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)  # bytes must not depend on it
    body = sse(*(json.dumps({"response": token}, ensure_ascii=False) for token in TOKENS))
    server.enqueue(Reply.stream(body, split=3))

    completed = wai_process("ask", "hi")

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "".join(TOKENS).encode()
    assert b"\x1b" not in completed.stdout
    assert b"\x1b" not in completed.stderr
    assert server.last_body["messages"] == [{"role": "user", "content": "hi"}]


def read_at_least(fd: int, size: int) -> bytes:
    """Read from `fd` until `size` bytes arrived; fail instead of blocking past TIMEOUT."""
    received = b""
    while len(received) < size:
        ready, _, _ = select.select([fd], [], [], TIMEOUT)
        assert ready, f"nothing more on stdout within {TIMEOUT} s; got {received!r}"
        data = os.read(fd, 4096)
        assert data, f"stdout closed early; got {received!r}"
        received += data
    return received


def test_tokens_are_flushed_as_they_arrive(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With PYTHONUNBUFFERED set (as it may be in CI) Python flushes every write itself and a
    # missing flush in wai would go unnoticed.
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    first = sse({"response": "First"}, done=False)
    rest = sse({"response": " token, then the rest."})
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))

    process = popen_wai("ask", "hi")
    try:
        assert process.stdout is not None
        # The server holds the second chunk back until the gate opens: the first token must be
        # on the pipe now, or wai buffered it.
        shown = read_at_least(process.stdout.fileno(), len(b"First"))
        assert shown == b"First"

        server.gate.release()
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            server.gate.release()
            process.kill()
            process.communicate()

    assert process.returncode == 0, err
    assert shown + out == b"First token, then the rest."
    assert err == b""


def test_a_reader_that_leaves_still_gets_the_exchange_saved(
    server: WorkersAIServer, isolated: Path
) -> None:
    first = sse(*token_events(["Hello"]), done=False)
    rest = sse(*token_events([", world", "!"]))
    server.enqueue(Reply(chunks=[first, rest], pause_before=[1]))
    process = popen_wai("ask", "--session", "left", "hi")
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(3) == b"Hel"  # `| head -c 3`: it read what it wanted...
    process.stdout.close()  # ... and left
    server.gate.release()

    assert process.wait(TIMEOUT) == 141  # quietly, as for any closed pipe
    assert process.stderr.read() == b""
    saved = json.loads((isolated / "data" / "sessions" / "left.json").read_text())
    assert [(m["role"], m["content"]) for m in saved["messages"]] == [
        ("user", "hi"),
        ("assistant", "Hello, world"),  # what arrived, up to the write that found it gone
    ]
    assert saved["messages"][1]["meta"]["interrupted"] is True
