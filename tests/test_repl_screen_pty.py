"""What `wai chat` shows on a real pseudo-terminal, typed into as a person would and read back
through a terminal emulator (pyte): resumed and listed exchanges drawn as live ones, `/history`
through a pager, every message sent shown, the completion menus, the start hint, and `/copy`,
`/file`, `/export` at a terminal."""

from __future__ import annotations

import base64
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pexpect
import pyte

from tests.conftest import default_sigint
from tests.render.test_reasoning import DimScreen
from tests.servers.workers_ai import WorkersAIServer
from tests.test_repl_pty import PROMPT, session_file

ROWS, COLUMNS = 30, 100
LONG_ANSWER = "Some *stars* and a long line " + "lorem ipsum dolor " * 10 + "\n\n- item\n"
LOREM = "lorem ipsum dolor"
LONG_ANSWER_LINES = [  # as Rich draws it 100 columns wide: broken between words
    f"Some stars and a long line {' '.join([LOREM] * 4)}",
    f"{' '.join([LOREM] * 5)} lorem",
    "ipsum dolor",
    "",
    " • item",
]
BRACKETED_PASTE = "\x1b[?2004h"
HINT = "/help · Alt-Enter new line · Ctrl-D to leave"


def spawn(
    *args: str, command: str | None = None, environ: dict[str, str] | None = None
) -> tuple[pexpect.spawn, io.StringIO]:
    """`wai chat ARGS` (or a shell `command`) in a ROWS x COLUMNS terminal; the second value
    collects everything it writes."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "PAGER", "LESS")}
    env.update({"TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1", **(environ or {})})
    program, argv = (
        ("sh", ["-c", command]) if command else (sys.executable, ["-m", "wai", "chat", *args])
    )
    child = pexpect.spawn(
        program,
        argv,
        env=env,
        dimensions=(ROWS, COLUMNS),
        encoding="utf-8",
        preexec_fn=default_sigint,
        timeout=30,
    )
    child.logfile_read = written = io.StringIO()
    return child, written


def leave(child: pexpect.spawn, written: io.StringIO) -> str:
    """Ctrl-D at the prompt; the child's whole output, once it has exited cleanly."""
    at_prompt(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    raw = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (0, None), raw
    assert "Traceback" not in raw
    return raw


def at_prompt(child: pexpect.spawn) -> None:
    """Wait until the prompt reads keys: prompt-toolkit turns bracketed paste on as it starts
    (in raw mode already). A key sent before then would be echoed by the terminal itself."""
    child.expect_exact(BRACKETED_PASTE)


def screen_of(raw: str) -> list[list[Any]]:
    """Scrollback then screen, each row as pyte's characters (dim kept as strikethrough); the
    empty rows at the end dropped."""
    screen = DimScreen(COLUMNS, ROWS, history=10_000)
    pyte.Stream(screen).feed(raw)
    rows = [
        [row[x] for x in range(COLUMNS)]
        for row in [*screen.history.top, *(screen.buffer[y] for y in range(ROWS))]
    ]
    while rows and not text_of(rows[-1]):
        rows.pop()
    return rows


def text_of(row: list[Any]) -> str:
    return "".join(char.data for char in row).rstrip()


def texts(rows: list[list[Any]]) -> list[str]:
    return [text_of(row) for row in rows]


def dim(row: list[Any]) -> bool:
    shown = [char for char in row if char.data != " "]
    return bool(shown) and all(char.strikethrough for char in shown)


def write_session(isolated: Path, name: str, messages: list[dict[str, Any]]) -> Path:
    directory = isolated / "data" / "sessions"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    document = {
        "format": "wai.session/1",
        "name": name,
        "created": "2026-01-02T03:04:05.000Z",
        "updated": "2026-01-02T03:04:05.000Z",
        "backend": "cloudflare",
        "model": "@hf/thebloke/mistral-7b-instruct-v0.1-awq",
        "params": {},
        "messages": messages,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


# --- resumed and listed exchanges look like live ones ---


def test_history_and_a_resumed_session_look_like_the_live_exchange(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.tokens = (LONG_ANSWER,)
    child, written = spawn("--session", "look")
    at_prompt(child)
    child.send("two\x1b\rlines\r")
    child.expect("item")
    at_prompt(child)
    child.send("/history\r")
    child.expect("item")
    live = screen_of(leave(child, written))
    exchange = ["› two", "… lines", *LONG_ANSWER_LINES]
    assert texts(live) == [HINT, *exchange, "› /history", *exchange, PROMPT]
    assert live[9:16] == live[1:8]  # the same characters, with the same colours and styles
    stars = [live[3][x].italics for x in range(4, 12)]  # "Some *stars* and"
    assert stars == [False, True, True, True, True, True, False, False]  # italic, as live

    # A new process continuing the session shows the exchange as it was drawn.
    child, written = spawn("-c")
    resumed = screen_of(leave(child, written))
    assert texts(resumed) == ["wai: session look: 1 turn; the last ones:", *exchange, PROMPT]
    assert resumed[1:8] == live[1:8]


def test_a_resumed_interrupted_answer_is_marked_quietly_and_its_controls_are_shown(
    server: WorkersAIServer, isolated: Path
) -> None:
    write_session(
        isolated,
        "cut",
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "say \x1b[2J hi"},
            {
                "role": "assistant",
                "content": "Partial **answer** \x1b]0;owned\x07",
                "meta": {"interrupted": True},
            },
        ],
    )
    child, written = spawn("-c")
    raw = leave(child, written)
    rows = screen_of(raw)
    assert texts(rows) == [
        "wai: session cut: 1 turn; the last ones:",
        "› say ^[[2J hi",
        "Partial answer ^[]0;owned^G",
        "[interrupted]",
        PROMPT,
    ]
    assert dim(rows[3]) and not dim(rows[2])
    assert [rows[2][x].bold for x in range(8, 14)] == [True] * 6  # **answer**
    assert "\x1b]0;" not in raw and "\x1b[2J" not in raw


# --- /history through a pager ---


def long_session(isolated: Path) -> None:
    messages = []
    for number in range(1, 21):
        messages += [
            {"role": "user", "content": f"question {number}"},
            {"role": "assistant", "content": f"Answer *{number}*."},
        ]
    write_session(isolated, "long", messages)


def test_history_longer_than_the_screen_goes_through_pager(
    server: WorkersAIServer, isolated: Path
) -> None:
    long_session(isolated)
    paged, less = isolated / "paged.txt", isolated / "less.txt"
    pager = isolated / "pager.sh"
    pager.write_text(f"#!/bin/sh\necho \"$LESS\" > '{less}'\ncat > '{paged}'\n")
    pager.chmod(0o755)
    child, written = spawn("-c", environ={"PAGER": str(pager)})
    at_prompt(child)
    child.send("/history\r")
    raw = leave(child, written)
    assert less.read_text() == "R\n"  # less would keep the colours
    text = paged.read_text()
    assert "\x1b[3m" in text  # the italics went to the pager
    expected: list[str] = []
    for number in range(1, 21):
        expected += [f"› question {number}", f"Answer {number}."]
    screen = pyte.Screen(COLUMNS, 50)
    pyte.Stream(screen).feed(text.replace("\n", "\r\n"))
    assert [line.rstrip() for line in screen.display][:41] == [*expected, ""]
    shown = texts(screen_of(raw))  # on the terminal: only what came before and after
    assert shown[-2:] == ["› /history", PROMPT]
    assert "› question 1" not in shown


def test_history_through_less_when_pager_is_not_set(
    server: WorkersAIServer, isolated: Path
) -> None:
    long_session(isolated)
    child, written = spawn("-c")
    at_prompt(child)
    child.send("/history\r")
    child.expect("question 3")  # less draws the first screenful (the chat showed 19 and 20)
    child.send("q")
    raw = leave(child, written)
    assert "ESC[" not in raw  # less was told to pass the escape codes through (LESS=R)


def test_history_shorter_than_the_screen_is_printed(
    server: WorkersAIServer, isolated: Path
) -> None:
    write_session(
        isolated,
        "short",
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello"}],
    )
    child, written = spawn("-c", environ={"PAGER": "false"})
    at_prompt(child)
    child.send("/history\r")
    assert texts(screen_of(leave(child, written))) == [
        "wai: session short: 1 turn; the last ones:",
        "› hi",
        "Hello",
        "› /history",
        "› hi",
        "Hello",
        PROMPT,
    ]


# --- every message sent is shown ---


def test_piped_text_is_shown_as_a_typed_message(server: WorkersAIServer, isolated: Path) -> None:
    child, written = spawn(
        command=f"printf 'my notes\\nline 2' | {sys.executable} -m wai chat --session piped"
    )
    child.expect("Hello, world!")
    assert texts(screen_of(leave(child, written))) == [
        "› my notes",
        "… line 2",
        "Hello, world!",
        PROMPT,
    ]
    messages = session_file(isolated, "piped")["messages"]
    assert [m["content"] for m in messages] == ["my notes\nline 2", "Hello, world!"]


def test_an_edited_message_is_shown_as_a_typed_one(server: WorkersAIServer, isolated: Path) -> None:
    editor = isolated / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'line one\\nline two\\n' > \"$1\"\n")
    editor.chmod(0o755)
    child, written = spawn(environ={"EDITOR": str(editor)})
    at_prompt(child)
    child.send("/edit\r")
    child.expect("Hello, world!")
    assert texts(screen_of(leave(child, written)))[1:] == [
        "› /edit",
        "› line one",
        "… line two",
        "Hello, world!",
        PROMPT,
    ]
    assert server.last_body["messages"] == [{"role": "user", "content": "line one\nline two"}]


# --- the start hint ---


def test_a_new_session_starts_with_a_dim_hint(server: WorkersAIServer) -> None:
    child, written = spawn()
    rows = screen_of(leave(child, written))
    assert texts(rows) == [HINT, PROMPT]
    assert dim(rows[0])


def test_the_hint_is_plain_with_no_color(server: WorkersAIServer) -> None:
    child, written = spawn(environ={"NO_COLOR": "1"})
    raw = leave(child, written)
    assert f"{HINT}\r\n" in raw and f"\x1b[2m{HINT}" not in raw


# --- completion menus ---


def test_tab_completes_session_names_in_a_menu(server: WorkersAIServer, isolated: Path) -> None:
    for age, name in enumerate(("alpha-two", "alpha-one")):
        path = write_session(
            isolated,
            name,
            [{"role": "user", "content": name}, {"role": "assistant", "content": "ok"}],
        )
        os.utime(path, (1_700_000_000 - age, 1_700_000_000 - age))  # the newest first
    child, written = spawn()
    at_prompt(child)
    child.send("/load \t")
    child.expect("alpha-one")  # the menu's last line
    so_far = written.getvalue()
    menu = texts(screen_of(so_far[: len(so_far) - len(child.buffer)]))
    assert menu[1] == "› /load alpha-"  # the common part, inserted
    assert [line.strip() for line in menu[2:]] == ["alpha-two", "alpha-one"]
    child.send("\t\r")  # Tab again picks the first candidate; Enter sends the line
    child.expect("session alpha-two: 1 turn;")
    at_prompt(child)
    child.sendeof()
    child.expect(pexpect.EOF)


# --- /copy, /file, /export at a terminal ---


def test_copy_writes_the_osc52_sequence_to_the_terminal(server: WorkersAIServer) -> None:
    child, written = spawn()
    at_prompt(child)
    child.send("hi\r")
    child.expect("Hello, world!")
    at_prompt(child)
    child.send("/copy\r")
    child.expect("copied the answer")
    raw = leave(child, written)
    sequence = "\x1b]52;c;" + base64.b64encode(b"Hello, world!").decode() + "\x07"
    assert raw.count(sequence) == 1
    assert "wai: copied the answer (13 characters)" in texts(screen_of(raw))


def test_file_and_export_at_the_terminal(
    server: WorkersAIServer, isolated: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "a.txt").write_text("alpha\n")
    child, written = spawn(command=f"cd '{work}' && exec {sys.executable} -m wai chat")
    at_prompt(child)
    child.send("/file a.txt\r")
    child.expect("it goes with your next message")
    at_prompt(child)
    child.send("what is it?\r")
    child.expect("Hello, world!")
    at_prompt(child)
    child.send("/export chat.md\r")
    child.expect("exported 2 messages to chat.md")
    raw = leave(child, written)
    sent = "```a.txt\nalpha\n```\n\nwhat is it?"
    assert server.last_body["messages"] == [{"role": "user", "content": sent}]
    assert (work / "chat.md").read_text() == (
        "# ```a.txt alpha ``` what is it?\n\n## User\n\n" + sent + "\n\n## Assistant\n\n"
        "Hello, world!\n"
    )
    assert "wai: attached a.txt (6 characters); it goes with your next message" in texts(
        screen_of(raw)
    )
