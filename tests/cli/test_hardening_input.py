"""Input that could leak the token or rewrite the request: tokens with control characters,
`--show-request` pasted into a shell, and ids that would change the URL."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Run, wai, wai_process
from tests.servers.openai_compat import OpenAIServer
from tests.servers.workers_ai import ACCOUNT, DEFAULT_MODEL, TOKEN, WorkersAIServer
from wai.environment import Environment

TOKEN_HINT = (
    "hint: an API token is printable ASCII; copy it again from "
    "https://dash.cloudflare.com/profile/api-tokens\n"
)
MODEL_HINT = (
    "hint: a Workers AI model id is names separated by /, such as @cf/meta/llama-3.1-8b-instruct: "
    "none empty, . or .., and no whitespace, control character, ?, #, % or \\\n"
)
ACCOUNT_HINT = (
    "hint: an account id is 32 hexadecimal digits: the dashboard shows it on the Workers AI page "
    "(or run `wai login`)\n"
)
VERIFY = "../../../../user/tokens/verify"
STORED = f'[backends.cloudflare]\naccount_id = "{ACCOUNT}"\napi_token = "{TOKEN}"\n'


def token_error(source: str) -> str:
    return f"wai: error: {source} holds a control character or a non-ASCII character\n{TOKEN_HINT}"


def model_error(source: str, problem: str) -> str:
    return f"wai: error: {source}: {problem}, so it is not a Workers AI model id\n{MODEL_HINT}"


def outcome(run: Run) -> tuple[int, str, str]:
    return run.exit_code, run.stdout, run.stderr


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return text


# --- 1. a token with a control character never prints -----------------------------------------


@pytest.mark.parametrize("variable", ["CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"])
@pytest.mark.parametrize("bad", ["\r", "\n", "\x1b", "\x7f", "é", "\u2028"])
def test_an_environment_token_with_a_control_character_is_refused_unshown(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, variable: str, bad: str
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    secret = f"{TOKEN[:10]}{bad}{TOKEN[10:]}"
    done = wai_process("ask", "hi", env={variable: secret})
    assert (done.returncode, done.stdout, done.stderr.decode()) == (3, b"", token_error(variable))
    assert TOKEN[10:].encode() not in done.stderr
    assert server.requests == []


def test_surrounding_whitespace_of_a_token_is_stripped(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", f" {TOKEN}\r\n")
    run = wai("ask", "hi")
    assert (run.exit_code, run.stderr) == (0, "")
    assert server.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_config_token_with_a_control_character_is_refused_unshown(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    text = write(config_file, f'[backends.cloudflare]\napi_token = "{TOKEN[:10]}\\r{TOKEN[10:]}"\n')
    run = wai("ask", "hi")
    source = f"backends.cloudflare.api_token in {config_file}"
    assert outcome(run) == (3, "", token_error(source))
    assert config_file.read_text() == text
    assert server.requests == []


def test_a_local_api_key_that_is_not_ascii_is_refused_unshown(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    text = write(
        config_file,
        'backend = "local"\n[backends.local]\ntype = "openai"\n'
        f'base_url = "{openai_server.base_url}"\napi_key = "sk-clé-secrète-123"\n',
    )
    run = wai("ask", "hi")
    assert outcome(run) == (3, "", token_error(f"backends.local.api_key in {config_file}"))
    assert "secr" not in run.stderr
    assert config_file.read_text() == text
    assert openai_server.requests == []


def test_login_refuses_a_token_with_an_inner_carriage_return(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    text = write(config_file, 'model = "@cf/meta/llama-3.1-8b-instruct"\n')
    done = wai_process(
        "login",
        "--account-id",
        ACCOUNT,
        "--token-stdin",
        input=f"{TOKEN[:10]}\r{TOKEN[10:]}\n".encode(),
    )
    assert (done.returncode, done.stdout, done.stderr.decode()) == (
        3,
        b"",
        token_error("the token read from stdin"),
    )
    assert config_file.read_text() == text
    assert server.requests == []


def test_login_strips_the_token_read_from_stdin(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    run = wai("login", "--account-id", ACCOUNT, "--token-stdin", input=f"  {TOKEN}\r\n")
    assert run.exit_code == 0
    assert f'api_token = "{TOKEN}"\n' in config_file.read_text()


def test_login_refuses_an_account_id_that_would_change_the_url(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    run = wai("login", "--account-id", "../user/tokens/verify?", "--token-stdin", input=TOKEN)
    assert outcome(run) == (
        2,
        "",
        f"wai: error: --account-id is not a Cloudflare account id\n{ACCOUNT_HINT}",
    )
    assert not config_file.exists()
    assert server.requests == []


def test_a_debug_traceback_is_scrubbed(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"{TOKEN}\\with'quote"  # repr and JSON escape the backslash, repr the quote
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", secret)

    def fail(*args: object, **kwargs: object) -> None:
        value = f"Bearer {secret}".encode()
        raise ValueError(f"Invalid header value {value!r}, {json.dumps(secret)}, {secret!r}")

    monkeypatch.setattr("wai.backends.cloudflare.stream_call", fail)
    run = wai("--debug", "ask", "hi")
    assert run.exit_code == 1
    assert run.stderr.startswith("Traceback (most recent call last):\n")
    assert run.stderr.endswith(
        'ValueError: Invalid header value b"Bearer ********", "********", "********"\n'
    )
    for form in (TOKEN, secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]):
        assert form not in run.stderr

    run = wai("ask", "hi")  # without --debug, the message alone, scrubbed the same
    assert outcome(run) == (
        1,
        "",
        'wai: error: unexpected ValueError: Invalid header value b"Bearer ********", '
        '"********", "********"\n'
        "hint: run again with --debug (or WAI_DEBUG=1) for the traceback\n",
    )


def test_the_scrubber_covers_escaped_forms_and_ignores_short_secrets() -> None:
    env = Environment()
    env.add_secret("short")
    env.add_secret('long-enough\\é"')
    assert env.scrub("a short word") == "a short word"
    assert env.scrub('long-enough\\é"') == "********"
    assert env.scrub(repr('long-enough\\é"')) == "'********'"
    assert env.scrub(json.dumps('long-enough\\é"')) == '"********"'
    assert env.scrub(json.dumps('long-enough\\é"', ensure_ascii=False)) == '"********"'


# --- 2. --show-request is safe to paste -------------------------------------------------------

NASTY = "x$(echo INJ)`echo BT`'q\"\\ \nnext line"


def split(command: str) -> list[str]:
    """What a POSIX shell's parser makes of `command` (its lines joined as the shell joins them)."""
    return shlex.split(command.replace(" \\\n  ", " "))


def argv_of(command: str, environ: dict[str, str]) -> list[str]:
    """The argv bash gives `curl` for `command`, with curl (and echo) replaced."""
    script = (
        "curl() { printf '%s\\0' \"$@\"; }\n"
        "id() { printf INJECTED; }\n"  # in case a substitution ran after all
        "echo() { printf INJECTED; }\n"
        f"{command}\n"
    )
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", **environ},
        check=True,
        timeout=10,
    )
    return ["curl", *done.stdout.decode().split("\0")[:-1]]


def test_show_request_with_a_hostile_model_id_runs_nothing(server: WorkersAIServer) -> None:
    model = "@cf/a$(id)`id`'q/m"
    run = wai("ask", "--show-request", "--no-stream", "-m", model, "-s", NASTY, "hi")
    assert (run.exit_code, run.stderr) == (0, "")
    url = f"{server.base_url}/accounts/{ACCOUNT}/ai/run/@cf/a%24%28id%29%60id%60%27q/m"
    body = {
        "messages": [{"role": "system", "content": NASTY}, {"role": "user", "content": "hi"}],
        "stream": False,
        "max_tokens": 1024,
    }
    expected = [
        "curl",
        "-s",
        "-X",
        "POST",
        url,
        "-H",
        "Authorization: Bearer $CLOUDFLARE_API_TOKEN",
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps(body, ensure_ascii=False),
    ]
    assert split(run.stdout) == expected
    expected[6] = "Authorization: Bearer the-token"
    assert argv_of(run.stdout, {"CLOUDFLARE_API_TOKEN": "the-token"}) == expected


def test_show_request_keeps_only_the_account_placeholder_a_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = "http://127.0.0.1:1/$(id)/`id`/$HOME/'q'"
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", base)
    run = wai("ask", "--show-request", "--no-stream", "hi")
    assert (run.exit_code, run.stderr) == (0, "")
    tail = f"/accounts/$CLOUDFLARE_ACCOUNT_ID/ai/run/{DEFAULT_MODEL}"
    assert run.stdout.startswith(
        "curl -s -X POST 'http://127.0.0.1:1/$(id)/`id`/$HOME/'\"'\"'q'\"'\"'"
        f'/accounts/\'"$CLOUDFLARE_ACCOUNT_ID"/ai/run/{DEFAULT_MODEL} \\\n'
    )
    argv = argv_of(run.stdout, {"CLOUDFLARE_ACCOUNT_ID": ACCOUNT, "CLOUDFLARE_API_TOKEN": "t"})
    assert argv[4] == base + tail.replace("$CLOUDFLARE_ACCOUNT_ID", ACCOUNT)


def test_show_request_for_a_local_server_quotes_any_model_id(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    write(
        config_file,
        'backend = "local"\n[backends.local]\ntype = "openai"\n'
        f'base_url = "{openai_server.base_url}"\n',
    )
    run = wai("ask", "--show-request", "--no-stream", "-m", NASTY, "hi")
    assert (run.exit_code, run.stderr) == (0, "")
    expected = [
        "curl",
        "-s",
        "-X",
        "POST",
        f"{openai_server.base_url}/chat/completions",
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps(
            {
                "model": NASTY,
                "messages": [{"role": "user", "content": "hi"}],
                "stream": False,
                "max_tokens": 1024,
            },
            ensure_ascii=False,
        ),
    ]
    assert split(run.stdout) == expected
    assert argv_of(run.stdout, {}) == expected
    assert openai_server.requests == []


# --- 3. ids cannot rewrite the URL ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        (VERIFY, f"{VERIFY!r} has an empty, . or .. name between its slashes"),
        ("@cf//x", "'@cf//x' has an empty, . or .. name between its slashes"),
        ("@cf/./x", "'@cf/./x' has an empty, . or .. name between its slashes"),
        ("@cf/x?task=1", "'@cf/x?task=1' holds '?'"),
        ("@cf/x#frag", "'@cf/x#frag' holds '#'"),
        ("@cf/x%2F..", "'@cf/x%2F..' holds '%'"),
        ("@cf\\x", "'@cf\\\\x' holds '\\\\'"),
        ("@cf/x y", "'@cf/x y' holds ' '"),
        ("@cf/x\ny", "'@cf/x\\ny' holds '\\n'"),
    ],
)
def test_a_model_flag_that_would_change_the_url_is_a_usage_error(
    server: WorkersAIServer, model: str, problem: str
) -> None:
    run = wai("ask", "-m", model, "hi")
    assert outcome(run) == (2, "", model_error("-m", problem))
    assert server.requests == []


def test_a_model_from_the_environment_is_a_config_error(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAI_MODEL", VERIFY)
    run = wai("ask", "hi")
    problem = f"{VERIFY!r} has an empty, . or .. name between its slashes"
    assert outcome(run) == (3, "", model_error("WAI_MODEL", problem))
    assert server.requests == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (f'model = "{VERIFY}"\n', "model"),
        (f'[backends.cloudflare]\nmodel = "{VERIFY}"\n', "backends.cloudflare.model"),
    ],
)
def test_a_model_from_the_config_is_a_config_error(
    server: WorkersAIServer, config_file: Path, text: str, key: str
) -> None:
    write(config_file, text)
    run = wai("ask", "hi")
    problem = f"{VERIFY!r} has an empty, . or .. name between its slashes"
    assert outcome(run) == (3, "", model_error(f"{key} in {config_file}", problem))
    assert config_file.read_text() == text
    assert server.requests == []


def session_with_model(server: WorkersAIServer, isolated: Path, model: str) -> tuple[Path, str]:
    assert wai("ask", "--session", "s", "hi").exit_code == 0
    path = isolated / "data" / "sessions" / "s.json"
    document = json.loads(path.read_text())
    document["model"] = model
    path.write_text(json.dumps(document))
    server.requests.clear()
    return path, path.read_text()


def test_a_session_model_that_would_change_the_url_sends_nothing(
    server: WorkersAIServer, isolated: Path
) -> None:
    path, text = session_with_model(server, isolated, VERIFY)
    run = wai("ask", "--session", "s", "again")
    assert run.exit_code in (2, 3)
    assert "is not a Workers AI model id" in run.stderr
    assert path.read_text() == text
    assert server.requests == []


def test_a_session_model_that_would_change_the_url_names_the_session_file(
    server: WorkersAIServer, isolated: Path
) -> None:
    path, text = session_with_model(server, isolated, VERIFY)
    run = wai("ask", "--session", "s", "again")
    problem = f"{VERIFY!r} has an empty, . or .. name between its slashes"
    assert outcome(run) == (3, "", model_error(f"model in {path}", problem))
    assert path.read_text() == text


@pytest.mark.parametrize("variable", ["CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID"])
@pytest.mark.parametrize(
    "account",
    ["../../user/tokens/verify", f"{ACCOUNT}?x=1", f"{ACCOUNT}#", ACCOUNT[:-1], ACCOUNT[:-1] + "g"],
)
def test_an_account_id_that_would_change_the_url_is_a_config_error(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, variable: str, account: str
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    monkeypatch.setenv(variable, account)
    run = wai("ask", "hi")
    assert outcome(run) == (
        3,
        "",
        f"wai: error: {variable} is not a Cloudflare account id\n{ACCOUNT_HINT}",
    )
    assert server.requests == []


def test_a_config_account_id_that_would_change_the_url_is_a_config_error(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    text = write(config_file, '[backends.cloudflare]\naccount_id = "../../user/tokens/verify"\n')
    run = wai("ask", "hi")
    assert outcome(run) == (
        3,
        "",
        f"wai: error: backends.cloudflare.account_id in {config_file} is not a Cloudflare "
        f"account id\n{ACCOUNT_HINT}",
    )
    assert config_file.read_text() == text
    assert server.requests == []


def test_a_base_url_with_a_newline_is_a_config_error(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", f"{server.base_url}\nX-Injected: 1")
    run = wai("ask", "hi")
    assert outcome(run) == (
        3,
        "",
        "wai: error: CLOUDFLARE_API_BASE_URL holds whitespace or a control character\n"
        "hint: it must be one URL\n",
    )
    monkeypatch.delenv("CLOUDFLARE_API_BASE_URL")
    text = write(config_file, '[backends.cloudflare]\nbase_url = "https://x.cloudflare.com/\\n"\n')
    run = wai("ask", "hi")
    assert outcome(run) == (
        3,
        "",
        f"wai: error: backends.cloudflare.base_url in {config_file} holds whitespace or a "
        "control character\nhint: it must be one URL\n",
    )
    assert config_file.read_text() == text
    assert server.requests == []


def test_model_names_are_percent_encoded_and_at_signs_stay(server: WorkersAIServer) -> None:
    run = wai("ask", "-m", "@cf/meta/llama-3.1-8b-instruct:fast$'", "hi")
    assert run.exit_code in (0, 1)  # the server may not know it; what matters is the path
    assert server.requests[0].path == (
        f"/client/v4/accounts/{ACCOUNT}/ai/run/@cf/meta/llama-3.1-8b-instruct:fast%24%27"
    )


def test_a_local_server_takes_any_model_id_in_the_body(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    write(
        config_file,
        'backend = "local"\n[backends.local]\ntype = "openai"\n'
        f'base_url = "{openai_server.base_url}"\n',
    )
    model = "/models/../my model?#%.gguf"
    wai("ask", "--no-stream", "-m", model, "hi")  # not one the server has: what counts is sent
    assert openai_server.requests[-1].body["model"] == model
    assert openai_server.requests[-1].path == "/v1/chat/completions"


@pytest.mark.parametrize(
    "args",
    [
        [b"ask", b"--no-save", b"caf\xe9"],
        [b"ask", b"-m", b"@cf/x\xff", b"hi"],
        [b"sessions", b"show", b"a\xff"],
    ],
)
def test_an_argument_that_is_not_utf8_is_a_usage_error(
    server: WorkersAIServer, isolated: Path, args: list[bytes]
) -> None:
    bad = next(arg for arg in args if not arg.isascii())
    completed = subprocess.run(
        [sys.executable.encode(), b"-m", b"wai", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (completed.returncode, completed.stdout) == (2, b"")
    assert completed.stderr == (
        f"wai: error: an argument is not UTF-8: {bad!r}\n".encode()
        + b"hint: wai reads its arguments as UTF-8; check the encoding of the terminal or the "
        b"script\n"
    )
    assert server.requests == []
    assert not (isolated / "data").exists()
