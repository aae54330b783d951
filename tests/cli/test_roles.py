"""`--role NAME` on `wai ask` and `wai chat`, and `/role` in the REPL: a `[roles.NAME]` of the
config brings its system message, model and parameters, under the command line's own flags.
Against the Workers AI server (and an OpenAI-compatible one): the exact requests, the session
files, the errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest

from tests.conftest import wai
from tests.servers.models_2026 import SCOUT_TOKENS, SCOUT_USAGE
from tests.servers.openai_compat import OpenAIServer
from tests.servers.workers_ai import ACCOUNT, DEFAULT_MODEL, LLAMA4_SCOUT, WorkersAIServer
from tests.test_repl import Chat, answered, asked, saved, stamped
from tests.test_repl_pty import PROMPT, spawn
from wai.settings import Overrides

SCOUT = LLAMA4_SCOUT
ANSWER = "Hello, world!"
SCOUT_ANSWER = "".join(SCOUT_TOKENS)  # what the server's Llama 4 Scout says
REVIEWER = "You review code.\nPoint out bugs first."
POET = "You write haiku."
ROLES = f"""\
[roles.reviewer]
system = "You review code.\\nPoint out bugs first."
model = "{SCOUT}"
temperature = 0.2
top_k = 5

[roles.poet]
system = "{POET}"
"""
ROLE_PARAMS = {"temperature": 0.2, "top_k": 5}
UNKNOWN_ROLE = "wai: error: unknown role 'critic'\nhint: the roles are reviewer, poet\n"


def today() -> str:
    return f"{date.today():%Y-%m-%d}"


@pytest.fixture
def roles(config_file: Path) -> bytes:
    """The config file with two roles; its bytes, to check that nothing rewrote it."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(ROLES)
    return config_file.read_bytes()


@pytest.fixture
def sessions_dir(isolated: Path) -> Path:
    return isolated / "data" / "sessions"


def run_path(model: str) -> str:
    return f"/client/v4/accounts/{ACCOUNT}/ai/run/{model}"


def said(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def native_body(*messages: dict[str, str], **params: Any) -> str:
    """A Workers AI body, as JSON text: the order of its fields is checked too."""
    return json.dumps({"messages": list(messages), "stream": True, "max_tokens": 1024, **params})


def session(
    name: str,
    messages: list[dict[str, Any]],
    *,
    model: str = SCOUT,
    params: dict[str, Any] | None = None,
    role: str | None = "reviewer",
    backend: str = "cloudflare",
) -> dict[str, Any]:
    """A session document as saved (timestamps and affinity replaced, see test_repl.stamped)."""
    document = {
        "format": "wai.session/1",
        "name": name,
        "created": "<timestamp>",
        "updated": "<timestamp>",
        "backend": backend,
        "model": model,
        "params": ROLE_PARAMS if params is None else params,
        "affinity": "<affinity>",
        "messages": messages,
    }
    if role is not None:
        document["role"] = role
    return document


def answered_by_scout() -> dict[str, Any]:
    answer = answered(SCOUT_ANSWER, usage=SCOUT_USAGE)
    answer["meta"]["model"] = SCOUT
    return answer


# --- wai ask --role ---------------------------------------------------------------------------


def test_ask_with_a_role_sends_its_system_message_model_and_params(
    server: WorkersAIServer, roles: bytes, config_file: Path, sessions_dir: Path
) -> None:
    run = wai("ask", "--role", "reviewer", "--session", "review", "is this ok?")
    assert (run.exit_code, run.stdout, run.stderr) == (0, SCOUT_ANSWER, "")
    [request] = server.run_requests
    assert request.path == run_path(SCOUT)
    assert json.dumps(request.body) == native_body(
        said("system", REVIEWER), said("user", "is this ok?"), **ROLE_PARAMS
    )
    assert saved(sessions_dir) == {
        "review": session(
            "review", [said("system", REVIEWER), asked("is this ok?"), answered_by_scout()]
        )
    }
    assert config_file.read_bytes() == roles


def test_a_role_without_model_or_params_sets_the_system_message_alone(
    server: WorkersAIServer, roles: bytes
) -> None:
    run = wai("ask", "--role", "poet", "--no-save", "autumn")
    assert (run.exit_code, run.stdout, run.stderr) == (0, ANSWER, "")
    [request] = server.run_requests
    assert request.path == run_path(DEFAULT_MODEL)
    assert json.dumps(request.body) == native_body(said("system", POET), said("user", "autumn"))


def test_flags_win_over_the_role(server: WorkersAIServer, roles: bytes, sessions_dir: Path) -> None:
    run = wai(
        "ask",
        "--role",
        "reviewer",
        "-s",
        "Be brief.",
        "-m",
        DEFAULT_MODEL,
        "--temperature",
        "0.9",
        "--session",
        "flags",
        "hi",
    )
    assert (run.exit_code, run.stdout, run.stderr) == (0, ANSWER, "")
    [request] = server.run_requests
    assert request.path == run_path(DEFAULT_MODEL)
    assert json.dumps(request.body) == native_body(
        said("system", "Be brief."), said("user", "hi"), temperature=0.9, top_k=5
    )
    assert saved(sessions_dir) == {
        "flags": session(
            "flags",
            [said("system", "Be brief."), asked("hi"), answered()],
            model=DEFAULT_MODEL,
            params={"temperature": 0.9, "top_k": 5},
        )
    }


def test_the_role_wins_over_the_environment_and_the_configs_defaults(
    server: WorkersAIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        f'model = "{DEFAULT_MODEL}"\nsystem = "Config system."\n'
        f"[params]\ntemperature = 1.5\nseed = 3\n{ROLES}"
    )
    monkeypatch.setenv("WAI_MODEL", "@cf/meta/llama-3.1-8b-instruct")
    run = wai("ask", "--role", "reviewer", "--no-save", "hi")
    assert (run.exit_code, run.stdout, run.stderr) == (0, SCOUT_ANSWER, "")
    [request] = server.run_requests
    assert request.path == run_path(SCOUT)
    assert json.dumps(request.body) == json.dumps(
        {
            "messages": [said("system", REVIEWER), said("user", "hi")],
            "stream": True,
            "max_tokens": 1024,
            "temperature": 0.2,
            "top_k": 5,
            "seed": 3,
        }
    )


def test_show_request_shows_the_roles_system_message_model_and_params(
    server: WorkersAIServer, roles: bytes, sessions_dir: Path
) -> None:
    run = wai("ask", "--show-request", "--role", "reviewer", "hi")
    assert (run.exit_code, run.stderr) == (0, "")
    url = f"{server.base_url}/accounts/{ACCOUNT}/ai/run/{SCOUT}"
    body = native_body(said("system", REVIEWER), said("user", "hi"), **ROLE_PARAMS)
    assert run.stdout == (
        f"curl -sN -X POST {url} \\\n"
        "  -H 'Authorization: Bearer '\"$CLOUDFLARE_API_TOKEN\" \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        "  -H 'Accept: text/event-stream' \\\n"
        f"  -d '{body}'\n"
    )
    assert server.requests == []
    assert saved(sessions_dir) == {}


def test_continuing_a_roles_session_keeps_its_settings(
    server: WorkersAIServer, roles: bytes, sessions_dir: Path
) -> None:
    assert wai("ask", "--role", "reviewer", "--session", "review", "first").exit_code == 0
    run = wai("ask", "-c", "second")
    assert (run.exit_code, run.stdout, run.stderr) == (0, SCOUT_ANSWER, "")
    assert server.run_requests[-1].path == run_path(SCOUT)
    assert json.dumps(server.last_body) == native_body(
        said("system", REVIEWER),
        said("user", "first"),
        said("assistant", SCOUT_ANSWER),
        said("user", "second"),
        **ROLE_PARAMS,
    )
    assert saved(sessions_dir)["review"]["role"] == "reviewer"


def test_a_role_given_again_replaces_a_sessions_system_message(
    server: WorkersAIServer, roles: bytes, sessions_dir: Path
) -> None:
    assert wai("ask", "--role", "reviewer", "--session", "s", "first").exit_code == 0
    run = wai("ask", "--role", "poet", "--session", "s", "second")
    assert (run.exit_code, run.stdout, run.stderr) == (0, SCOUT_ANSWER, "")
    assert json.dumps(server.last_body) == native_body(
        said("system", POET),
        said("user", "first"),
        said("assistant", SCOUT_ANSWER),
        said("user", "second"),
        **ROLE_PARAMS,  # the session's own, which the poet does not change
    )
    document = saved(sessions_dir)["s"]
    assert (document["role"], document["messages"][0]) == ("poet", said("system", POET))


def test_a_role_naming_a_local_backend_sends_there(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        f'[backends.local]\ntype = "openai"\nbase_url = "{openai_server.base_url}"\n\n'
        '[roles.coder]\nsystem = "You write Python."\nbackend = "local"\n'
        'model = "smollm2-135m-instruct-q8_0"\nseed = 7\n'
    )
    run = wai("ask", "--role", "coder", "--no-save", "sort a list")
    assert (run.exit_code, run.stdout, run.stderr) == (0, ANSWER, "")
    assert json.dumps(openai_server.last_body) == json.dumps(
        {
            "model": "smollm2-135m-instruct-q8_0",
            "messages": [said("system", "You write Python."), said("user", "sort a list")],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 1024,
            "seed": 7,
        }
    )


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ask", "chat"])
def test_an_unknown_role_is_a_usage_error_naming_the_known_ones(
    server: WorkersAIServer, roles: bytes, config_file: Path, sessions_dir: Path, command: str
) -> None:
    run = wai(command, "--role", "critic", *(["hi"] if command == "ask" else []), input="hi")
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", UNKNOWN_ROLE)
    assert server.requests == []
    assert config_file.read_bytes() == roles
    assert saved(sessions_dir) == {}


def test_an_unknown_role_leaves_the_session_it_would_continue_intact(
    server: WorkersAIServer, roles: bytes, sessions_dir: Path
) -> None:
    assert wai("ask", "--session", "kept", "first").exit_code == 0
    before = (sessions_dir / "kept.json").read_bytes()
    run = wai("ask", "--role", "critic", "--session", "kept", "second")
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", UNKNOWN_ROLE)
    assert len(server.run_requests) == 1
    assert (sessions_dir / "kept.json").read_bytes() == before


def test_without_any_roles_an_unknown_role_says_how_to_add_one(server: WorkersAIServer) -> None:
    run = wai("ask", "--role", "critic", "hi")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "wai: error: unknown role 'critic'\n"
        'hint: no roles yet: add one with `wai config set roles.critic.system "You are ..."`\n'
    )
    assert server.requests == []


def test_role_with_raw_is_a_usage_error(server: WorkersAIServer, roles: bytes) -> None:
    run = wai("ask", "--raw", "--role", "poet", "[INST] hi [/INST]")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "wai: error: --role cannot be used with --raw: write its system message into the prompt\n"
    )
    assert server.requests == []


BAD_ROLES = [
    (
        '[roles.terse]\nmodel = "@cf/x/y"\n',
        "roles.terse.system: is missing: a role is a system message, with a model and "
        "parameters if you like",
        'set it with `wai config set roles.terse.system "You are ..."`',
    ),
    (
        '[roles.hot]\nsystem = "Be wild."\ntemperature = 9\n',
        "roles.hot.temperature: is 9, out of range: allowed 0 to 5",
        "fix it with `wai config set roles.hot.temperature VALUE` or `wai config unset "
        "roles.hot.temperature`",
    ),
    (
        '[roles.typed]\nsystem = "S"\nmodel = 3\n',
        "roles.typed.model: must be a string, got an integer",
        "fix it with `wai config set roles.typed.model VALUE` or `wai config unset "
        "roles.typed.model`",
    ),
    (
        '[roles.typed]\nsystem = "S"\ntop_k = "five"\n',
        "roles.typed.top_k: must be a number, got 'five'",
        "fix it with `wai config set roles.typed.top_k VALUE` or `wai config unset "
        "roles.typed.top_k`",
    ),
]


@pytest.mark.parametrize("command", ["ask", "chat"])
@pytest.mark.parametrize(("table", "message", "hint"), BAD_ROLES)
def test_a_bad_role_table_is_a_configuration_error_and_the_file_is_kept(
    server: WorkersAIServer,
    config_file: Path,
    sessions_dir: Path,
    command: str,
    table: str,
    message: str,
    hint: str,
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(f'model = "{DEFAULT_MODEL}"\n\n{table}')
    before = config_file.read_bytes()
    run = wai(command, *(["hi"] if command == "ask" else []), input="hi")
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == f"wai: error: {config_file}: {message}\nhint: {hint}\n"
    assert server.requests == []
    assert config_file.read_bytes() == before
    assert saved(sessions_dir) == {}


def test_a_roles_model_that_is_not_a_model_id_names_the_role(
    server: WorkersAIServer, config_file: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[roles.odd]\nsystem = "S"\nmodel = "@cf/../admin"\n')
    run = wai("ask", "--role", "odd", "hi")
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr.startswith(
        f"wai: error: roles.odd.model in {config_file}: '@cf/../admin' has an empty, . or .. "
        "name between its slashes, so it is not a Workers AI model id\nhint: "
    )
    assert server.requests == []


def test_a_roles_unknown_backend_is_a_configuration_error(
    server: WorkersAIServer, config_file: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[roles.far]\nsystem = "S"\nbackend = "nowhere"\n')
    run = wai("ask", "--role", "far", "hi")
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == (
        f"wai: error: roles.far.backend in {config_file}: unknown backend 'nowhere' (known: "
        "cloudflare, llamacpp, lmstudio, ollama, vllm)\n"
        "hint: add a [backends.nowhere] table, or change the role's backend\n"
    )
    assert server.requests == []


# --- wai chat --role --------------------------------------------------------------------------


def test_chat_with_a_role_sends_its_system_message_model_and_params(
    server: WorkersAIServer, roles: bytes, sessions_dir: Path
) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "wai", "chat", "--role", "reviewer", "--session", "piped"],
        input=b"is this ok?",
        capture_output=True,
        start_new_session=True,  # no controlling terminal: the piped text is all there is
        timeout=60,
        check=False,
    )
    # (a session holding only the role's system message is a new one: no "0 turns" listing)
    assert (completed.returncode, completed.stdout, completed.stderr) == (
        0,
        SCOUT_ANSWER.encode(),
        b"",
    )
    [request] = server.run_requests
    assert request.path == run_path(SCOUT)
    assert json.dumps(request.body) == native_body(
        said("system", REVIEWER), said("user", "is this ok?"), **ROLE_PARAMS
    )
    assert saved(sessions_dir) == {
        "piped": session(
            "piped", [said("system", REVIEWER), asked("is this ok?"), answered_by_scout()]
        )
    }


# --- /role in the REPL ------------------------------------------------------------------------

LISTING = (
    f"  reviewer  {SCOUT}  You review code.\n"
    f"  poet      {'-'.ljust(len(SCOUT))}  You write haiku.\n"
)
SWITCHED = f"wai: role reviewer: system message set, model {SCOUT}, temperature = 0.2, top_k = 5\n"


def marked(listing: str, name: str) -> str:
    return "".join(
        f"*{line[1:]}" if line.startswith(f"  {name} ") else line
        for line in listing.splitlines(keepends=True)
    )


def test_role_alone_lists_the_roles_and_marks_the_one_in_use(
    server: WorkersAIServer, roles: bytes
) -> None:
    chat = Chat()
    chat.type("/role")
    assert chat.output() == (LISTING, "")
    chat.type("/role reviewer")
    chat.output()
    chat.type("/role")
    assert chat.output() == (marked(LISTING, "reviewer"), "")
    assert server.requests == []


def test_role_alone_marks_the_role_of_the_command_line(
    server: WorkersAIServer, roles: bytes
) -> None:
    chat = Chat(Overrides(role="poet"))
    chat.type("/role")
    assert chat.output() == (marked(LISTING, "poet"), "")


def test_role_alone_without_roles_says_how_to_add_one(server: WorkersAIServer) -> None:
    chat = Chat()
    chat.type("/role")
    assert chat.output() == (
        "",
        'wai: no roles yet: add one with `wai config set roles.NAME.system "You are ..."`\n',
    )


def test_role_switches_the_system_message_model_and_params(
    server: WorkersAIServer, roles: bytes, sessions_dir: Path
) -> None:
    chat = Chat()
    chat.type("/role reviewer")
    assert chat.output() == ("", SWITCHED)
    assert saved(sessions_dir) == {}  # a new session records it with its first turn
    chat.type("/model", "/set", "/system")
    assert chat.output() == (
        f"{SCOUT}\nmax_tokens = 1024\ntemperature = 0.2\ntop_k = 5\n{REVIEWER}\n",
        "",
    )

    chat.type("is this ok?")
    assert chat.output() == (SCOUT_ANSWER, "")
    [request] = server.run_requests
    assert request.path == run_path(SCOUT)
    assert json.dumps(request.body) == native_body(
        said("system", REVIEWER), said("user", "is this ok?"), **ROLE_PARAMS
    )
    name = f"{today()}-is-this-ok"
    assert saved(sessions_dir) == {
        name: session(name, [said("system", REVIEWER), asked("is this ok?"), answered_by_scout()])
    }


def test_role_in_a_saved_session_is_saved_at_once_and_keeps_what_it_does_not_name(
    server: WorkersAIServer, roles: bytes, sessions_dir: Path
) -> None:
    chat = Chat()
    chat.type("/role reviewer", "hi")
    chat.output()
    name = f"{today()}-hi"
    chat.type("/role poet")
    assert chat.output() == ("", "wai: role poet: system message set\n")
    assert saved(sessions_dir) == {
        name: session(name, [said("system", POET), asked("hi"), answered_by_scout()], role="poet")
    }
    chat.type("again")
    assert server.run_requests[-1].path == run_path(SCOUT)
    assert json.dumps(server.last_body) == native_body(
        said("system", POET),
        said("user", "hi"),
        said("assistant", SCOUT_ANSWER),
        said("user", "again"),
        **ROLE_PARAMS,
    )


def test_an_unknown_role_is_an_error_and_changes_nothing(
    server: WorkersAIServer, roles: bytes, sessions_dir: Path
) -> None:
    chat = Chat()
    chat.type("/system Be brief.", "hi")
    chat.output()
    name = f"{today()}-hi"
    before = saved(sessions_dir)
    chat.type("/role critic")
    assert chat.output() == ("", UNKNOWN_ROLE)
    chat.type("/system", "/model", "/set")
    assert chat.output() == (f"Be brief.\n{DEFAULT_MODEL}\nmax_tokens = 1024\n", "")
    assert saved(sessions_dir) == before
    assert "role" not in before[name]


def test_a_role_with_a_bad_model_is_an_error_and_changes_nothing(
    server: WorkersAIServer, config_file: Path, sessions_dir: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[roles.odd]\nsystem = "S"\nmodel = "@cf/../admin"\n')
    chat = Chat()
    chat.type("/role odd")
    stdout, stderr = chat.output()
    assert stdout == ""
    assert stderr.startswith(
        f"wai: error: roles.odd.model in {config_file}: '@cf/../admin' has an empty, . or .. "
        "name between its slashes, so it is not a Workers AI model id\n"
    )
    chat.type("/system", "/model", "/role")
    assert chat.output() == (
        f"(no system message)\n{DEFAULT_MODEL}\n  odd  @cf/../admin  S\n",
        "",
    )
    # a model chosen afterwards is the user's own: its errors name -m, not the role
    chat.type("/model @cf/..")
    assert chat.output()[1].startswith("wai: error: -m: '@cf/..' has an empty")


# --- /role in a real terminal -----------------------------------------------------------------


def test_role_typed_at_the_terminal(server: WorkersAIServer, roles: bytes, isolated: Path) -> None:
    child = spawn("--role", "poet", "--session", "typed")
    child.logfile_read = written = io.StringIO()
    child.expect(PROMPT)
    child.send("/role\r")
    child.expect("You write haiku.")
    child.expect(PROMPT)
    child.send("/role reviewer\r")
    child.expect("top_k = 5")
    child.expect(PROMPT)
    child.send("is this ok?\r")
    child.expect(SCOUT_ANSWER)
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    raw = written.getvalue()
    assert (child.exitstatus, child.signalstatus) == (0, None), raw
    assert "Traceback" not in raw

    screen = pyte.HistoryScreen(100, 30, history=1000)
    pyte.Stream(screen).feed(raw)
    shown = [line.rstrip() for line in screen.display]
    start = shown.index(f"{PROMPT} /role")
    assert shown[start : start + 4] == [
        f"{PROMPT} /role",
        f"  reviewer  {SCOUT}  You review code.",
        f"* poet      {'-'.ljust(len(SCOUT))}  You write haiku.",
        f"{PROMPT} /role reviewer",
    ]
    notice = " ".join(shown[start + 4 : start + 6])  # longer than the terminal is wide
    assert notice.split() == SWITCHED.split()
    [request] = server.run_requests
    assert request.path == run_path(SCOUT)
    assert json.dumps(request.body) == native_body(
        said("system", REVIEWER), said("user", "is this ok?"), **ROLE_PARAMS
    )
    document = stamped(json.loads((isolated / "data" / "sessions" / "typed.json").read_text()))
    assert document == session(
        "typed", [said("system", REVIEWER), asked("is this ok?"), answered_by_scout()]
    )


# --- wai config -------------------------------------------------------------------------------


def test_config_set_checks_a_roles_keys(config_file: Path, roles: bytes) -> None:
    run = wai("config", "set", "roles.poet.temperature", "9")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "wai: error: roles.poet.temperature: is 9, out of range: allowed 0 to 5\n"
    run = wai("config", "set", "roles.Poet.system", "Shout.")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "wai: error: roles.Poet: invalid role name: use lowercase letters, digits, '_' and '-', "
        "starting with a letter or digit\n"
    )
    assert config_file.read_bytes() == roles
    assert wai("config", "set", "roles.poet.top_p", "0.5").exit_code == 0
    assert config_file.read_text() == ROLES + "top_p = 0.5\n"
