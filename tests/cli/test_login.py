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
from tests.servers.scripted import Reply
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_MODEL,
    TOKEN,
    WorkersAIServer,
    catalogue_entry,
    envelope,
)

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
    coloured = REFUSED.replace("wai: error:", "\x1b[1;31mwai: error:\x1b[0m").replace(
        "hint:", "\x1b[36mhint:\x1b[0m"
    )  # the labels, on a terminal
    assert output == (
        f"Cloudflare account id: {ACCOUNT}\r\nAPI token: \r\n" + coloured.replace("\n", "\r\n")
    )
    assert not config_file.exists()


# --- the configured model and the catalogue ---------------------------------------------------

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
GPT_OSS = "@cf/openai/gpt-oss-20b"
MISTRAL_SMALL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
QWEN = "@cf/qwen/qwen3-30b-a3b-fp8"
GEMMA = "@cf/google/gemma-3-12b-it"
MISTRAL_7B = "@hf/mistral/mistral-7b-instruct-v0.2"
# A live catalogue without the seed model (DEFAULT_MODEL), which Cloudflare really retired.
LIVE = [
    catalogue_entry(LLAMA, "Meta's Llama 3.1 8B Instruct.", 7968),
    catalogue_entry(GPT_OSS, "OpenAI's open-weight model.", 128000),
    catalogue_entry(MISTRAL_SMALL, "Mistral Small 3.1 24B.", 128000),
    catalogue_entry(QWEN, "Qwen3 30B A3B.", 32768),
    catalogue_entry(GEMMA, "Gemma 3 12B.", 80000),
    catalogue_entry(MISTRAL_7B, "Mistral 7B Instruct v0.2.", 3072),
]
NOT_LISTED = (
    f"wai: the model {DEFAULT_MODEL} is not in your account's catalogue "
    "(retired, or not available to you)\n"
)
CHOOSE = (
    "hint: choose one with `wai login --model ID` or `wai config set model ID`; "
    "`wai models` lists them\n"
)


def test_a_model_not_in_the_catalogue_without_a_terminal_gets_a_hint_and_no_question(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    cloudflare.catalogue = list(LIVE)
    run = login()
    assert_run(run, 0, stderr=logged_in(config_file, 6) + NOT_LISTED + CHOOSE)
    assert config_file.read_bytes() == STORED  # the login is stored; the model left alone
    assert calls(cloudflare) == [("GET", VERIFY), ("GET", PAGE_1)]


def test_a_configured_model_not_in_the_catalogue_is_named_and_kept(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    cloudflare.catalogue = list(LIVE)
    write_config(config_file, b'model = "@cf/meta/llama-2-7b-chat-int8"\n')
    run = login()
    assert_run(
        run,
        0,
        stderr=logged_in(config_file, 6)
        + "wai: the model @cf/meta/llama-2-7b-chat-int8 is not in your account's catalogue "
        "(retired, or not available to you)\n" + CHOOSE,
    )
    assert config_file.read_bytes() == b'model = "@cf/meta/llama-2-7b-chat-int8"\n\n' + STORED


@pytest.mark.parametrize(
    ("config", "stored"),
    [
        (f'model = "{QWEN}"\n'.encode(), f'model = "{QWEN}"\n\n'.encode() + STORED),
        (
            f'[backends.cloudflare]\nmodel = "{QWEN}"\n'.encode(),
            f'[backends.cloudflare]\nmodel = "{QWEN}"\naccount_id = "{ACCOUNT}"\n'
            f'api_token = "{TOKEN}"\n'.encode(),
        ),
    ],
)
def test_a_configured_model_in_the_catalogue_asks_nothing(
    cloudflare: WorkersAIServer, config_file: Path, config: bytes, stored: bytes
) -> None:
    cloudflare.catalogue = list(LIVE)
    write_config(config_file, config)
    assert_run(login(), 0, stderr=logged_in(config_file, 6))
    assert config_file.read_bytes() == stored


def test_wai_model_in_the_environment_is_not_what_is_checked(
    cloudflare: WorkersAIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The file is what login can fix: a good WAI_MODEL does not hide a retired configured one.
    monkeypatch.setenv("WAI_MODEL", QWEN)
    cloudflare.catalogue = list(LIVE)
    assert_run(login(), 0, stderr=logged_in(config_file, 6) + NOT_LISTED + CHOOSE)


def test_model_flag_stores_a_model_of_the_catalogue_with_the_credentials(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    cloudflare.catalogue = list(LIVE)
    write_config(config_file, b'model = "old"\n\n[params]\ntemperature = 0.5\n')
    run = login("--model", GPT_OSS)
    assert_run(run, 0, stderr=logged_in(config_file, 6) + f"wai: model set to {GPT_OSS}\n")
    assert config_file.read_bytes() == (
        f'model = "{GPT_OSS}"\n\n[params]\ntemperature = 0.5\n\n'.encode() + STORED
    )
    assert mode_of(config_file) == 0o600


def test_model_flag_goes_to_the_table_that_holds_the_model(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    # backends.cloudflare.model wins over the top-level one, so that is the one to change.
    cloudflare.catalogue = list(LIVE)
    write_config(config_file, b'[backends.cloudflare]\nmodel = "old"\n')
    assert login("-m", QWEN).exit_code == 0
    assert config_file.read_bytes() == (
        f'[backends.cloudflare]\nmodel = "{QWEN}"\naccount_id = "{ACCOUNT}"\n'
        f'api_token = "{TOKEN}"\n'.encode()
    )


def test_model_flag_for_a_backend_that_is_not_the_default(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    # The top-level `model` belongs to the default backend: another one gets its own.
    cloudflare.catalogue = list(LIVE)
    write_config(config_file, b'model = "@cf/meta/llama-2-7b-chat-int8"\n')
    run = login("-b", "work", "--model", LLAMA)
    assert_run(run, 0, stderr=logged_in(config_file, 6) + f"wai: model set to {LLAMA}\n")
    assert config_file.read_bytes() == (
        b'model = "@cf/meta/llama-2-7b-chat-int8"\n\n[backends.work]\ntype = "cloudflare"\n'
        + f'model = "{LLAMA}"\naccount_id = "{ACCOUNT}"\napi_token = "{TOKEN}"\n'.encode()
    )


def test_model_flag_with_wai_model_set_says_which_wins(
    cloudflare: WorkersAIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAI_MODEL", QWEN)
    cloudflare.catalogue = list(LIVE)
    run = login("--model", LLAMA)
    assert_run(
        run,
        0,
        stderr=logged_in(config_file, 6)
        + f"wai: model set to {LLAMA}\n"
        + "wai: note: WAI_MODEL in the environment still takes precedence\n",
    )


def test_model_flag_with_a_model_not_in_the_catalogue_is_a_usage_error(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    cloudflare.catalogue = list(LIVE)
    before = write_config(config_file, b"[params]\ntemperature = 0.5\n")
    run = login("--model", "@cf/mistral/mistral-7b-instruct-v0.1")
    assert_run(
        run,
        2,
        stderr="wai: error: --model: @cf/mistral/mistral-7b-instruct-v0.1 is not in your "
        "account's catalogue (retired, or not available to you)\n"
        f"hint: the closest: {MISTRAL_SMALL}, {MISTRAL_7B}, {LLAMA}; `wai models` lists them all\n",
    )
    assert config_file.read_bytes() == before  # not even the credentials
    assert calls(cloudflare) == [("GET", VERIFY), ("GET", PAGE_1)]


def test_model_flag_with_an_empty_catalogue_has_no_closest(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    cloudflare.catalogue = []
    run = login("--model", LLAMA)
    assert_run(
        run,
        2,
        stderr=f"wai: error: --model: {LLAMA} is not in your account's catalogue "
        "(retired, or not available to you)\n",
    )
    assert not config_file.exists()


def test_an_empty_model_flag_is_a_usage_error(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    assert_run(login("--model", " "), 2, stderr="wai: error: --model needs a model id\n")
    assert cloudflare.requests == []
    assert not config_file.exists()


SERVER_ERROR = Reply.error(500, 7010, "Service unavailable")


@pytest.mark.parametrize("fail_on_page", [1, 2])
def test_a_catalogue_that_cannot_be_fetched_still_logs_in_with_one_warning(
    cloudflare: WorkersAIServer, config_file: Path, fail_on_page: int
) -> None:
    full_page = Reply.json(envelope([catalogue_entry(f"@cf/x/m-{i}", "") for i in range(50)]))
    cloudflare.enqueue(*([full_page] if fail_on_page == 2 else []), SERVER_ERROR)
    run = login()
    assert_run(
        run,
        0,
        stderr=f"wai: logged in: account {ACCOUNT}, token active; saved to {config_file}\n"
        "wai: warning: the model catalogue could not be fetched, so the model was not checked: "
        "Workers AI answered HTTP 500: Service unavailable (code 7010)\n",
    )
    assert config_file.read_bytes() == STORED


def test_model_flag_with_a_catalogue_that_cannot_be_fetched_stores_nothing(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    cloudflare.enqueue(SERVER_ERROR)
    run = login("--model", LLAMA)
    assert_run(
        run,
        1,
        stderr=f"wai: error: the model catalogue could not be fetched to check {LLAMA}: "
        "Workers AI answered HTTP 500: Service unavailable (code 7010)\n"
        "hint: nothing was saved; try again, or log in without --model\n",
    )
    assert not config_file.exists()
