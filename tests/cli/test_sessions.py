"""`wai sessions list|show|rm|prune|rename|export|path` end to end: exact output, exit codes,
files."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.conftest import Run, complete, wai
from tests.servers.workers_ai import DEFAULT_MODEL, Reply, WorkersAIServer, sse, token_events

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
SKY = "2026-11-20-why-is-the-sky-blue"
LONG_QUESTION = "please summarise the following meeting notes into three bullet points for the team"
BROKEN = b'{"format": "wai.session/1", "messages": [\n'
BROKEN_WHY = "not valid JSON (Expecting value: line 2 column 1 (char 42))"
NOT_OVERWRITTEN = "hint: fix or move the file by hand; wai will not overwrite it\n"
LIST_HINT = "hint: `wai sessions list` shows the sessions\n"


@pytest.fixture(autouse=True)
def five_hours_behind_utc() -> Iterator[None]:
    """Local time is UTC-5 (a POSIX TZ, no tz database needed), so the conversion shows."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "EST+5"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def sessions_dir(isolated: Path) -> Path:
    return isolated / "data" / "sessions"


def document(
    name: str,
    updated: str,
    messages: list[dict[str, Any]],
    model: str | None = DEFAULT_MODEL,
    backend: str | None = "cloudflare",
) -> dict[str, Any]:
    return {
        "format": "wai.session/1",
        "name": name,
        "created": "2026-11-01T08:00:00.000Z",
        "updated": updated,
        "backend": backend,
        "model": model,
        "params": {"temperature": 0.6},
        "messages": messages,
    }


def write_session(directory: Path, name: str, *args: Any, **kwargs: Any) -> bytes:
    """Write a session file the way wai writes it; returns its bytes."""
    text = json.dumps(document(name, *args, **kwargs), ensure_ascii=False, indent=2) + "\n"
    return write_file(directory / f"{name}.json", text.encode())


def write_file(path: Path, data: bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def files(directory: Path) -> dict[str, bytes]:
    """The session directory's files (the lock file aside), name → bytes."""
    if not directory.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.name != ".lock"}


def said(role: str, content: str, **meta: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, "content": content}
    if meta:
        message["meta"] = meta
    return message


WORK_MESSAGES = [
    said("system", "You review code."),
    said("user", "any bugs?\n\n```py\nx = 1\n```", time="2026-11-26T13:20:00.000Z"),
    said("assistant", "None.\n", time="2026-11-26T13:20:02.000Z", model=LLAMA),
    said("user", "and the style?"),
    said("assistant", "The names are", interrupted=True, model=LLAMA),
]


@pytest.fixture
def three(sessions_dir: Path) -> dict[str, bytes]:
    """Three hand-written sessions with known times, models and messages."""
    write_session(
        sessions_dir,
        SKY,
        "2026-11-20T09:15:00.000Z",
        [said("user", "why is the sky blue?"), said("assistant", "Rayleigh scattering.")],
    )
    write_session(sessions_dir, "work", "2026-11-26T13:28:32.500Z", WORK_MESSAGES, model=LLAMA)
    write_session(
        sessions_dir,
        "local-notes",
        "2026-11-25T02:00:00.000Z",
        [said("user", LONG_QUESTION), said("assistant", "- one\n- two\n- three")],
        model="qwen2.5:7b",
        backend="ollama",
    )
    return files(sessions_dir)


def assert_run(run: Run, exit_code: int, stdout: str = "", stderr: str = "") -> None:
    assert (run.exit_code, run.stdout, run.stderr) == (exit_code, stdout, stderr)


def unknown(name: str) -> str:
    return f"wai: error: no session named {name!r}\n" + LIST_HINT


def cannot_read(path: Path, why: str = BROKEN_WHY) -> str:
    return f"wai: error: cannot read the session file {path}: {why}\n" + NOT_OVERWRITTEN


# --- list -------------------------------------------------------------------------------------


def test_list_without_sessions_is_a_notice(sessions_dir: Path) -> None:
    assert_run(wai("sessions", "list"), 0, stderr=f"wai: no sessions yet in {sessions_dir}\n")
    assert not sessions_dir.exists()


def test_list_json_without_sessions_is_an_empty_list(sessions_dir: Path) -> None:
    assert_run(wai("sessions", "list", "--json"), 0, stdout="[]\n")


TABLE = """\
NAME                            UPDATED           MODEL                                      TURNS  TITLE
work                            2026-11-26 08:28  @cf/meta/llama-3.1-8b-instruct                 2  any bugs? ```py x = 1 ```
local-notes                     2026-11-24 21:00  qwen2.5:7b                                     1  please summarise the following meeting notes into three bul…
2026-11-20-why-is-the-sky-blue  2026-11-20 04:15  @hf/thebloke/mistral-7b-instruct-v0.1-awq      1  why is the sky blue?
"""  # noqa: E501


def test_list_is_a_table_most_recent_first_in_local_time(
    sessions_dir: Path, three: dict[str, bytes]
) -> None:
    assert_run(wai("sessions", "list"), 0, stdout=TABLE)
    assert files(sessions_dir) == three


def test_list_on_a_narrow_terminal_cuts_long_lines(three: dict[str, bytes]) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "wai", "sessions", "list"],
        env={**os.environ, "COLUMNS": "", "LINES": ""},
        dimensions=(24, 60),
        encoding="utf-8",
        timeout=30,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert child.before.replace("\r\n", "\n") == "".join(
        line[:59] + "…\n" for line in TABLE.splitlines()
    )


def test_list_and_plain_show_load_no_rich(three: dict[str, bytes]) -> None:
    from tests.test_startup import loaded_modules

    assert loaded_modules("sessions", "list") == []
    assert loaded_modules("sessions", "show", "work") == []
    assert loaded_modules("sessions", "export", "work") == []


def test_list_json(three: dict[str, bytes]) -> None:
    run = wai("sessions", "list", "--json")
    assert (run.exit_code, run.stderr) == (0, "")
    assert json.loads(run.stdout) == [
        {
            "name": "work",
            "updated": "2026-11-26T13:28:32.500Z",
            "model": LLAMA,
            "backend": "cloudflare",
            "turns": 2,
            "title": "any bugs? ```py x = 1 ```",
        },
        {
            "name": "local-notes",
            "updated": "2026-11-25T02:00:00.000Z",
            "model": "qwen2.5:7b",
            "backend": "ollama",
            "turns": 1,
            "title": LONG_QUESTION[:59] + "…",
        },
        {
            "name": SKY,
            "updated": "2026-11-20T09:15:00.000Z",
            "model": DEFAULT_MODEL,
            "backend": "cloudflare",
            "turns": 1,
            "title": "why is the sky blue?",
        },
    ]
    assert run.stdout == json.dumps(json.loads(run.stdout), ensure_ascii=False, indent=2) + "\n"


def test_list_orders_equal_times_by_name_and_reads_other_offsets(sessions_dir: Path) -> None:
    hello = [said("user", "hello")]
    write_session(sessions_dir, "b", "2026-11-26T10:00:00.000Z", hello, model=None, backend=None)
    write_session(sessions_dir, "a", "2026-11-26T10:00:00.000Z", hello)
    write_session(sessions_dir, "c", "2026-11-26T12:30:00+02:00", [])  # 10:30 UTC: the newest
    write_session(sessions_dir, "d", "not a time", hello)
    assert_run(
        wai("sessions", "list"),
        0,
        stdout="""\
NAME  UPDATED           MODEL                                      TURNS  TITLE
c     2026-11-26 05:30  @hf/thebloke/mistral-7b-instruct-v0.1-awq      0
a     2026-11-26 05:00  @hf/thebloke/mistral-7b-instruct-v0.1-awq      1  hello
b     2026-11-26 05:00  -                                              1  hello
d     not a time        @hf/thebloke/mistral-7b-instruct-v0.1-awq      1  hello
""",
    )


def test_list_skips_broken_files_with_one_warning_each(
    sessions_dir: Path, three: dict[str, bytes]
) -> None:
    broken = write_file(sessions_dir / "broken.json", BROKEN)
    newer = write_file(sessions_dir / "newer.json", b'{"format": "wai.session/2"}\n')
    odd = write_file(sessions_dir / "odd.json", b'{"format": "wai.session/1", "messages": [1]}')
    params = dict(document("params", "2026-11-26T00:00:00.000Z", []), params=5)
    bad_params = write_file(sessions_dir / "params.json", json.dumps(params).encode())
    ignored = write_file(sessions_dir / "Not A Slug.json", b"whatever")
    run = wai("sessions", "list", "--json")
    assert run.exit_code == 0
    assert [entry["name"] for entry in json.loads(run.stdout)] == ["work", "local-notes", SKY]
    assert run.stderr == (
        f"wai: warning: cannot read the session file {sessions_dir / 'broken.json'}: "
        f"{BROKEN_WHY}; skipped\n"
        f"wai: warning: {sessions_dir / 'newer.json'} is a session in format wai.session/2, "
        "newer than this wai understands (wai.session/1); skipped\n"
        f"wai: warning: cannot read the session file {sessions_dir / 'odd.json'}: "
        "messages must be a list of {role, content} objects; skipped\n"
        f"wai: warning: cannot read the session file {sessions_dir / 'params.json'}: "
        "params must be an object; skipped\n"
    )
    assert files(sessions_dir) == {
        **three,
        "Not A Slug.json": ignored,
        "broken.json": broken,
        "newer.json": newer,
        "odd.json": odd,
        "params.json": bad_params,
    }


def test_list_with_only_broken_files_warns_then_says_there_are_none(sessions_dir: Path) -> None:
    write_file(sessions_dir / "broken.json", BROKEN)
    assert_run(
        wai("sessions", "list"),
        0,
        stderr=(
            f"wai: warning: cannot read the session file {sessions_dir / 'broken.json'}: "
            f"{BROKEN_WHY}; skipped\n"
            f"wai: no sessions yet in {sessions_dir}\n"
        ),
    )


def test_list_shows_sessions_that_ask_saved(server: WorkersAIServer, sessions_dir: Path) -> None:
    assert wai("ask", "--session", "alpha", "hi").exit_code == 0
    assert wai("ask", "why is the sky blue?").exit_code == 0
    assert wai("ask", "--session", "alpha", "and again").exit_code == 0
    one_shot = f"{date.today():%Y-%m-%d}-why-is-the-sky-blue"
    saved = {name: json.loads(files(sessions_dir)[f"{name}.json"]) for name in ("alpha", one_shot)}
    run = wai("sessions", "list", "--json")
    assert (run.exit_code, run.stderr) == (0, "")
    entries = json.loads(run.stdout)
    assert entries == [
        {
            "name": name,
            "updated": saved[name]["updated"],
            "model": DEFAULT_MODEL,
            "backend": "cloudflare",
            "turns": turns,
            "title": title,
        }
        for name, turns, title in [("alpha", 2, "hi"), (one_shot, 1, "why is the sky blue?")]
    ]
    assert saved["alpha"]["updated"] > saved[one_shot]["updated"]
    table = wai("sessions", "list").stdout.splitlines()
    assert [line.split()[0] for line in table] == ["NAME", "alpha", one_shot]


# --- show -------------------------------------------------------------------------------------

WORK_TRANSCRIPT = (
    f"work · {LLAMA} (cloudflare) · 2 turns · updated 2026-11-26 08:28\n"
    "\n── System\nYou review code.\n"
    "\n── User\nany bugs?\n\n```py\nx = 1\n```\n"
    "\n── Assistant\nNone.\n"
    "\n── User\nand the style?\n"
    "\n── Assistant\nThe names are\n[interrupted]\n"
)


def test_show_prints_the_transcript(sessions_dir: Path, three: dict[str, bytes]) -> None:
    assert_run(wai("sessions", "show", "work"), 0, stdout=WORK_TRANSCRIPT)
    assert_run(wai("sessions", "show", "--plain", "work"), 0, stdout=WORK_TRANSCRIPT)
    assert files(sessions_dir) == three


def test_show_without_model_or_answers(sessions_dir: Path) -> None:
    write_session(sessions_dir, "empty", "2026-11-26T10:00:00Z", [], model=None, backend=None)
    assert_run(
        wai("sessions", "show", "empty"), 0, stdout="empty · 0 turns · updated 2026-11-26 05:00\n"
    )
    write_session(sessions_dir, "one", "2026-11-26T10:00:00Z", [said("user", "q")], backend=None)
    assert_run(
        wai("sessions", "show", "one"),
        0,
        stdout=f"one · {DEFAULT_MODEL} · 1 turn · updated 2026-11-26 05:00\n\n── User\nq\n",
    )


def test_show_json_prints_the_document_itself(sessions_dir: Path, three: dict[str, bytes]) -> None:
    run = wai("sessions", "show", "work", "--json")
    assert_run(run, 0, stdout=three["work.json"].decode())
    assert json.loads(run.stdout)["messages"] == WORK_MESSAGES
    assert files(sessions_dir) == three


def test_show_json_keeps_keys_this_wai_does_not_know(sessions_dir: Path) -> None:
    data = document("x", "2026-11-26T10:00:00Z", [said("user", "q")])
    data["tags"] = ["later"]
    write_file(sessions_dir / "x.json", json.dumps(data).encode())
    run = wai("sessions", "show", "--json", "x")
    assert run.exit_code == 0
    assert json.loads(run.stdout) == data
    assert list(json.loads(run.stdout)) == list(data)


def test_show_what_ask_saved_and_an_interrupted_answer(
    server: WorkersAIServer, sessions_dir: Path
) -> None:
    assert wai("ask", "--session", "story", "-s", "Be brief.", "hi").exit_code == 0
    server.enqueue(Reply.stream(sse(*token_events(["Once", " upon"]), done=False), cut=True))
    assert wai("ask", "--session", "story", "tell me a story").exit_code == 4
    saved = files(sessions_dir)["story.json"]
    updated = datetime.fromisoformat(json.loads(saved)["updated"]).astimezone()
    assert_run(
        wai("sessions", "show", "story"),
        0,
        stdout=(
            f"story · {DEFAULT_MODEL} (cloudflare) · 2 turns · "
            f"updated {updated:%Y-%m-%d %H:%M}\n"
            "\n── System\nBe brief.\n"
            "\n── User\nhi\n"
            "\n── Assistant\nHello, world!\n"
            "\n── User\ntell me a story\n"
            "\n── Assistant\nOnce upon\n[interrupted]\n"
        ),
    )
    assert_run(wai("sessions", "show", "--json", "story"), 0, stdout=saved.decode())
    assert files(sessions_dir) == {"story.json": saved}


@pytest.mark.parametrize("command", ["show", "export", "path"])
@pytest.mark.parametrize("name", ["nope", "../data/sessions/work", "Work"])
def test_unknown_names_are_usage_errors(
    sessions_dir: Path, three: dict[str, bytes], command: str, name: str
) -> None:
    assert_run(wai("sessions", command, name), 2, stderr=unknown(name))
    assert files(sessions_dir) == three


@pytest.mark.parametrize(
    "args", [["show"], ["show", "--json"], ["export"], ["export", "--format", "json"]]
)
def test_a_broken_file_is_exit_3_and_left_alone(sessions_dir: Path, args: list[str]) -> None:
    path = sessions_dir / "broken.json"
    write_file(path, BROKEN)
    assert_run(wai("sessions", *args, "broken"), 3, stderr=cannot_read(path))
    assert files(sessions_dir) == {"broken.json": BROKEN}


def test_a_newer_format_is_exit_3_and_left_alone(sessions_dir: Path) -> None:
    path = sessions_dir / "newer.json"
    newer = write_file(path, b'{"format": "wai.session/2", "messages": {}}')
    assert_run(
        wai("sessions", "show", "newer"),
        3,
        stderr=(
            f"wai: error: {path} is a session in format wai.session/2, newer than this wai "
            "understands (wai.session/1)\n"
            "hint: upgrade wai to open it; the file was left untouched\n"
        ),
    )
    assert files(sessions_dir) == {"newer.json": newer}


def test_show_renders_answers_as_markdown_on_a_terminal(sessions_dir: Path) -> None:
    messages = [
        said("user", "say **this** literally"),
        said("assistant", "Some **bold** text.\n\n- one\n- two"),
        said("user", "more"),
        said("assistant", "Cut *off", interrupted=True),
    ]
    saved = write_session(sessions_dir, "md", "2026-11-26T10:00:00Z", messages)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "wai", "sessions", "show", "md"],
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "40"},
        dimensions=(40, 80),
        encoding="utf-8",
        timeout=30,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    text = screen_text(child.before)
    assert "── User" in text and "── Assistant" in text
    assert "say **this** literally" in text  # what the user typed is shown as typed
    assert "Some bold text." in text  # the answer is rendered
    assert "• one" in text and "• two" in text
    assert "[interrupted]" in text
    assert "\x1b[" in child.before  # styled
    assert files(sessions_dir) == {"md.json": saved}


def test_show_markdown_can_be_forced_and_plain_is_the_default_off_a_terminal(
    sessions_dir: Path,
) -> None:
    write_session(sessions_dir, "md", "2026-11-26T10:00:00Z", [said("assistant", "**bold**")])
    assert wai("sessions", "show", "md").stdout.endswith("── Assistant\n**bold**\n")
    run = wai("sessions", "show", "--markdown", "md", env={"COLUMNS": "80"})
    assert run.exit_code == 0
    assert "bold" in run.stdout
    assert "**" not in run.stdout


THOUGHTFUL = [
    said("user", "6 times 7?"),
    said("assistant", "42", reasoning="Six sevens.\nThat is 42.\n", finish_reason="stop"),
    said("user", "and 6 times 8?"),
    said("assistant", "", reasoning="Six eights", finish_reason="length"),
]


def test_show_reasoning_prints_each_answers_reasoning_before_it(sessions_dir: Path) -> None:
    saved = write_session(sessions_dir, "think", "2026-11-26T10:00:00Z", THOUGHTFUL)
    heading = f"think · {DEFAULT_MODEL} (cloudflare) · 2 turns · updated 2026-11-26 05:00\n"
    without = (
        "\n── User\n6 times 7?\n\n── Assistant\n42\n\n── User\nand 6 times 8?\n\n── Assistant\n"
    )
    assert_run(wai("sessions", "show", "think"), 0, stdout=heading + without)
    assert_run(
        wai("sessions", "show", "--reasoning", "think"),
        0,
        stdout=heading + "\n── User\n6 times 7?\n"
        "\n── Reasoning\nSix sevens.\nThat is 42.\n"
        "\n── Assistant\n42\n"
        "\n── User\nand 6 times 8?\n"
        "\n── Reasoning\nSix eights\n"
        "\n── Assistant\n",
    )
    assert files(sessions_dir) == {"think.json": saved}


def test_show_reasoning_on_a_terminal_is_dimmed(sessions_dir: Path) -> None:
    write_session(sessions_dir, "think", "2026-11-26T10:00:00Z", THOUGHTFUL)
    run = wai("sessions", "show", "--markdown", "--reasoning", "think", env={"COLUMNS": "80"})
    assert run.exit_code == 0
    assert "── Reasoning\nSix sevens.\nThat is 42.\n" in run.stdout  # no colour off a terminal
    dimmed = wai(
        "sessions",
        "show",
        "--markdown",
        "--reasoning",
        "think",
        env={"COLUMNS": "80", "FORCE_COLOR": "1"},
    )
    assert "\x1b[2mSix sevens.\x1b[0m" in dimmed.stdout


# --- export -----------------------------------------------------------------------------------

WORK_MARKDOWN = (
    "# any bugs? ```py x = 1 ```\n"
    "\n## System\n\nYou review code.\n"
    "\n## User\n\nany bugs?\n\n```py\nx = 1\n```\n"
    "\n## Assistant\n\nNone.\n"
    "\n## User\n\nand the style?\n"
    "\n## Assistant\n\nThe names are\n\n[interrupted]\n"
)


@pytest.mark.parametrize("args", [[], ["--format", "md"], ["-f", "md"]])
def test_export_markdown(sessions_dir: Path, three: dict[str, bytes], args: list[str]) -> None:
    assert_run(wai("sessions", "export", "work", *args), 0, stdout=WORK_MARKDOWN)
    assert files(sessions_dir) == three


def test_export_markdown_of_a_session_without_questions_is_titled_by_name(
    sessions_dir: Path,
) -> None:
    write_session(sessions_dir, "quiet", "2026-11-26T10:00:00Z", [said("system", "Hush.")])
    assert_run(wai("sessions", "export", "quiet"), 0, stdout="# quiet\n\n## System\n\nHush.\n")


@pytest.mark.parametrize("args", [["--format", "json"], ["-f", "json"]])
def test_export_json_is_the_document(three: dict[str, bytes], args: list[str]) -> None:
    assert_run(wai("sessions", "export", "work", *args), 0, stdout=three["work.json"].decode())


def test_export_what_ask_saved(server: WorkersAIServer, sessions_dir: Path) -> None:
    assert wai("ask", "--session", "alpha", "hi").exit_code == 0
    saved = files(sessions_dir)["alpha.json"]
    assert_run(wai("sessions", "export", "alpha", "-f", "json"), 0, stdout=saved.decode())
    assert_run(
        wai("sessions", "export", "alpha"),
        0,
        stdout="# hi\n\n## User\n\nhi\n\n## Assistant\n\nHello, world!\n",
    )


def test_export_refuses_an_unknown_format(three: dict[str, bytes]) -> None:
    run = wai("sessions", "export", "work", "--format", "html")
    assert (run.exit_code, run.stdout) == (2, "")
    assert "html" in run.stderr


# --- rm ---------------------------------------------------------------------------------------


def test_rm_yes_removes_the_sessions(sessions_dir: Path, three: dict[str, bytes]) -> None:
    assert_run(
        wai("sessions", "rm", "--yes", "work", SKY),
        0,
        stderr=f"wai: removed work\nwai: removed {SKY}\n",
    )
    assert files(sessions_dir) == {"local-notes.json": three["local-notes.json"]}
    assert_run(
        wai("sessions", "rm", "-y", "local-notes", "local-notes"),
        0,
        stderr="wai: removed local-notes\n",
    )
    assert files(sessions_dir) == {}


def test_rm_removes_a_broken_file(sessions_dir: Path) -> None:
    write_file(sessions_dir / "broken.json", BROKEN)
    assert_run(wai("sessions", "rm", "-y", "broken"), 0, stderr="wai: removed broken\n")
    assert files(sessions_dir) == {}


def test_rm_with_an_unknown_name_removes_nothing(
    sessions_dir: Path, three: dict[str, bytes]
) -> None:
    assert_run(wai("sessions", "rm", "-y", "nope"), 2, stderr=unknown("nope"))
    assert_run(
        wai("sessions", "rm", "-y", "work", "nope", SKY),
        2,
        stderr="wai: error: no session named 'nope'; nothing was removed\n" + LIST_HINT,
    )
    assert files(sessions_dir) == three
    assert_run(
        wai("sessions", "rm", "-y", "Bad!", "work", "nope"),
        2,
        stderr="wai: error: no session named 'Bad!' or 'nope'; nothing was removed\n" + LIST_HINT,
    )
    assert_run(
        wai("sessions", "rm", "a", "b", "c"),
        2,
        stderr="wai: error: no session named 'a', 'b' or 'c'; nothing was removed\n" + LIST_HINT,
    )
    assert files(sessions_dir) == three


def test_rm_without_yes_and_without_a_terminal_refuses(
    sessions_dir: Path, three: dict[str, bytes]
) -> None:
    assert_run(
        wai("sessions", "rm", "work", input="y\n"),
        2,
        stderr=(
            "wai: error: not removing without confirmation: stdin is not a terminal\n"
            "hint: add --yes (-y) to remove without asking\n"
        ),
    )
    assert files(sessions_dir) == three


def test_rm_needs_a_name() -> None:
    run = wai("sessions", "rm", "-y")
    assert (run.exit_code, run.stdout) == (2, "")


def spawn_wai(*args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable, ["-m", "wai", *args], env=dict(os.environ), encoding="utf-8", timeout=30
    )


def test_rm_asks_on_a_terminal(sessions_dir: Path, three: dict[str, bytes]) -> None:
    child = spawn_wai("sessions", "rm", "work", SKY, "local-notes")
    child.expect_exact("Remove session work? [y/N] ")
    child.sendline("y")
    child.expect_exact("wai: removed work")
    child.expect_exact(f"Remove session {SKY}? [y/N] ")
    child.sendline("")  # the default is no
    child.expect_exact("Remove session local-notes? [y/N] ")
    child.sendline("YES")
    child.expect_exact("wai: removed local-notes")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert files(sessions_dir) == {f"{SKY}.json": three[f"{SKY}.json"]}


def test_rm_on_a_terminal_keeps_the_session_on_ctrl_d(
    sessions_dir: Path, three: dict[str, bytes]
) -> None:
    child = spawn_wai("sessions", "rm", "work")
    child.expect_exact("Remove session work? [y/N] ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "removed" not in child.before
    assert files(sessions_dir) == three


# --- prune ------------------------------------------------------------------------------------


def ago(age: timedelta) -> str:
    """A session's `updated`, `age` before now, as wai writes it."""
    return (datetime.now(UTC) - age).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_aged(
    directory: Path, name: str, age: timedelta, turns: int = 1, *, one_shot: bool = False
) -> bytes:
    messages = []
    for turn in range(1, turns + 1):
        messages += [said("user", f"{name} question {turn}"), said("assistant", "An answer.")]
    written = document(name, ago(age), messages)
    if one_shot:
        written["one_shot"] = True
    text = json.dumps(written, indent=2) + "\n"
    return write_file(directory / f"{name}.json", text.encode())


@pytest.fixture
def aged(sessions_dir: Path) -> dict[str, bytes]:
    """Sessions of known ages, one-shots among them, and a file that cannot be read."""
    write_aged(sessions_dir, "old-one-shot", timedelta(days=40, hours=1), one_shot=True)
    write_aged(sessions_dir, "old-talk", timedelta(days=35, hours=2), turns=3)
    write_aged(sessions_dir, "fresh-one-shot", timedelta(hours=5, minutes=1), one_shot=True)
    write_aged(sessions_dir, "new-one-shot", timedelta(minutes=7, seconds=5), one_shot=True)
    # marked, but followed up by a wai that kept the mark: the turns tell
    write_aged(sessions_dir, "followed-up", timedelta(days=2, hours=1), turns=2, one_shot=True)
    write_aged(sessions_dir, "unmarked", timedelta(days=60), turns=1)  # from before the mark
    write_file(sessions_dir / "broken.json", BROKEN)
    return files(sessions_dir)


def skipped_broken(sessions_dir: Path) -> str:
    return (
        f"wai: warning: cannot read the session file {sessions_dir / 'broken.json'}: "
        f"{BROKEN_WHY}; skipped\n"
    )


def kept(before: dict[str, bytes], *names: str) -> dict[str, bytes]:
    return {name: data for name, data in before.items() if name.removesuffix(".json") in names}


def test_prune_older_than_removes_the_old_sessions(
    sessions_dir: Path, aged: dict[str, bytes]
) -> None:
    assert_run(
        wai("sessions", "prune", "--older-than", "30d", "-y"),
        0,
        stderr=skipped_broken(sessions_dir)
        + "NAME          AGE  TURNS  TITLE\n"
        + "old-talk      35d      3  old-talk question 1\n"
        + "old-one-shot  40d      1  old-one-shot question 1\n"
        + "unmarked      60d      1  unmarked question 1\n"
        + "wai: removed 3 sessions\n",
    )
    assert files(sessions_dir) == kept(
        aged, "broken", "fresh-one-shot", "new-one-shot", "followed-up"
    )


@pytest.mark.parametrize(
    ("age", "pruned"),
    [
        ("6w", ["unmarked"]),
        ("5w", ["old-talk", "old-one-shot", "unmarked"]),
        ("36d", ["old-one-shot", "unmarked"]),
        ("49h", ["followed-up", "old-talk", "old-one-shot", "unmarked"]),
        ("6m", None),
    ],
)
def test_prune_ages_in_hours_days_and_weeks(
    sessions_dir: Path, aged: dict[str, bytes], age: str, pruned: list[str] | None
) -> None:
    run = wai("sessions", "prune", "--older-than", age, "--yes")
    if pruned is None:
        assert (run.exit_code, run.stdout) == (2, "")
        assert run.stderr == (
            f"wai: error: --older-than takes an age like 30d, 12h or 2w, not {age!r}\n"
            "hint: h: hours, d: days, w: weeks\n"
        )
        assert files(sessions_dir) == aged
        return
    assert run.exit_code == 0
    listed = run.stderr.splitlines()[2:-1]  # after the warning and the header
    assert [line.split()[0] for line in listed] == pruned
    assert set(files(sessions_dir)) == set(aged) - {f"{name}.json" for name in pruned}


def test_prune_one_shots_removes_the_questions_nobody_followed_up(
    sessions_dir: Path, aged: dict[str, bytes]
) -> None:
    assert_run(
        wai("sessions", "prune", "--one-shots", "-y"),
        0,
        stderr=skipped_broken(sessions_dir)
        + "NAME            AGE  TURNS  TITLE\n"
        + "new-one-shot     7m      1  new-one-shot question 1\n"
        + "fresh-one-shot   5h      1  fresh-one-shot question 1\n"
        + "old-one-shot    40d      1  old-one-shot question 1\n"
        + "wai: removed 3 sessions\n",
    )
    assert files(sessions_dir) == kept(aged, "broken", "old-talk", "followed-up", "unmarked")


def test_prune_both_selectors_means_the_old_one_shots(
    sessions_dir: Path, aged: dict[str, bytes]
) -> None:
    assert_run(
        wai("sessions", "prune", "--one-shots", "--older-than", "1d", "-y"),
        0,
        stderr=skipped_broken(sessions_dir)
        + "NAME          AGE  TURNS  TITLE\n"
        + "old-one-shot  40d      1  old-one-shot question 1\n"
        + "wai: removed 1 session\n",
    )
    assert set(files(sessions_dir)) == set(aged) - {"old-one-shot.json"}


def test_prune_without_a_selector_is_a_usage_error(
    sessions_dir: Path, aged: dict[str, bytes]
) -> None:
    assert_run(
        wai("sessions", "prune", "-y"),
        2,
        stderr="wai: error: say which sessions to prune: --older-than AGE, --one-shots, or both\n"
        "hint: e.g. `wai sessions prune --older-than 30d`\n",
    )
    assert files(sessions_dir) == aged


@pytest.mark.parametrize("age", ["30", "d", "-5d", "1.5d", "30 days", ""])
def test_prune_refuses_an_age_it_cannot_read(
    sessions_dir: Path, aged: dict[str, bytes], age: str
) -> None:
    assert_run(
        wai("sessions", "prune", "--older-than", age, "-y"),
        2,
        stderr=f"wai: error: --older-than takes an age like 30d, 12h or 2w, not {age!r}\n"
        "hint: h: hours, d: days, w: weeks\n",
    )
    assert files(sessions_dir) == aged


def test_prune_with_nothing_to_remove_says_so(sessions_dir: Path, aged: dict[str, bytes]) -> None:
    expected = skipped_broken(sessions_dir) + "wai: no sessions to prune\n"
    assert_run(wai("sessions", "prune", "--older-than", "9w"), 0, stderr=expected)
    assert files(sessions_dir) == aged
    assert_run(wai("sessions", "prune", "--one-shots", "--older-than", "41d"), 0, stderr=expected)
    assert files(sessions_dir) == aged


def test_prune_without_yes_and_without_a_terminal_refuses(
    sessions_dir: Path, aged: dict[str, bytes]
) -> None:
    assert_run(
        wai("sessions", "prune", "--one-shots", input="y\n"),
        2,
        stderr=skipped_broken(sessions_dir)
        + "wai: error: not removing without confirmation: stdin is not a terminal\n"
        + "hint: add --yes (-y) to remove without asking\n",
    )
    assert files(sessions_dir) == aged


ONE_SHOTS_LISTED = (
    "NAME            AGE  TURNS  TITLE\r\n"
    "new-one-shot     7m      1  new-one-shot question 1\r\n"
    "fresh-one-shot   5h      1  fresh-one-shot question 1\r\n"
    "old-one-shot    40d      1  old-one-shot question 1\r\n"
    "remove 3 sessions? [y/N] "
)


def test_prune_asks_on_a_terminal(sessions_dir: Path, aged: dict[str, bytes]) -> None:
    child = spawn_wai("sessions", "prune", "--one-shots")
    child.expect_exact(ONE_SHOTS_LISTED)
    child.sendline("y")
    child.expect_exact("wai: removed 3 sessions\r\n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert files(sessions_dir) == kept(aged, "broken", "old-talk", "followed-up", "unmarked")


@pytest.mark.parametrize("answer", ["", "n", "no", "maybe", None])
def test_prune_on_a_terminal_removes_nothing_unless_told_yes(
    sessions_dir: Path, aged: dict[str, bytes], answer: str | None
) -> None:
    child = spawn_wai("sessions", "prune", "--one-shots")
    child.expect_exact(ONE_SHOTS_LISTED)
    if answer is None:
        child.sendeof()
    else:
        child.sendline(answer)
    child.expect_exact("wai: nothing was removed\r\n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert files(sessions_dir) == aged


def test_prune_dates_a_session_without_a_readable_time_by_its_file(sessions_dir: Path) -> None:
    written = document("undated", "last tuesday", [said("user", "hi"), said("assistant", "hey")])
    path = sessions_dir / "undated.json"
    write_file(path, json.dumps(written).encode())
    forty_days_ago = time.time() - 40 * 86400 - 60
    os.utime(path, (forty_days_ago, forty_days_ago))
    assert_run(
        wai("sessions", "prune", "--older-than", "30d", "-y"),
        0,
        stderr="NAME     AGE  TURNS  TITLE\nundated  40d      1  hi\nwai: removed 1 session\n",
    )
    assert files(sessions_dir) == {}


def test_prune_keeps_a_session_continued_since_it_was_listed(sessions_dir: Path) -> None:
    """The choice is checked again under the sessions' lock, when the file is removed."""
    from wai.conversation.store import Session, SessionStore

    write_aged(sessions_dir, "asked", timedelta(days=3), one_shot=True)
    store = SessionStore()
    listed = store.load("asked")

    def still_a_lone_one_shot(session: Session) -> bool:
        return session.one_shot and session.turns <= 1

    assert still_a_lone_one_shot(listed)
    store.update(listed, lambda session: session.messages.extend(listed.messages[-2:]))
    assert store.remove_if("asked", still_a_lone_one_shot) is False
    assert set(files(sessions_dir)) == {"asked.json"}
    assert store.remove_if("asked", lambda session: True) is True
    assert store.remove_if("asked", lambda session: True) is False  # gone already
    assert files(sessions_dir) == {}


def test_one_shots_are_marked_and_the_mark_goes_when_followed_up(
    server: WorkersAIServer, sessions_dir: Path
) -> None:
    assert wai("ask", "why is the sky blue?").exit_code == 0
    assert wai("ask", "what is rust").exit_code == 0
    assert wai("ask", "-c", "and go?").exit_code == 0  # follows up the last one-shot
    assert wai("ask", "--session", "named", "hi").exit_code == 0
    assert wai("ask", "--no-save", "not kept").exit_code == 0
    day = f"{date.today():%Y-%m-%d}"
    sky, rust = f"{day}-why-is-the-sky-blue", f"{day}-what-is-rust"
    saved = {path.stem: json.loads(path.read_text()) for path in sessions_dir.glob("*.json")}
    assert set(saved) == {sky, rust, "named"}
    assert list(saved[sky]) == [
        "format", "name", "created", "updated", "backend", "model", "params", "affinity",
        "one_shot", "messages",
    ]  # fmt: skip
    assert saved[sky]["one_shot"] is True
    assert "one_shot" not in saved[rust]
    assert "one_shot" not in saved["named"]

    run = wai("sessions", "prune", "--one-shots", "-y")
    assert run.exit_code == 0
    name, _age, turns, *_title = run.stderr.splitlines()[1].split()
    assert (name, turns) == (sky, "1")
    assert run.stderr.splitlines()[-1] == "wai: removed 1 session"
    assert set(files(sessions_dir)) == {f"{rust}.json", "named.json"}


# --- rename -----------------------------------------------------------------------------------


def test_rename(sessions_dir: Path, three: dict[str, bytes]) -> None:
    assert_run(
        wai("sessions", "rename", "work", "review.2026"),
        0,
        stderr="wai: renamed work to review.2026\n",
    )
    after = files(sessions_dir)
    assert set(after) == {f"{SKY}.json", "local-notes.json", "review.2026.json"}
    renamed = json.loads(after["review.2026.json"])
    # A session from before wai kept a prompt-cache id gets one when it is next written.
    assert re.fullmatch(r"ses_[0-9a-f]{16}", renamed.pop("affinity"))
    assert renamed == {**json.loads(three["work.json"]), "name": "review.2026"}
    assert_run(
        wai("sessions", "show", "review.2026"),
        0,
        stdout=WORK_TRANSCRIPT.replace("work", "review.2026", 1),
    )


def test_rename_what_ask_saved_and_continue_it(server: WorkersAIServer, sessions_dir: Path) -> None:
    assert wai("ask", "--session", "alpha", "hi").exit_code == 0
    assert wai("sessions", "rename", "alpha", "beta").exit_code == 0
    assert wai("ask", "--session", "beta", "again").exit_code == 0
    assert list(files(sessions_dir)) == ["beta.json"]
    assert [m["content"] for m in server.last_body["messages"]] == ["hi", "Hello, world!", "again"]


@pytest.mark.parametrize("new", ["Work", "_x", ".hidden", "a/b", "", "sp ace"])
def test_rename_to_an_invalid_name(sessions_dir: Path, three: dict[str, bytes], new: str) -> None:
    assert_run(
        wai("sessions", "rename", "work", new),
        2,
        stderr=(
            f"wai: error: invalid session name {new!r}\n"
            "hint: use lowercase letters, digits, '.', '_' and '-', "
            "starting with a letter or digit\n"
        ),
    )
    assert files(sessions_dir) == three


@pytest.mark.parametrize("new", ["local-notes", "work"])
def test_rename_onto_an_existing_session(
    sessions_dir: Path, three: dict[str, bytes], new: str
) -> None:
    assert_run(
        wai("sessions", "rename", "work", new),
        2,
        stderr=(
            f"wai: error: a session named {new!r} exists already\n"
            f"hint: choose another name, or remove that one first (`wai sessions rm {new}`)\n"
        ),
    )
    assert files(sessions_dir) == three


def test_rename_onto_a_broken_file_leaves_both(sessions_dir: Path, three: dict[str, bytes]) -> None:
    write_file(sessions_dir / "broken.json", BROKEN)
    assert wai("sessions", "rename", "work", "broken").exit_code == 2
    assert files(sessions_dir) == {**three, "broken.json": BROKEN}


def test_rename_an_unknown_session(sessions_dir: Path, three: dict[str, bytes]) -> None:
    assert_run(wai("sessions", "rename", "nope", "other"), 2, stderr=unknown("nope"))
    assert_run(wai("sessions", "rename", "nope", "Bad!"), 2, stderr=unknown("nope"))
    assert files(sessions_dir) == three


def test_rename_a_broken_file_is_exit_3(sessions_dir: Path) -> None:
    path = sessions_dir / "broken.json"
    write_file(path, BROKEN)
    assert_run(wai("sessions", "rename", "broken", "fixed"), 3, stderr=cannot_read(path))
    assert files(sessions_dir) == {"broken.json": BROKEN}


# --- path -------------------------------------------------------------------------------------


def test_path_prints_the_directory(sessions_dir: Path) -> None:
    assert_run(wai("sessions", "path"), 0, stdout=f"{sessions_dir}\n")
    assert not sessions_dir.exists()


def test_path_follows_wai_data_dir(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    run = wai("sessions", "path", env={"WAI_DATA_DIR": str(other)})
    assert_run(run, 0, stdout=f"{other / 'sessions'}\n")


def test_path_of_a_session(sessions_dir: Path, three: dict[str, bytes]) -> None:
    assert_run(wai("sessions", "path", "work"), 0, stdout=f"{sessions_dir / 'work.json'}\n")


def test_path_of_a_broken_session_points_at_it(sessions_dir: Path) -> None:
    write_file(sessions_dir / "broken.json", BROKEN)
    assert_run(wai("sessions", "path", "broken"), 0, stdout=f"{sessions_dir / 'broken.json'}\n")
    assert files(sessions_dir) == {"broken.json": BROKEN}


# --- shell completion -------------------------------------------------------------------------


def test_session_namescomplete(sessions_dir: Path, three: dict[str, bytes]) -> None:
    write_file(sessions_dir / "Not A Slug.json", b"{}")
    assert complete("wai sessions ") == ["list", "show", "export", "rm", "prune", "rename", "path"]
    assert complete("wai sessions show ") == [SKY, "local-notes", "work"]
    assert complete("wai sessions rm work l") == ["local-notes"]
    assert complete("wai sessions rename w") == ["work"]
    assert complete("wai sessions export 2026") == [SKY]
    assert complete("wai sessions path lo") == ["local-notes"]


def screen_text(raw: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r", "", raw)
