"""The REPL's everyday tools (`/copy`, `/file`, `/export`), its completion candidates and the
model it shows, on a real Conversation against the loopback servers: what the user sees, what the
server receives, and the files on disk afterwards. (What only a terminal shows is in
tests/test_repl_screen_pty.py.)"""

from __future__ import annotations

import base64
import io
import json
import os
import select
from pathlib import Path
from typing import Any

import pytest

from tests.servers.openai_compat import MODELS, OpenAIServer
from tests.servers.workers_ai import DEFAULT_MODEL, Reply, WorkersAIServer, sse, token_events
from tests.test_repl import (
    ANSWER,
    SGR,
    Chat,
    answered,
    asked,
    body,
    document,
    said,
    saved,
    today,
)
from wai.conversation import Conversation
from wai.environment import Environment
from wai.repl import Repl
from wai.settings import Overrides

MARK = "<end of what wai wrote>"
CODE_ANSWER = (
    "Two ways:\n\n```python\nprint('hi')\nprint('there')\n```\n\nor\n\n"
    "````sh\necho '```'\n````\n\nDone."
)


@pytest.fixture
def chat(server: WorkersAIServer) -> Chat:
    return Chat()


@pytest.fixture
def sessions_dir(isolated: Path) -> Path:
    return isolated / "data" / "sessions"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory of the REPL: where /file and /export take relative paths."""
    directory = tmp_path / "work"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


# --- /copy ---


class TerminalChat:
    """A Repl whose stdout is a real pseudo-terminal (read back from its master side)."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        self.terminal = open(slave, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.env = Environment(
            stdin=io.StringIO(), stdout=self.terminal, stderr=io.StringIO(), environ=os.environ
        )
        self.repl = Repl(self.env, Conversation.open(self.env, Overrides(), {}), Overrides())

    def written(self) -> bytes:
        """What reached the terminal since the last call: read up to a mark written after it."""
        self.terminal.write(MARK)
        self.terminal.flush()
        received = b""
        while not received.endswith(MARK.encode()):
            assert select.select([self.master], [], [], 10)[0], received
            received += os.read(self.master, 65536)
        return received.removesuffix(MARK.encode())

    def close(self) -> None:
        self.terminal.close()
        os.close(self.master)

    def stderr(self) -> str:
        written = self.env.stderr.getvalue()
        self.env.stderr.seek(0)
        self.env.stderr.truncate()
        return written


@pytest.fixture
def terminal_chat(server: WorkersAIServer) -> Any:
    chat = TerminalChat()
    try:
        yield chat
    finally:
        chat.close()


def osc52(text: str) -> bytes:
    return b"\x1b]52;c;" + base64.b64encode(text.encode()) + b"\x07"


def answered_on_terminal(chat: TerminalChat, server: WorkersAIServer, answer: str) -> None:
    """Ask, get `answer` rendered on the terminal, and read the terminal empty."""
    server.enqueue(Reply.stream(sse(*token_events([answer]))))
    chat.repl.handle("show me")
    chat.written()
    assert chat.stderr() == ""


def test_copy_puts_the_last_answer_on_the_clipboard_through_the_terminal(
    terminal_chat: TerminalChat, server: WorkersAIServer
) -> None:
    answered_on_terminal(terminal_chat, server, "Ünïcode answer, **bold**.")
    terminal_chat.repl.handle("/copy")
    expected = osc52("Ünïcode answer, **bold**.")
    assert terminal_chat.written() == expected
    assert terminal_chat.stderr() == "wai: copied the answer (25 characters)\n"


def test_copy_n_puts_the_nth_code_block_alone_on_the_clipboard(
    terminal_chat: TerminalChat, server: WorkersAIServer
) -> None:
    answered_on_terminal(terminal_chat, server, CODE_ANSWER)
    terminal_chat.repl.handle("/copy 1")
    expected = osc52("print('hi')\nprint('there')")
    assert terminal_chat.written() == expected
    assert terminal_chat.stderr() == "wai: copied code block 1 (python, 2 lines)\n"

    terminal_chat.repl.handle("/copy 2")  # a longer fence, with a shorter one inside
    expected = osc52("echo '```'")
    assert terminal_chat.written() == expected
    assert terminal_chat.stderr() == "wai: copied code block 2 (sh, 1 line)\n"


@pytest.mark.parametrize(
    ("argument", "error"),
    [
        ("3", "wai: error: the last answer has 2 code blocks\n"),
        ("0", "wai: error: usage: /copy [N], N the number of a code block (1 is the first)\n"),
        ("x", "wai: error: usage: /copy [N], N the number of a code block (1 is the first)\n"),
    ],
)
def test_copy_of_a_code_block_that_is_not_there_is_an_error(
    terminal_chat: TerminalChat, server: WorkersAIServer, argument: str, error: str
) -> None:
    answered_on_terminal(terminal_chat, server, CODE_ANSWER)
    terminal_chat.repl.handle(f"/copy {argument}")
    assert terminal_chat.stderr() == error
    assert terminal_chat.written() == b""  # nothing reached the terminal


def test_copy_of_an_answer_without_code_blocks_or_before_any_answer_is_an_error(
    terminal_chat: TerminalChat, server: WorkersAIServer
) -> None:
    terminal_chat.repl.handle("/copy")
    assert terminal_chat.stderr() == "wai: error: there is no answer yet\n"
    answered_on_terminal(terminal_chat, server, "Plain words.")
    terminal_chat.repl.handle("/copy 1")
    assert terminal_chat.stderr() == "wai: error: the last answer has no code block\n"
    assert terminal_chat.written() == b""


def test_copy_without_a_terminal_is_an_error_and_writes_no_escape_code(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("hi")
    chat.output()
    before = saved(sessions_dir)
    chat.type("/copy")
    assert chat.output() == (
        "",
        "wai: error: /copy needs a terminal: it asks the terminal to set the clipboard\n"
        "hint: in a pipe, `wai sessions export NAME` gives the conversation\n",
    )
    assert saved(sessions_dir) == before


# --- /file ---


def test_file_attaches_text_files_fenced_with_their_names_to_the_next_message(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path, workdir: Path
) -> None:
    (workdir / "notes.md").write_text("# Notes\nuse ```code``` here\n")
    (workdir / "sub").mkdir()
    (workdir / "sub" / "a.py").write_text("x = 1")  # no newline at its end
    chat.type("/file notes.md", "/file sub/a.py")
    assert chat.output() == (
        "",
        "wai: attached notes.md (28 characters); it goes with your next message\n"
        "wai: attached sub/a.py (5 characters); it goes with your next message\n",
    )
    assert chat.repl._toolbar().endswith(" · 2 files attached ")

    chat.type("what do they say?")
    assert chat.output() == (ANSWER, "")
    sent = (
        "````notes.md\n# Notes\nuse ```code``` here\n````\n"
        "\n```sub/a.py\nx = 1\n```\n"
        "\nwhat do they say?"
    )
    assert server.last_body == body(said("user", sent))
    name = f"{today()}-notes-md-notes-use-code-here"  # from the first words sent
    assert saved(sessions_dir) == {name: document(name, [asked(sent), answered()])}

    chat.type("and now?")  # the files went with one message only
    assert server.last_body["messages"][-1] == said("user", "and now?")
    assert "attached" not in chat.repl._toolbar()


def test_file_stays_attached_when_the_message_gets_no_answer(
    chat: Chat, server: WorkersAIServer, workdir: Path
) -> None:
    (workdir / "a.txt").write_text("alpha\n")
    chat.type("/file a.txt")
    chat.output()
    server.enqueue(Reply.error(400, 5007, "No such model"))
    chat.type("first try")
    stderr = chat.output()[1]
    assert stderr.endswith("wai: the attachments (1 file) go with the next message\n")
    chat.type("second try")
    assert server.last_body == body(said("user", "```a.txt\nalpha\n```\n\nsecond try"))


@pytest.mark.parametrize(
    ("make", "typed", "error"),
    [
        (lambda d: None, "missing.txt", "wai: error: no such file: missing.txt\n"),
        (
            lambda d: (d / "folder").mkdir(),
            "folder",
            "wai: error: folder is not a file\nhint: attach one file at a time\n",
        ),
        (
            lambda d: (d / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe"),
            "image.png",
            "wai: error: image.png is not a text file (it is not UTF-8 text)\n",
        ),
        (
            lambda d: (d / "nul.bin").write_bytes(b"text\x00more"),
            "nul.bin",
            "wai: error: nul.bin is not a text file (it is not UTF-8 text)\n",
        ),
        (
            lambda d: (d / "big.log").write_text("x" * (1024 * 1024 + 1)),
            "big.log",
            "wai: error: big.log is 1,048,577 bytes; /file attaches text files up to 1 MiB\n"
            "hint: attach a part of it (e.g. `head -c 500000 FILE > part.txt`, then /file "
            "part.txt)\n",
        ),
        (lambda d: None, "", "wai: error: usage: /file PATH (a text file up to 1 MiB)\n"),
    ],
)
def test_file_that_cannot_be_attached_is_an_error_and_nothing_is_attached(
    chat: Chat,
    server: WorkersAIServer,
    sessions_dir: Path,
    workdir: Path,
    make: Any,
    typed: str,
    error: str,
) -> None:
    make(workdir)
    chat.type(f"/file {typed}")
    assert chat.output() == ("", error)
    assert "attached" not in chat.repl._toolbar()
    chat.type("hi")
    assert server.last_body == body(said("user", "hi"))


# --- /export ---


def test_export_writes_the_conversation_as_markdown(
    chat: Chat, server: WorkersAIServer, workdir: Path
) -> None:
    chat.type("/system Be brief.", "hi", "/export")
    name = f"{today()}-hi"
    assert chat.output() == (
        ANSWER,
        f"wai: system message set\nwai: exported 3 messages to {name}.md\n",
    )
    exported = workdir / f"{name}.md"
    expected = f"# hi\n\n## System\n\nBe brief.\n\n## User\n\nhi\n\n## Assistant\n\n{ANSWER}\n"
    assert exported.read_text() == expected
    assert exported.stat().st_mode & 0o777 == 0o600

    # The default name is never overwritten: the next export takes the next free name.
    chat.type("/export")
    assert chat.output() == ("", f"wai: exported 3 messages to {name}-2.md\n")
    assert (workdir / f"{name}-2.md").read_text() == expected
    assert exported.read_text() == expected


def test_export_to_a_file_named(chat: Chat, server: WorkersAIServer, workdir: Path) -> None:
    chat.type("hi", "/export out/chat.md")
    assert chat.output() == (ANSWER, "wai: exported 2 messages to out/chat.md\n")
    assert (workdir / "out" / "chat.md").read_text() == (
        f"# hi\n\n## User\n\nhi\n\n## Assistant\n\n{ANSWER}\n"
    )
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["chat.md"]  # no temp left


def test_export_refuses_to_overwrite_a_file(
    chat: Chat, server: WorkersAIServer, workdir: Path
) -> None:
    (workdir / "mine.md").write_text("my own notes\n")
    chat.type("hi", "/export mine.md")
    assert chat.output() == (
        ANSWER,
        "wai: error: mine.md exists already; /export does not overwrite a file\n"
        "hint: name another file, or remove that one first\n",
    )
    assert (workdir / "mine.md").read_text() == "my own notes\n"


def test_export_of_an_empty_conversation_is_an_error(
    chat: Chat, server: WorkersAIServer, workdir: Path
) -> None:
    chat.type("/export")
    assert chat.output() == ("", "wai: error: there is nothing to export yet\n")
    assert list(workdir.iterdir()) == []


# --- completion ---


def completions(chat: Chat, text: str) -> list[str]:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    completer = chat.repl._prompt_session(None).completer
    found = completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    return [completion.text for completion in found]


def test_tab_completes_commands_and_their_arguments(
    server: WorkersAIServer, sessions_dir: Path, config_file: Path, isolated: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        '[backends.work]\ntype = "cloudflare"\n\n[roles.reviewer]\nsystem = "You review."\n'
    )
    cache = isolated / "cache"
    cache.mkdir()
    (cache / "models-cloudflare.json").write_text(
        json.dumps(
            {
                "format": "wai.models/1",
                "fetched": "2020-01-01T00:00:00+00:00",  # old: still good for completing
                "backend": "cloudflare",
                "models": [{"id": "@cf/meta/llama-3.1-8b-instruct"}, {"id": "@cf/qwen/qwq"}],
            }
        )
    )
    chat = Chat()
    chat.type("older", "/new", "newer")  # two sessions, the newer one last
    chat.output()

    assert completions(chat, "/lo") == ["/load"]
    assert completions(chat, "/load ") == [f"{today()}-newer", f"{today()}-older"]
    assert completions(chat, "/load  ") == [f"{today()}-newer", f"{today()}-older"]
    assert completions(chat, f"/load {today()}-o") == [f"{today()}-older"]
    assert completions(chat, "/model @cf/") == [
        "@cf/meta/llama-3.1-8b-instruct",
        "@cf/qwen/qwq",
    ]
    assert completions(chat, "/model @hf") == [DEFAULT_MODEL]  # the current one
    assert completions(chat, "/set t") == ["temperature", "top_p", "top_k"]
    assert completions(chat, "/set temperature 0") == []  # the value is the user's
    assert completions(chat, "/backend ") == [
        "cloudflare",
        "llamacpp",
        "ollama",
        "vllm",
        "lmstudio",
        "work",
    ]
    assert completions(chat, "/role ") == ["reviewer"]
    assert completions(chat, "hello /lo") == []  # a message, not a command
    assert completions(chat, "//lo") == []
    assert completions(chat, "/nope ") == []


def test_completing_a_model_with_no_cache_offers_the_current_one(
    chat: Chat, server: WorkersAIServer
) -> None:
    assert completions(chat, "/model ") == [DEFAULT_MODEL]
    assert server.requests == []  # completing never asks the network


# --- the model shown, on a local server with no model named ---


def local_chat(openai_server: OpenAIServer, config_file: Path) -> Chat:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(
        f'[backends.local]\ntype = "openai"\nbase_url = "{openai_server.base_url}"\n'
    )
    return Chat(Overrides(backend="local"))


def test_the_local_servers_first_model_is_shown_once_known(
    openai_server: OpenAIServer, config_file: Path, isolated: Path
) -> None:
    chat = local_chat(openai_server, config_file)
    assert chat.repl._toolbar().startswith(" local · (first model the server lists) · ")
    chat.type("/model", "/backend")
    assert chat.output() == (
        "(first model the server lists)\nlocal (model (first model the server lists))\n",
        "",
    )
    assert openai_server.calls == []  # showing it asked nothing

    chat.type("hi")
    chat.output()
    assert chat.repl._toolbar().startswith(f" local · {MODELS[0]} · {today()}-hi · ")
    chat.type("/model", "/backend")
    assert chat.output() == (f"{MODELS[0]}\nlocal (model {MODELS[0]})\n", "")
    # ... and after any change that resolves the settings again
    chat.type("/set temperature 0.5", "/model")
    assert chat.output() == (f"{MODELS[0]}\n", "wai: temperature = 0.5\n")


# --- /history's pager ---


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def history_on_a_small_terminal(monkeypatch: pytest.MonkeyPatch, **environ: str) -> Chat:
    """A chat of three exchanges, its stdout a 5-row terminal: /history needs the pager."""
    monkeypatch.setenv("LINES", "5")
    monkeypatch.setenv("COLUMNS", "80")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    chat = Chat()
    chat.type("one", "two", "three")
    chat.output()
    chat.env.stdout = Terminal()
    return chat


def test_a_pager_that_cannot_run_is_a_notice_and_the_history_is_printed(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = history_on_a_small_terminal(monkeypatch, PAGER="/nonexistent/pager -R")
    chat.type("/history")
    stdout, stderr = chat.output()
    assert stderr == (
        "wai: could not run the pager /nonexistent/pager -R (No such file or directory); "
        "check $PAGER\n"
    )
    shown = [SGR.sub("", line).rstrip() for line in stdout.splitlines()]
    assert shown == ["› one", ANSWER, "› two", ANSWER, "› three", ANSWER]


def test_the_users_less_options_are_kept(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pager = tmp_path / "pager.sh"
    pager.write_text(f"#!/bin/sh\necho \"$LESS\" > '{tmp_path}/less'\ncat > '{tmp_path}/paged'\n")
    pager.chmod(0o755)
    chat = history_on_a_small_terminal(monkeypatch, PAGER=str(pager), LESS="-FX")
    chat.type("/history")
    assert chat.output() == ("", "")
    assert (tmp_path / "less").read_text() == "-FX\n"
    paged = [SGR.sub("", line).rstrip() for line in (tmp_path / "paged").read_text().splitlines()]
    assert paged == ["› one", ANSWER, "› two", ANSWER, "› three", ANSWER]
