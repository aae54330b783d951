"""`wai login`: verify a Cloudflare account id and API token, then store them (mode 0600)."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import Run, wai
from tests.servers.workers_ai import ACCOUNT, TOKEN, WorkersAIServer

VERIFY = "/client/v4/user/tokens/verify"
SEARCH = f"/client/v4/accounts/{ACCOUNT}/ai/models/search"
PAGE_1 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=1"
PAGE_2 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=2"
BAD_TOKEN = "cf-wrong-token-Qm3Vx8Lp2Rt6"
REFUSED = (
    "wai: error: Cloudflare refused the API token: Invalid API Token\n"
    "hint: check CLOUDFLARE_API_TOKEN; the token needs Workers AI Read and Edit permissions "
    "(https://dash.cloudflare.com/profile/api-tokens)\n"
)
STORED = f'[backends.cloudflare]\naccount_id = "{ACCOUNT}"\napi_token = "{TOKEN}"\n'.encode()
UNPARSEABLE = b'model = "@cf/x"\n[params\ntemperature = 0.5\n'


@pytest.fixture
def cloudflare(server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch) -> WorkersAIServer:
    """The Workers AI server with only its address in the environment: no account id or token,
    as for someone who has never logged in."""
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    return server


def logged_in(path: Path, models: int = 60) -> str:
    return (
        f"wai: logged in: account {ACCOUNT}, token active, {models} text-generation models; "
        f"saved to {path}\n"
    )


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_config(path: Path, data: bytes, mode: int = 0o644) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return data


def calls(server: WorkersAIServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests]


def assert_run(run: Run, exit_code: int, stdout: str = "", stderr: str = "") -> None:
    assert (run.exit_code, run.stdout, run.stderr) == (exit_code, stdout, stderr)


def login(*args: str, token: str = TOKEN) -> Run:
    run = wai("login", "--account-id", ACCOUNT, "--token-stdin", *args, input=f"{token}\n")
    run.assert_secret_absent(token)
    return run


# --- success ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stdin", [TOKEN, f"{TOKEN}\n", f"  {TOKEN}\t\r\n"])
def test_login_verifies_then_stores_both_with_mode_0600(
    cloudflare: WorkersAIServer, config_file: Path, stdin: str
) -> None:
    run = wai("login", "--account-id", ACCOUNT, "--token-stdin", input=stdin)
    assert_run(run, 0, stderr=logged_in(config_file))
    assert config_file.read_bytes() == STORED
    assert mode_of(config_file) == 0o600
    assert mode_of(config_file.parent) == 0o700
    assert os.listdir(config_file.parent) == ["config.toml"]
    assert calls(cloudflare) == [("GET", VERIFY), ("GET", PAGE_1), ("GET", PAGE_2)]
    for request in cloudflare.requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_the_stored_credentials_are_what_later_commands_use(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    assert login().exit_code == 0
    run = wai("doctor")
    assert run.exit_code == 0
    assert "✓  account id                  from the config file\n" in run.stdout
    assert "✓  API token                   from the config file (value not shown)\n" in run.stdout


def test_the_file_is_0600_whatever_the_umask(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    previous = os.umask(0)
    try:
        run = login()
    finally:
        os.umask(previous)
    assert run.exit_code == 0
    assert mode_of(config_file) == 0o600
    assert mode_of(config_file.parent) == 0o700


def test_login_keeps_the_rest_of_the_config(cloudflare: WorkersAIServer, config_file: Path) -> None:
    write_config(
        config_file,
        b'model = "@cf/meta/llama-3.1-8b-instruct"\n\n[params]\ntemperature = 0.5\n\n'
        b'[backends.cloudflare]\ngateway = "my-gateway"\n',
    )
    assert_run(login(), 0, stderr=logged_in(config_file))
    assert config_file.read_bytes() == (
        b'model = "@cf/meta/llama-3.1-8b-instruct"\n\n[params]\ntemperature = 0.5\n\n'
        b'[backends.cloudflare]\ngateway = "my-gateway"\n'
        b'account_id = "' + ACCOUNT.encode() + b'"\napi_token = "' + TOKEN.encode() + b'"\n'
    )
    assert mode_of(config_file) == 0o600  # it was 0644 with no secret in it


def test_login_again_replaces_the_old_credentials(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    write_config(
        config_file,
        b'[backends.cloudflare]\naccount_id = "old-account"\napi_token = "old-token"\n',
        0o600,
    )
    assert_run(login(), 0, stderr=logged_in(config_file))
    assert config_file.read_bytes() == STORED


def test_a_token_in_the_environment_is_said_to_take_precedence(
    server: WorkersAIServer, config_file: Path
) -> None:
    # The `server` fixture exports CLOUDFLARE_API_TOKEN.
    run = login()
    assert_run(
        run,
        0,
        stderr=logged_in(config_file)
        + "wai: note: CLOUDFLARE_ACCOUNT_ID in the environment still takes precedence\n"
        + "wai: note: CLOUDFLARE_API_TOKEN in the environment still takes precedence\n",
    )
    assert config_file.read_bytes() == STORED


def test_login_for_another_cloudflare_backend(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, b'[backends.work]\ntype = "cloudflare"\n')
    run = login("-b", "work")
    assert_run(run, 0, stderr=logged_in(config_file))
    assert config_file.read_bytes() == (
        b'[backends.work]\ntype = "cloudflare"\naccount_id = "'
        + ACCOUNT.encode()
        + b'"\napi_token = "'
        + TOKEN.encode()
        + b'"\n'
    )


# --- refusals: nothing is stored --------------------------------------------------------------


def test_a_bad_token_stores_nothing(cloudflare: WorkersAIServer, config_file: Path) -> None:
    run = login(token=BAD_TOKEN)
    assert_run(run, 3, stderr=REFUSED)
    assert not config_file.exists()
    assert not config_file.parent.exists()
    assert calls(cloudflare) == [("GET", VERIFY)]
    assert cloudflare.requests[0].headers["Authorization"] == f"Bearer {BAD_TOKEN}"


def test_a_bad_token_leaves_an_existing_config_byte_for_byte(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    before = write_config(
        config_file,
        b'# my settings\n[backends.cloudflare]\naccount_id = "old-account"\n'
        b'api_token = "old-token"\n',
        0o600,
    )
    mtime = config_file.stat().st_mtime_ns
    assert_run(login(token=BAD_TOKEN), 3, stderr=REFUSED)
    assert config_file.read_bytes() == before
    assert config_file.stat().st_mtime_ns == mtime
    assert mode_of(config_file) == 0o600
    assert os.listdir(config_file.parent) == ["config.toml"]


def test_a_disabled_token_is_refused(cloudflare: WorkersAIServer, config_file: Path) -> None:
    cloudflare.token_status = "disabled"
    run = login()
    assert_run(
        run,
        3,
        stderr="wai: error: the API token is disabled, not active\n"
        "hint: create or roll a token at https://dash.cloudflare.com/profile/api-tokens\n",
    )
    assert not config_file.exists()
    assert calls(cloudflare) == [("GET", VERIFY)]


def test_a_wrong_account_id_is_named_and_nothing_stored(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    wrong = "ffffffffffffffffffffffffffffffff"
    run = wai("login", "--account-id", wrong, "--token-stdin", input=f"{TOKEN}\n")
    assert_run(
        run,
        3,
        stderr=f"wai: error: Cloudflare does not know the account id '{wrong}': "
        f"Could not route to /client/v4/accounts/{wrong}/ai/models/search\n"
        "hint: check CLOUDFLARE_ACCOUNT_ID: it is the 32-character id shown in the "
        "dashboard's Workers AI page\n",
    )
    assert not config_file.exists()
    assert calls(cloudflare) == [
        ("GET", VERIFY),
        (
            "GET",
            f"/client/v4/accounts/{wrong}/ai/models/search"
            f"?task=Text%20Generation&per_page=50&page=1",
        ),
    ]


def test_without_account_id_and_no_terminal_is_a_usage_error(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    run = wai("login", "--token-stdin", input=f"{TOKEN}\n")
    assert_run(run, 2, stderr="wai: error: --account-id is needed when stdin is not a terminal\n")
    assert cloudflare.requests == []
    assert not config_file.exists()


def test_without_token_stdin_and_no_terminal_is_a_usage_error_with_a_hint(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    run = wai("login", "--account-id", ACCOUNT, input=f"{TOKEN}\n")
    assert_run(
        run,
        2,
        stderr="wai: error: the token is read from a terminal, hidden; in a script use "
        "--token-stdin\n"
        "hint: printf '%s' \"$TOKEN\" | wai login --account-id ID --token-stdin\n",
    )
    assert cloudflare.requests == []
    assert not config_file.exists()


@pytest.mark.parametrize("stdin", ["", "\n", "   \n"])
def test_token_stdin_with_no_token_is_a_usage_error(
    cloudflare: WorkersAIServer, config_file: Path, stdin: str
) -> None:
    run = wai("login", "--account-id", ACCOUNT, "--token-stdin", input=stdin)
    assert_run(run, 2, stderr="wai: error: --token-stdin: stdin held no token\n")
    assert cloudflare.requests == []
    assert not config_file.exists()


def test_an_empty_account_id_is_a_usage_error(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    run = wai("login", "--account-id", " ", "--token-stdin", input=f"{TOKEN}\n")
    assert_run(run, 2, stderr="wai: error: both the account id and the API token are needed\n")
    assert cloudflare.requests == []
    assert not config_file.exists()


def test_a_config_that_cannot_be_parsed_is_never_overwritten(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    before = write_config(config_file, UNPARSEABLE)
    run = login()
    assert_run(
        run,
        3,
        stderr=f"wai: error: cannot parse {config_file}: Expected ']' at the end of a table "
        "declaration (at line 2, column 8)\n"
        "hint: fix the file by hand (`wai config edit`); wai will not overwrite it\n",
    )
    assert config_file.read_bytes() == before
    assert mode_of(config_file) == 0o644
    assert os.listdir(config_file.parent) == ["config.toml"]
    assert cloudflare.requests == []


@pytest.mark.parametrize("name", ["llamacpp", "local"])
def test_a_backend_that_is_not_cloudflare_is_a_usage_error(
    cloudflare: WorkersAIServer, config_file: Path, name: str
) -> None:
    before = write_config(
        config_file, b'[backends.local]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
    )
    run = login("-b", name)
    assert_run(
        run, 2, stderr=f"wai: error: {name} is not a Cloudflare backend; `wai login` is for those\n"
    )
    assert config_file.read_bytes() == before
    assert cloudflare.requests == []


def test_a_new_backend_name_becomes_a_cloudflare_backend(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    run = login("--backend", "work")
    assert_run(run, 0, stderr=logged_in(config_file))
    assert (
        config_file.read_bytes()
        == (
            f'[backends.work]\ntype = "cloudflare"\naccount_id = "{ACCOUNT}"\n'
            f'api_token = "{TOKEN}"\n'
        ).encode()
    )


def test_a_new_backend_name_with_a_bad_token_stores_nothing(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    run = login("--backend", "work", token="bad-token")
    assert run.exit_code == 3
    assert not config_file.exists()


# --- at a terminal ----------------------------------------------------------------------------


def spawn_login() -> tuple[pexpect.spawn, io.StringIO]:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "wai", "login"],
        env=dict(os.environ),
        dimensions=(24, 200),
        encoding="utf-8",
        timeout=30,
    )
    transcript = io.StringIO()
    child.logfile_read = transcript
    return child, transcript


def test_login_at_a_terminal_asks_for_both_and_hides_the_token(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    child, transcript = spawn_login()
    child.expect_exact("Cloudflare account id: ")
    child.sendline(ACCOUNT)
    child.expect_exact("API token: ")
    child.sendline(TOKEN)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    output = transcript.getvalue()
    assert TOKEN not in output
    assert output == (
        f"Cloudflare account id: {ACCOUNT}\r\n"  # the account id is echoed as typed
        "API token: \r\n" + logged_in(config_file).replace("\n", "\r\n")  # the token is not
    )
    assert config_file.read_bytes() == STORED
    assert mode_of(config_file) == 0o600
    assert calls(cloudflare) == [("GET", VERIFY), ("GET", PAGE_1), ("GET", PAGE_2)]


def test_a_bad_token_typed_at_a_terminal_stores_nothing(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    child, transcript = spawn_login()
    child.expect_exact("Cloudflare account id: ")
    child.sendline(ACCOUNT)
    child.expect_exact("API token: ")
    child.sendline(BAD_TOKEN)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3
    output = transcript.getvalue()
    assert BAD_TOKEN not in output
    assert output == (
        f"Cloudflare account id: {ACCOUNT}\r\nAPI token: \r\n" + REFUSED.replace("\n", "\r\n")
    )
    assert not config_file.exists()
