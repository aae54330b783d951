"""`wai chat`'s slash commands and messages, typed line by line into a Repl over a real
Conversation, against the Workers AI server: what the user sees on stdout and stderr, what the
server receives, and what the session file on disk holds afterwards."""

from __future__ import annotations

import io
import json
import os
import re
import select
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.servers import models_2026
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_MODEL,
    DEFAULT_USAGE,
    QWEN3_30B,
    Reply,
    WorkersAIServer,
    sse,
    token_events,
)
from wai.conversation import Conversation
from wai.environment import Environment
from wai.repl import Leave, Repl
from wai.settings import Overrides
from wai.settings.file import load_config

ANSWER = "Hello, world!"


def today() -> str:
    """The date a session made now is named with (read when asked: a run may cross midnight)."""
    return f"{date.today():%Y-%m-%d}"


OTHER_MODEL = "@cf/meta/llama-3.1-8b-instruct"
NO_EXCHANGE = "wai: error: there is no exchange yet\n"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
AFFINITY_ID = re.compile(r"ses_[0-9a-f]{16}")  # a session's prompt-cache id
AFFINITY = "<affinity>"
TIME = "<timestamp>"
SGR = re.compile(r"\x1b\[[0-9;]*m")  # a colour or style: the only escape wai itself writes


def stamped(value: Any) -> Any:
    """`value` with every timestamp wai writes (UTC, milliseconds, `Z`) replaced by TIME."""
    if isinstance(value, dict):
        return {key: stamped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stamped(item) for item in value]
    if isinstance(value, str) and STAMP.fullmatch(value):
        return TIME
    if isinstance(value, str) and AFFINITY_ID.fullmatch(value):
        return AFFINITY
    return value


class Chat:
    """A Repl on string streams; `output()` returns and clears what it wrote so far."""

    def __init__(self, overrides: Overrides | None = None) -> None:
        overrides = overrides or Overrides()
        config = load_config()
        self.env = Environment(
            stdin=io.StringIO(),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            environ=os.environ,
            in_repl=True,  # as `wai chat` makes it: hints name the REPL's commands
        )
        conversation = Conversation.open(self.env, overrides, config)
        self.repl = Repl(self.env, conversation, overrides)

    def type(self, *lines: str) -> None:
        for line in lines:
            self.repl.handle(line)

    def output(self) -> tuple[str, str]:
        written = (self.env.stdout.getvalue(), self.env.stderr.getvalue())
        for stream in (self.env.stdout, self.env.stderr):
            stream.seek(0)
            stream.truncate()
        return written


@pytest.fixture
def chat(server: WorkersAIServer) -> Chat:
    return Chat()


@pytest.fixture
def sessions_dir(isolated: Path) -> Path:
    return isolated / "data" / "sessions"


def saved(sessions_dir: Path) -> dict[str, Any]:
    """Every session file on disk, by name, as JSON, with TIME for its timestamps."""
    files = sorted(sessions_dir.glob("*.json"))
    return {path.stem: stamped(json.loads(path.read_text())) for path in files}


def document(
    name: str,
    messages: list[dict[str, Any]],
    *,
    params: dict[str, Any] | None = None,
    model: str = DEFAULT_MODEL,
    backend: str = "cloudflare",
) -> dict[str, Any]:
    return {
        "format": "wai.session/1",
        "name": name,
        "created": TIME,
        "updated": TIME,
        "backend": backend,
        "model": model,
        "params": params or {},
        "affinity": AFFINITY,
        "messages": messages,
    }


def asked(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text, "meta": {"time": TIME}}


def answered(
    text: str = ANSWER,
    *,
    usage: dict[str, int] | None = DEFAULT_USAGE,
    **meta: Any,
) -> dict[str, Any]:
    answer_meta: dict[str, Any] = {"time": TIME, "model": DEFAULT_MODEL}
    if usage is not None:
        answer_meta["usage"] = usage
    return {"role": "assistant", "content": text, "meta": {**answer_meta, **meta}}


def said(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def body(*messages: dict[str, str], **params: Any) -> dict[str, Any]:
    return {"messages": list(messages), "stream": True, "max_tokens": 1024, **params}


def run_path(model: str = DEFAULT_MODEL) -> str:
    return f"/client/v4/accounts/{ACCOUNT}/ai/run/{model}"


def write_session(sessions_dir: Path, name: str, **fields: Any) -> dict[str, Any]:
    content = {
        "format": "wai.session/1",
        "name": name,
        "created": "2026-01-02T03:04:05.000Z",
        "updated": "2026-01-02T03:04:05.000Z",
        "backend": "cloudflare",
        "model": DEFAULT_MODEL,
        "params": {},
        **fields,
    }
    sessions_dir.mkdir(parents=True, exist_ok=True)
    (sessions_dir / f"{name}.json").write_text(json.dumps(content, indent=2) + "\n")
    return content


# --- messages ---


def test_a_message_is_answered_and_saved_as_a_new_session(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("why is the sky blue?")
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(said("user", "why is the sky blue?"))
    assert server.run_requests[-1].path == run_path()
    name = f"{today()}-why-is-the-sky-blue"
    assert saved(sessions_dir) == {
        name: document(name, [asked("why is the sky blue?"), answered()])
    }


def test_each_message_carries_the_history(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("hi")
    server.tokens = ("A", "B")
    chat.type("and then?")
    assert chat.output() == (ANSWER + "AB", "")
    assert server.last_body == body(
        said("user", "hi"), said("assistant", ANSWER), said("user", "and then?")
    )
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {
        name: document(name, [asked("hi"), answered(), asked("and then?"), answered("AB")])
    }


def test_blank_lines_do_nothing(chat: Chat, server: WorkersAIServer, sessions_dir: Path) -> None:
    chat.type("", "   ", "\n")
    assert chat.output() == ("", "")
    assert server.run_requests == []
    assert saved(sessions_dir) == {}


def test_double_slash_sends_the_text_with_one_slash(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("//etc/hosts is what?")
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(said("user", "/etc/hosts is what?"))
    name = f"{today()}-etc-hosts-is-what"
    assert saved(sessions_dir) == {name: document(name, [asked("/etc/hosts is what?"), answered()])}


def test_an_unknown_command_is_a_notice_and_nothing_is_sent(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/frobnicate the thing")
    assert chat.output() == ("", "wai: unknown command /frobnicate; /help lists the commands\n")
    assert server.run_requests == []
    assert saved(sessions_dir) == {}


def test_an_error_before_any_token_is_reported_and_nothing_is_saved(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    server.enqueue(Reply.error(400, 3010, "bad input"))
    chat.type("first try")
    assert chat.output() == ("", "wai: error: Workers AI rejected the input: bad input\n")
    assert len(server.run_requests) == 1  # a 400 is not retried
    assert saved(sessions_dir) == {}

    chat.type("second try")  # the REPL goes on, without the failed message
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(said("user", "second try"))
    name = f"{today()}-second-try"
    assert saved(sessions_dir) == {name: document(name, [asked("second try"), answered()])}


def test_a_stream_cut_after_some_tokens_keeps_the_partial_answer(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("hi")
    chat.output()
    server.enqueue(Reply.stream(sse(*token_events(("Par", "tial")), done=False), cut=True))
    chat.type("tell me more")
    assert chat.output() == (
        "Partial",
        f"wai: error: the answer is incomplete: the connection to 127.0.0.1:{server.port} "
        "was cut off\n"
        "hint: what arrived is kept above; /continue resumes it, /retry asks again\n",
    )
    name = f"{today()}-hi"
    exchanges = [
        asked("hi"),
        answered(),
        asked("tell me more"),
        answered("Partial", usage=None, interrupted=True),
    ]
    assert saved(sessions_dir) == {name: document(name, exchanges)}

    chat.type("/history")
    assert chat.output() == (
        f"user: hi\nassistant: {ANSWER}\nuser: tell me more\nassistant [interrupted]: Partial\n",
        "",
    )
    chat.type("go on")  # the REPL goes on
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(
        said("user", "hi"),
        said("assistant", ANSWER),
        said("user", "tell me more"),
        said("assistant", "Partial"),
        said("user", "go on"),
    )
    assert saved(sessions_dir) == {name: document(name, [*exchanges, asked("go on"), answered()])}


# --- /help, /exit, /new ---


def test_help_lists_every_command_and_the_keys(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/help")
    assert chat.output() == (
        "  /help                 list the commands and keys\n"
        "  /exit                 leave (Ctrl-D does too)\n"
        "  /new                  start a new session\n"
        "  /system [TEXT]        show or set the system message\n"
        "  /role [NAME]          switch to a role (/role alone lists them)\n"
        "  /model [ID]           show or switch the model\n"
        "  /backend [NAME]       show or switch the backend\n"
        "  /set KEY [VALUE]      set a parameter or any body field; KEY alone removes it (/set "
        "lists them)\n"
        "  /unset KEY            remove a parameter or body field\n"
        "  /retry                regenerate the last answer\n"
        "  /continue             resume the last answer, interrupted or cut at max_tokens\n"
        "  /undo                 drop the last exchange\n"
        "  /history              show this session's messages\n"
        "  /sessions             list the saved sessions\n"
        "  /load NAME            continue a saved session\n"
        "  /rename NAME          rename this session\n"
        "  /edit                 write the next message in $EDITOR\n"
        "  /reasoning            show the last answer's reasoning\n"
        "  /usage                tokens used in this session\n"
        "  /clear                clear the screen\n"
        "  /copy [N]             copy the last answer, or its Nth code block\n"
        "  /file PATH            attach a text file to the next message\n"
        "  /export [FILE]        write the conversation as markdown\n"
        "Enter sends · Alt-Enter (or Esc Enter) inserts a newline · Tab completes · "
        "Ctrl-R searches history\n"
        "Ctrl-C stops an answer or clears the line · Ctrl-D leaves · //text sends '/text'\n",
        "",
    )
    assert server.run_requests == []


def test_exit_leaves(chat: Chat, server: WorkersAIServer) -> None:
    with pytest.raises(Leave):
        chat.type("/exit")
    assert chat.output() == ("", "")
    assert server.run_requests == []


def test_new_starts_an_unnamed_session_and_the_next_message_a_new_file(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("hi")
    chat.output()
    chat.type("/new")
    assert chat.output() == ("", "wai: new session\n")
    assert chat.repl.conversation.session.name == ""
    assert chat.repl.conversation.session.messages == []
    assert saved(sessions_dir) == {
        f"{today()}-hi": document(f"{today()}-hi", [asked("hi"), answered()])
    }

    chat.type("hi")
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(said("user", "hi"))  # no history from the first session
    assert saved(sessions_dir) == {
        f"{today()}-hi": document(f"{today()}-hi", [asked("hi"), answered()]),
        f"{today()}-hi-2": document(f"{today()}-hi-2", [asked("hi"), answered()]),
    }


# --- /system ---


def test_system_shows_that_there_is_none(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/system")
    assert chat.output() == ("(no system message)\n", "")


def test_system_set_before_the_first_message_is_sent_and_saved(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/system Answer in French.")
    assert chat.output() == ("", "wai: system message set\n")
    assert saved(sessions_dir) == {}  # nothing to save before the first turn
    chat.type("/system")
    assert chat.output() == ("Answer in French.\n", "")

    chat.type("hi")
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(said("system", "Answer in French."), said("user", "hi"))
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {
        name: document(name, [said("system", "Answer in French."), asked("hi"), answered()])
    }


def test_system_set_in_a_saved_session_replaces_it_on_disk_at_once(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/system Be brief.", "hi")
    chat.output()
    chat.type("/system Be verbose.")
    assert chat.output() == ("", "wai: system message set\n")
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {
        name: document(name, [said("system", "Be verbose."), asked("hi"), answered()])
    }

    chat.type("more")
    assert server.last_body == body(
        said("system", "Be verbose."),
        said("user", "hi"),
        said("assistant", ANSWER),
        said("user", "more"),
    )


# --- /model ---


def test_model_shows_the_current_model(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/model")
    assert chat.output() == (f"{DEFAULT_MODEL}\n", "")


def test_model_switch_sends_to_the_new_model_and_records_it(
    server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat = Chat(Overrides(model=OTHER_MODEL))
    chat.type("/model")
    assert chat.output() == (f"{OTHER_MODEL}\n", "")
    chat.type(f"/model {DEFAULT_MODEL}")
    assert chat.output() == ("", f"wai: model: {DEFAULT_MODEL}\n")
    chat.type("/model")
    assert chat.output() == (f"{DEFAULT_MODEL}\n", "")

    chat.type("hi")
    assert chat.output() == (ANSWER, "")
    assert [r.path for r in server.run_requests] == [run_path(DEFAULT_MODEL)]
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {name: document(name, [asked("hi"), answered()])}


def test_an_unknown_model_gets_the_servers_error_and_the_repl_goes_on(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("hi")
    chat.output()
    chat.type(f"/model {OTHER_MODEL}")
    assert chat.output() == ("", f"wai: model: {OTHER_MODEL}\n")
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {
        name: document(name, [asked("hi"), answered()], model=OTHER_MODEL)
    }

    chat.type("still there?")
    assert chat.output() == (
        "",
        f"wai: error: the model {OTHER_MODEL} is not available: "
        f"No such model {OTHER_MODEL} or task\n"
        "hint: `wai models` lists the current ones; switch with /model ID\n",
    )
    assert server.run_requests[-1].path == run_path(OTHER_MODEL)
    assert server.last_body == body(
        said("user", "hi"), said("assistant", ANSWER), said("user", "still there?")
    )

    chat.type(f"/model {DEFAULT_MODEL}", "still there?")
    assert chat.output() == (ANSWER, f"wai: model: {DEFAULT_MODEL}\n")
    assert server.run_requests[-1].path == run_path(DEFAULT_MODEL)
    assert saved(sessions_dir) == {
        name: document(name, [asked("hi"), answered(), asked("still there?"), answered()])
    }


# --- /backend ---


def test_backend_shows_the_current_backend(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/backend")
    assert chat.output() == (f"cloudflare (model {DEFAULT_MODEL})\n", "")


def test_backend_switch_to_a_configured_backend_is_recorded(
    server: WorkersAIServer, config_file: Path, sessions_dir: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[backends.work]\ntype = "cloudflare"\n')
    chat = Chat()
    chat.type("/backend work")
    assert chat.output() == ("", f"wai: backend: work (model {DEFAULT_MODEL})\n")
    chat.type("/backend")
    assert chat.output() == (f"work (model {DEFAULT_MODEL})\n", "")
    chat.type("hi")
    assert chat.output() == (ANSWER, "")
    assert server.run_requests[-1].path == run_path()
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {name: document(name, [asked("hi"), answered()], backend="work")}


def test_an_unknown_backend_is_an_error_and_the_repl_goes_on(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/backend nope")
    assert chat.output() == (
        "",
        "wai: error: unknown backend 'nope' (known: cloudflare, llamacpp, lmstudio, ollama, vllm)\n"
        "hint: add a [backends.nope] table with `wai config set backends.nope.type ...`\n",
    )
    chat.type("/backend")
    assert chat.output() == (f"cloudflare (model {DEFAULT_MODEL})\n", "")

    # The failed switch leaves nothing behind: later changes and messages work as before.
    chat.type("/set temperature 0.2")
    assert chat.output() == ("", "wai: temperature = 0.2\n")
    chat.type("hi")
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(said("user", "hi"), temperature=0.2)
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {
        name: document(name, [asked("hi"), answered()], params={"temperature": 0.2})
    }


# --- /set ---


def test_set_alone_lists_the_parameters(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/set")
    assert chat.output() == ("max_tokens = 1024\n", "")
    chat.type("/set top-k 5", "/set seed 42")
    assert chat.output() == ("", "wai: top_k = 5\nwai: seed = 42\n")
    chat.type("/set")
    assert chat.output() == ("max_tokens = 1024\ntop_k = 5\nseed = 42\n", "")


def test_set_changes_the_next_request_and_the_session_params(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("hi")
    chat.output()
    chat.type("/set temperature 0.2")
    assert chat.output() == ("", "wai: temperature = 0.2\n")
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {
        name: document(name, [asked("hi"), answered()], params={"temperature": 0.2})
    }

    chat.type("again")
    assert server.last_body == body(
        said("user", "hi"), said("assistant", ANSWER), said("user", "again"), temperature=0.2
    )
    assert saved(sessions_dir)[name]["params"] == {"temperature": 0.2}


def test_set_out_of_range_names_the_range_and_changes_nothing(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/set temperature 0.2", "hi")
    chat.output()
    chat.type("/set temperature 9")
    assert chat.output() == ("", "wai: error: temperature is 9, out of range: allowed 0 to 5\n")
    chat.type("/set")
    assert chat.output() == ("max_tokens = 1024\ntemperature = 0.2\n", "")
    chat.type("again")
    assert server.last_body["temperature"] == 0.2
    assert saved(sessions_dir)[f"{today()}-hi"]["params"] == {"temperature": 0.2}


@pytest.mark.parametrize(
    ("line", "name"),
    [("/set nonsense", "nonsense"), ("/set temperature", "temperature"), ("/unset top-k", "top_k")],
)
def test_set_without_a_value_of_a_name_not_set_says_so(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path, line: str, name: str
) -> None:
    chat.type(line)
    not_set = f"wai: error: {name} is not set\nhint: /set lists the ones in use\n"
    assert chat.output() == ("", not_set)
    chat.type("/set")
    assert chat.output() == ("max_tokens = 1024\n", "")
    assert server.run_requests == []
    assert saved(sessions_dir) == {}


# --- /retry, /undo ---


def test_retry_regenerates_the_last_answer(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("hi", "and then?")
    chat.output()
    server.tokens = ("A", "B")
    chat.type("/retry")
    assert chat.output() == ("AB", "")
    assert len(server.run_requests) == 3
    assert server.last_body == body(
        said("user", "hi"), said("assistant", ANSWER), said("user", "and then?")
    )
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {
        name: document(name, [asked("hi"), answered(), asked("and then?"), answered("AB")])
    }


def test_retry_that_fails_keeps_the_exchange_it_would_replace(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("hi")
    chat.output()
    server.enqueue(Reply.error(400, 3010, "bad input"))
    chat.type("/retry")
    assert chat.output() == ("", "wai: error: Workers AI rejected the input: bad input\n")
    assert server.last_body == body(said("user", "hi"))
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {name: document(name, [asked("hi"), answered()])}


def test_retry_with_nothing_to_retry_is_an_error(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/retry")
    assert chat.output() == ("", NO_EXCHANGE)
    assert server.run_requests == []
    assert saved(sessions_dir) == {}


def test_undo_drops_the_last_exchange(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/system Be brief.", "hi", "and then?")
    chat.output()
    chat.type("/undo")
    assert chat.output() == ("", "wai: dropped the last exchange\n")
    name = f"{today()}-hi"
    assert saved(sessions_dir) == {
        name: document(name, [said("system", "Be brief."), asked("hi"), answered()])
    }

    chat.type("something else")
    assert server.last_body == body(
        said("system", "Be brief."),
        said("user", "hi"),
        said("assistant", ANSWER),
        said("user", "something else"),
    )


def test_undo_with_nothing_to_undo_is_an_error(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/system Be brief.", "/undo")
    assert chat.output() == ("", "wai: system message set\n" + NO_EXCHANGE)
    chat.type("hi", "/undo")
    chat.output()
    assert saved(sessions_dir) == {
        f"{today()}-hi": document(f"{today()}-hi", [said("system", "Be brief.")])
    }
    chat.type("/undo")
    assert chat.output() == ("", NO_EXCHANGE)
    assert saved(sessions_dir) == {
        f"{today()}-hi": document(f"{today()}-hi", [said("system", "Be brief.")])
    }


# --- /history, /sessions, /load, /rename ---


def test_history_shows_every_message(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/history")
    assert chat.output() == ("", "")
    chat.type("/system Be brief.", "hi")
    chat.output()
    chat.type("/history")
    assert chat.output() == (f"system: Be brief.\nuser: hi\nassistant: {ANSWER}\n", "")


def test_sessions_lists_the_saved_sessions_newest_first(
    chat: Chat, server: WorkersAIServer
) -> None:
    chat.type("/sessions")
    assert chat.output() == ("", "wai: no saved sessions yet\n")
    chat.type("hi", "how are you?", "/new", "second   one")
    chat.output()
    chat.type("/sessions")
    assert chat.output() == (
        f"{today()}-second-one  (1 turn) second one\n{today()}-hi  (2 turns) hi\n",
        "",
    )


def test_load_continues_a_saved_session(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    history = [
        said("system", "Be brief."),
        said("user", "what is 2+2?"),
        {"role": "assistant", "content": "4", "meta": {"time": "2026-01-02T03:04:05.000Z"}},
    ]
    original = write_session(sessions_dir, "maths", params={"temperature": 0.3}, messages=history)
    chat.type("/load maths")
    assert chat.output() == (
        "user: what is 2+2?\nassistant: 4\n",
        "wai: session maths: 1 turn; the last ones:\n",
    )
    path = sessions_dir / "maths.json"
    assert json.loads(path.read_text()) == original  # loading changes nothing

    chat.type("and 3+3?")
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(
        said("system", "Be brief."),
        said("user", "what is 2+2?"),
        said("assistant", "4"),
        said("user", "and 3+3?"),
        temperature=0.3,
    )
    assert saved(sessions_dir) == {
        "maths": document(
            "maths",
            [*stamped(history), asked("and 3+3?"), answered()],
            params={"temperature": 0.3},
        )
    }
    assert json.loads(path.read_text())["created"] == original["created"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        (
            "nope",
            "wai: error: no session named 'nope'\nhint: /sessions lists them\n",
        ),
        (
            "Bad Name",
            "wai: error: invalid session name 'Bad Name'\nhint: use lowercase letters, digits, "
            "'.', '_' and '-', starting with a letter or digit\n",
        ),
        ("", "wai: error: usage: /load NAME (/sessions lists them)\n"),
    ],
)
def test_load_of_an_unknown_session_is_an_error_and_keeps_the_current_one(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path, name: str, error: str
) -> None:
    chat.type("hi")
    chat.output()
    chat.type(f"/load {name}")
    assert chat.output() == ("", error)
    chat.type("still here?")
    assert server.last_body == body(
        said("user", "hi"), said("assistant", ANSWER), said("user", "still here?")
    )
    current = f"{today()}-hi"
    assert saved(sessions_dir) == {
        current: document(current, [asked("hi"), answered(), asked("still here?"), answered()])
    }


def test_rename_renames_the_file(chat: Chat, server: WorkersAIServer, sessions_dir: Path) -> None:
    chat.type("hi")
    chat.output()
    chat.type("/rename greetings")
    assert chat.output() == ("", "wai: session renamed to greetings\n")
    assert saved(sessions_dir) == {"greetings": document("greetings", [asked("hi"), answered()])}

    chat.type("again")
    assert saved(sessions_dir) == {
        "greetings": document("greetings", [asked("hi"), answered(), asked("again"), answered()])
    }


def test_rename_before_the_first_message_names_the_new_file(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/rename greetings")
    assert chat.output() == ("", "wai: session renamed to greetings\n")
    assert saved(sessions_dir) == {}
    chat.type("hi")
    assert saved(sessions_dir) == {"greetings": document("greetings", [asked("hi"), answered()])}


@pytest.mark.parametrize(
    ("name", "error"),
    [
        (
            "Bad Name",
            "wai: error: invalid session name 'Bad Name'\nhint: use lowercase letters, digits, "
            "'.', '_' and '-', starting with a letter or digit\n",
        ),
        (
            "-dash",
            "wai: error: invalid session name '-dash'\nhint: use lowercase letters, digits, "
            "'.', '_' and '-', starting with a letter or digit\n",
        ),
        ("", "wai: error: usage: /rename NAME\n"),
        ("taken", "wai: error: a session named 'taken' exists already\n"),
    ],
)
def test_rename_to_an_invalid_or_taken_name_is_an_error(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path, name: str, error: str
) -> None:
    taken = write_session(sessions_dir, "taken", messages=[said("user", "x")])
    chat.type("hi")
    chat.output()
    chat.type(f"/rename {name}")
    assert chat.output() == ("", error)
    current = f"{today()}-hi"
    assert saved(sessions_dir) == {
        current: document(current, [asked("hi"), answered()]),
        "taken": stamped(taken),
    }


def test_rename_of_a_new_session_to_a_taken_name_is_an_error(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    taken = write_session(sessions_dir, "taken", messages=[said("user", "x")])
    chat.type("/rename taken")
    assert chat.output() == ("", "wai: error: a session named 'taken' exists already\n")
    chat.type("hi")
    assert server.last_body == body(said("user", "hi"))
    current = f"{today()}-hi"
    assert saved(sessions_dir) == {
        current: document(current, [asked("hi"), answered()]),
        "taken": stamped(taken),
    }


# --- /edit, /usage, /clear ---


def write_editor(directory: Path, text: str) -> Path:
    """An $EDITOR that writes `text` into the file it is given."""
    directory.mkdir(exist_ok=True)
    script = directory / "editor.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s' '{text}' > \"$1\"\n")
    script.chmod(0o755)
    return script


def test_edit_sends_what_the_editor_wrote(
    server: WorkersAIServer,
    sessions_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDITOR", str(write_editor(tmp_path, "line one\nline two\n")))
    chat = Chat()
    chat.type("/edit")
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(said("user", "line one\nline two"))
    name = f"{today()}-line-one-line-two"
    assert saved(sessions_dir) == {name: document(name, [asked("line one\nline two"), answered()])}


def test_edit_prefers_visual_to_editor(
    server: WorkersAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", str(write_editor(tmp_path / "editor", "from EDITOR")))
    monkeypatch.setenv("VISUAL", str(write_editor(tmp_path / "visual", "from VISUAL")))
    chat = Chat()
    chat.type("/edit")
    assert chat.output() == (ANSWER, "")
    assert server.last_body == body(said("user", "from VISUAL"))


def test_edit_with_an_empty_message_sends_nothing(
    server: WorkersAIServer,
    sessions_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDITOR", str(write_editor(tmp_path, "  \n")))
    chat = Chat()
    chat.type("/edit")
    assert chat.output() == ("", "wai: empty message; nothing sent\n")
    assert server.run_requests == []
    assert saved(sessions_dir) == {}


def test_usage_sums_the_usage_of_the_answers(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/usage")
    assert chat.output() == ("0 prompt + 0 completion = 0 tokens over 0 answers\n", "")
    usage = {"prompt_tokens": 30, "completion_tokens": 7, "total_tokens": 37}
    server.enqueue(Reply.stream(sse(*token_events(("x",), usage))))
    chat.type("hi", "again")
    chat.output()
    chat.type("/usage")
    assert chat.output() == ("42 prompt + 11 completion = 53 tokens over 2 answers\n", "")


def test_clear_without_a_terminal_writes_no_escape_codes(
    chat: Chat, server: WorkersAIServer, capfd: pytest.CaptureFixture[str]
) -> None:
    chat.type("/clear")
    assert chat.output() == ("", "")
    assert capfd.readouterr() == ("", "")
    assert server.run_requests == []


def read_terminal(master: int, size: int) -> bytes:
    """What the terminal shows, up to `size` bytes; stops when nothing more comes within 5 s."""
    received = b""
    while len(received) < size and select.select([master], [], [], 5)[0]:
        received += os.read(master, size - len(received))
    return received


def test_clear_erases_the_terminal(server: WorkersAIServer) -> None:
    master, slave = os.openpty()
    try:
        with open(slave, "w", encoding="utf-8") as terminal:
            env = Environment(
                stdin=io.StringIO(), stdout=terminal, stderr=io.StringIO(), environ=os.environ
            )
            repl = Repl(env, Conversation.open(env, Overrides(), {}), Overrides())
            repl.handle("/clear")
            erase = b"\x1b[2J\x1b[0;0H"
            assert read_terminal(master, len(erase)) == erase
            assert env.stderr.getvalue() == ""
    finally:
        os.close(master)


# --- /reasoning ---


def test_reasoning_before_any_answer_is_an_error(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/reasoning")
    assert chat.output() == ("", "wai: error: there is no answer yet\n")
    assert server.run_requests == []


def test_help_lists_reasoning(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/help")
    stdout, stderr = chat.output()
    assert "  /reasoning            show the last answer's reasoning" in stdout.splitlines()
    assert stderr == ""


def test_reasoning_prints_the_last_answers_reasoning_which_is_never_sent_back(
    server: WorkersAIServer, sessions_dir: Path
) -> None:
    thought = ("The user wants a number.\n", "Six sevens", " are 42.\n\n")
    server.reasoning_pieces, server.answer_pieces = thought, ("42",)
    chat = Chat(Overrides(model=QWEN3_30B))
    chat.type("what is 6x7?")
    assert chat.output() == ("42", "")  # not a terminal: the answer's bytes alone
    chat.type("/reasoning")
    assert chat.output() == ("The user wants a number.\nSix sevens are 42.\n", "")

    chat.type("and 6x8?")
    chat.output()
    assert server.last_body["messages"] == [
        said("user", "what is 6x7?"),
        said("assistant", "42"),
        said("user", "and 6x8?"),
    ]
    chat.type("/reasoning")  # the last answer's: the same reference texts again
    assert chat.output() == ("The user wants a number.\nSix sevens are 42.\n", "")
    messages = saved(sessions_dir)[f"{today()}-what-is-6x7"]["messages"]
    kept = "".join(thought).strip()  # without the line breaks around it
    assert [m["meta"].get("reasoning") for m in messages] == [None, kept] * 2


def test_reasoning_after_an_answer_without_any_is_a_notice(
    server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat = Chat(Overrides(model=QWEN3_30B))
    chat.type("hi")
    chat.output()
    chat.type(f"/model {DEFAULT_MODEL}", "and now?")
    assert chat.output() == (ANSWER, f"wai: model: {DEFAULT_MODEL}\n")
    chat.type("/reasoning")
    assert chat.output() == ("", "wai: the last answer came with no reasoning\n")


def test_reasoning_of_an_answer_cut_while_thinking(
    server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat = Chat(Overrides(model=QWEN3_30B))
    chat.type("/set max_tokens 64")
    chat.output()
    chunks = models_2026.budget_spent_chunks(("Hmm", ", a hard one."), model=QWEN3_30B)
    server.enqueue(Reply.stream(models_2026.stream_body(chunks)))
    chat.type("something hard")
    assert chat.output() == (
        "",
        "wai: error: the answer was cut at max_tokens (64) while the model was still "
        "reasoning\nhint: raise it with /set max_tokens N\n",
    )
    chat.type("/reasoning")
    assert chat.output() == ("Hmm, a hard one.\n", "")


# --- /set of any body field ---

NO_REASONING_EFFORT = (
    f"wai: error: {DEFAULT_MODEL} takes no reasoning effort\n"
    "hint: it is for models that take Chat Completions bodies, such as @cf/openai/gpt-oss-120b "
    "or @cf/qwen/qwen3-30b-a3b-fp8\n"
)


def test_set_of_an_unknown_key_adds_it_to_the_body_after_the_known_params(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type("/set n 2", '/set chat_template_kwargs {"enable_thinking": false}')
    assert chat.output() == (
        "",
        'wai: n = 2\nwai: chat_template_kwargs = {"enable_thinking": false}\n',
    )
    chat.type("/set stop END", '/set tag "42"', "/set temperature 0.2")
    assert chat.output() == ("", 'wai: stop = END\nwai: tag = "42"\nwai: temperature = 0.2\n')
    chat.type("/set")
    assert chat.output() == (
        "max_tokens = 1024\ntemperature = 0.2\nn = 2\n"
        'chat_template_kwargs = {"enable_thinking": false}\nstop = END\ntag = "42"\n',
        "",
    )

    chat.type("hi")
    assert chat.output() == (ANSWER, "")
    options = {"chat_template_kwargs": {"enable_thinking": False}, "stop": "END", "tag": "42"}
    sent = body(said("user", "hi"), temperature=0.2, n=2, **options)
    assert json.dumps(server.last_body) == json.dumps(sent)
    name = f"{today()}-hi"
    params = {"n": 2, **options, "temperature": 0.2}
    assert saved(sessions_dir) == {name: document(name, [asked("hi"), answered()], params=params)}


def test_set_again_replaces_the_value(chat: Chat, server: WorkersAIServer) -> None:
    chat.type("/set n 2", "/set n [1, 2]", "hi")
    assert server.last_body["n"] == [1, 2]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("/set messages []", "wai: error: messages: wai sets this field itself\n"),
        ("/set stream false", "wai: error: stream: wai sets this field itself\n"),
        ("/set x NaN", "wai: error: x: NaN and Infinity cannot be sent in a JSON body\n"),
        (
            '/set x {"a": -Infinity}',
            "wai: error: x: NaN and Infinity cannot be sent in a JSON body\n",
        ),
        ("/set temperature NaN", "wai: error: temperature must be a finite number, got nan\n"),
        ("/set reasoning_effort high", NO_REASONING_EFFORT),
    ],
)
def test_set_of_a_field_that_cannot_be_sent_is_an_error_and_changes_nothing(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path, line: str, error: str
) -> None:
    chat.type("/set n 2", "hi")
    chat.output()
    chat.type(line)
    assert chat.output() == ("", error)
    chat.type("/set")
    assert chat.output() == ("max_tokens = 1024\nn = 2\n", "")
    chat.type("again")
    assert server.last_body == body(
        said("user", "hi"), said("assistant", ANSWER), said("user", "again"), n=2
    )
    assert saved(sessions_dir)[f"{today()}-hi"]["params"] == {"n": 2}


def test_set_reasoning_effort_for_a_chat_completions_model(
    server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat = Chat(Overrides(model=QWEN3_30B))
    chat.type("/set reasoning_effort low")
    assert chat.output() == ("", "wai: reasoning_effort = low\n")
    chat.type("hi")
    assert server.last_body["reasoning_effort"] == "low"
    assert saved(sessions_dir)[f"{today()}-hi"]["params"] == {"reasoning_effort": "low"}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stored_text_reaches_a_terminal_with_its_controls_shown(
    server: WorkersAIServer, sessions_dir: Path
) -> None:
    hostile = "clear\x1b[2J title\x1b]0;owned\x07 csi\x9b2J"
    server.enqueue(Reply.stream(sse(*token_events([hostile]))))
    chat = Chat()
    chat.type("/system be \x1b[31mred")
    chat.type("hi")
    chat.output()
    chat.env.stdout = Terminal()  # what the user reads /history and /system on

    chat.type("/history", "/system", "/sessions")

    # wai's own colours (SGR sequences) aside, every control character is shown, not obeyed.
    shown = SGR.sub("", chat.env.stdout.getvalue())
    assert "\x1b" not in shown and "\x9b" not in shown and "\x07" not in shown
    assert [line.rstrip() for line in shown.splitlines()] == [
        "system: be ^[[31mred",
        "› hi",
        "clear^[[2J title^[]0;owned^G csiM-^[2J",
        "be ^[[31mred",
        f"{today()}-hi  (1 turn) hi",
    ]
