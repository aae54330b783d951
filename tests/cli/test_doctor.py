"""`wai doctor`: one verdict a line for the config, the credentials and every backend; exit 0
only when the default backend works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run, wai, wai_process
from tests.servers.openai_compat import MODELS, OpenAIServer
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_MODEL,
    TOKEN,
    WorkersAIServer,
    catalogue_entry,
)

VERIFY = "/client/v4/user/tokens/verify"
SEARCH = f"/client/v4/accounts/{ACCOUNT}/ai/models/search"
PAGE_1 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=1"
PAGE_2 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=2"
BAD_TOKEN = "cf-wrong-token-Qm3Vx8Lp2Rt6"
CONNECTION_REFUSED = "[Errno 111] Connection refused"
WORKS = "\nThe default backend works.\n"
DOES_NOT_WORK = "\nThe default backend does not work.\n"

# The CHECK column is as wide as "default backend cloudflare" (26 characters).
HEADER = "   CHECK                       DETAIL\n"
BACKEND = "✓  default backend cloudflare  type cloudflare\n"
FROM_ENV = (
    "✓  account id                  from the environment\n"
    "✓  API token                   from the environment (value not shown)\n"
)
FROM_FILE = (
    "✓  account id                  from the config file\n"
    "✓  API token                   from the config file (value not shown)\n"
)
VALID = "✓  token valid                 status active\n"
REACHABLE = "✓  account reachable           60 text-generation models\n"
MODEL_OK = f"✓  default model               {DEFAULT_MODEL}\n"
NOT_LISTED = (  # the same words and fix as `wai login`'s
    "is not in your account's catalogue (retired, or not available to you); choose one with "
    "`wai login --model ID` or `wai config set model ID`; `wai models` lists them"
)
LOCAL_OK = (
    "✓  backend local               type openai\n"
    f"✓  local server                reachable; 2 models: {MODELS[0]}, {MODELS[1]}\n"
    f"✓  local model                 {MODELS[0]} (the first one it lists)\n"
)


def config_row(path: Path, exists: bool) -> str:
    return f"✓  config file                 {path}{'' if exists else ' (none yet: defaults)'}\n"


def all_ok(path: Path, exists: bool = False) -> str:
    return HEADER + config_row(path, exists) + BACKEND + FROM_ENV + VALID + REACHABLE + MODEL_OK


def write_config(path: Path, text: str | bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(data)
    return data


def local_table(base_url: str, extra: str = "") -> str:
    return f'[backends.local]\ntype = "openai"\nbase_url = "{base_url}"\n{extra}'


def calls(server: WorkersAIServer | OpenAIServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests]


def assert_run(run: Run, exit_code: int, stdout: str = "", stderr: str = "") -> None:
    assert (run.exit_code, run.stdout, run.stderr) == (exit_code, stdout, stderr)


# --- a new user -------------------------------------------------------------------------------


def test_a_new_user_without_config_or_credentials(config_file: Path) -> None:
    completed = wai_process("doctor")
    assert completed.returncode == 3
    assert completed.stderr == b""
    assert completed.stdout.decode() == (
        "   CHECK                       DETAIL\n"
        f"✓  config file                 {config_file} (none yet: defaults)\n"
        "✓  default backend cloudflare  type cloudflare\n"
        "✗  account id                  missing: set CLOUDFLARE_ACCOUNT_ID or run `wai login`\n"
        "\n"
        "The default backend does not work.\n"
    )
    assert not config_file.exists()
    assert not config_file.parent.exists()


def test_a_new_user_as_json(config_file: Path) -> None:
    run = wai("doctor", "--json")
    assert run.exit_code == 3
    assert run.stderr == ""
    assert json.loads(run.stdout) == {
        "ok": False,
        "checks": [
            {
                "check": "config file",
                "status": "ok",
                "detail": f"{config_file} (none yet: defaults)",
            },
            {"check": "default backend cloudflare", "status": "ok", "detail": "type cloudflare"},
            {
                "check": "account id",
                "status": "fail",
                "detail": "missing: set CLOUDFLARE_ACCOUNT_ID or run `wai login`",
            },
        ],
    }


def test_an_account_id_without_a_token(config_file: Path) -> None:
    run = wai("doctor", env={"CLOUDFLARE_ACCOUNT_ID": ACCOUNT})
    assert_run(
        run,
        3,
        stdout=HEADER
        + config_row(config_file, False)
        + BACKEND
        + "✓  account id                  from the environment\n"
        + "✗  API token                   missing: set CLOUDFLARE_API_TOKEN or run `wai login`\n"
        + DOES_NOT_WORK,
    )


# --- Cloudflare -------------------------------------------------------------------------------


def test_env_credentials_and_the_server_pass_every_check(
    server: WorkersAIServer, config_file: Path
) -> None:
    run = wai("doctor")
    assert_run(run, 0, stdout=all_ok(config_file) + WORKS)
    assert calls(server) == [("GET", VERIFY), ("GET", PAGE_1), ("GET", PAGE_2)]
    for request in server.requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_an_existing_config_file_is_named_by_its_path(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, "[params]\ntemperature = 0.5\n")
    assert_run(wai("doctor"), 0, stdout=all_ok(config_file, exists=True) + WORKS)


def test_credentials_from_the_config_file(
    server: WorkersAIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    write_config(
        config_file,
        f'[backends.cloudflare]\naccount_id = "{ACCOUNT}"\napi_token = "{TOKEN}"\n',
    )
    run = wai("doctor")
    assert_run(
        run,
        0,
        stdout=HEADER
        + config_row(config_file, True)
        + BACKEND
        + FROM_FILE
        + VALID
        + REACHABLE
        + MODEL_OK
        + WORKS,
    )
    as_json = wai("doctor", "--json")
    assert as_json.exit_code == 0
    as_json.assert_secret_absent()


def test_json_is_the_exact_document(server: WorkersAIServer, config_file: Path) -> None:
    run = wai("doctor", "--json")
    assert run.exit_code == 0
    assert run.stderr == ""
    assert json.loads(run.stdout) == {
        "ok": True,
        "checks": [
            {
                "check": "config file",
                "status": "ok",
                "detail": f"{config_file} (none yet: defaults)",
            },
            {"check": "default backend cloudflare", "status": "ok", "detail": "type cloudflare"},
            {"check": "account id", "status": "ok", "detail": "from the environment"},
            {
                "check": "API token",
                "status": "ok",
                "detail": "from the environment (value not shown)",
            },
            {"check": "token valid", "status": "ok", "detail": "status active"},
            {"check": "account reachable", "status": "ok", "detail": "60 text-generation models"},
            {"check": "default model", "status": "ok", "detail": DEFAULT_MODEL},
        ],
    }
    assert run.stdout.startswith('{\n  "ok": true,\n  "checks": [\n    {\n      "check": ')
    assert run.stdout.endswith("\n  ]\n}\n")
    assert "The default backend" not in run.stdout


def test_a_bad_token_fails_the_token_row(server: WorkersAIServer, config_file: Path) -> None:
    run = wai("doctor", env={"CLOUDFLARE_API_TOKEN": BAD_TOKEN})
    assert_run(
        run,
        3,
        stdout=HEADER
        + config_row(config_file, False)
        + BACKEND
        + FROM_ENV
        + "✗  token valid                 Cloudflare refused the API token: Invalid API Token\n"
        + DOES_NOT_WORK,
    )
    run.assert_secret_absent(BAD_TOKEN)
    assert calls(server) == [("GET", VERIFY)]


def test_a_bad_token_from_the_config_file_never_shows(
    server: WorkersAIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    write_config(config_file, f'[backends.cloudflare]\napi_token = "{BAD_TOKEN}"\n')
    for args in (("doctor",), ("doctor", "--json")):
        run = wai(*args)
        assert run.exit_code == 3
        assert run.stderr == ""
        run.assert_secret_absent(BAD_TOKEN)


def test_a_disabled_token_fails_the_token_row(server: WorkersAIServer, config_file: Path) -> None:
    server.token_status = "disabled"
    run = wai("doctor")
    assert_run(
        run,
        3,
        stdout=HEADER
        + config_row(config_file, False)
        + BACKEND
        + FROM_ENV
        + "✗  token valid                 the API token is disabled, not active\n"
        + DOES_NOT_WORK,
    )


def test_a_wrong_account_id_fails_the_account_row(
    server: WorkersAIServer, config_file: Path
) -> None:
    wrong = "ffffffffffffffffffffffffffffffff"
    run = wai("doctor", env={"CLOUDFLARE_ACCOUNT_ID": wrong})
    assert_run(
        run,
        3,
        stdout=HEADER
        + config_row(config_file, False)
        + BACKEND
        + FROM_ENV
        + VALID
        + f"✗  account reachable           Cloudflare does not know the account id '{wrong}': "
        f"Could not route to /client/v4/accounts/{wrong}/ai/models/search\n" + DOES_NOT_WORK,
    )


def test_the_default_model_missing_from_the_catalogue_is_exit_1(
    server: WorkersAIServer, config_file: Path
) -> None:
    server.catalogue = [
        catalogue_entry("@cf/meta/llama-3.1-8b-instruct", "Meta's Llama 3.1 8B Instruct.", 7968)
    ]
    run = wai("doctor")
    assert_run(
        run,
        1,
        stdout=HEADER
        + config_row(config_file, False)
        + BACKEND
        + FROM_ENV
        + VALID
        + "✓  account reachable           1 text-generation models\n"
        + f"✗  default model               {DEFAULT_MODEL} {NOT_LISTED}\n"
        + DOES_NOT_WORK,
    )


def test_a_configured_model_missing_from_the_catalogue_names_the_fix(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, 'model = "@hf/thebloke/llama-2-13b-chat-awq"\n')
    run = wai("doctor", "--json")
    assert run.exit_code == 1
    assert run.stderr == ""
    document = json.loads(run.stdout)
    assert document["ok"] is False
    assert document["checks"][-1] == {
        "check": "default model",
        "status": "fail",
        "detail": f"@hf/thebloke/llama-2-13b-chat-awq {NOT_LISTED}",
    }


def test_the_configured_model_is_the_one_looked_for(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, 'model = "@cf/meta/llama-3.1-8b-instruct"\n')
    run = wai("doctor")
    assert_run(
        run,
        0,
        stdout=HEADER
        + config_row(config_file, True)
        + BACKEND
        + FROM_ENV
        + VALID
        + REACHABLE
        + "✓  default model               @cf/meta/llama-3.1-8b-instruct\n"
        + WORKS,
    )


def test_the_cloudflare_api_down_is_exit_4(config_file: Path, closed_port: int) -> None:
    env = {
        "CLOUDFLARE_API_BASE_URL": f"http://127.0.0.1:{closed_port}/client/v4",
        "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
        "CLOUDFLARE_API_TOKEN": TOKEN,
    }
    run = wai("doctor", env=env)
    assert_run(
        run,
        4,
        stdout=HEADER
        + config_row(config_file, False)
        + BACKEND
        + FROM_ENV
        + f"✗  token valid                 could not connect to 127.0.0.1:{closed_port}: "
        f"{CONNECTION_REFUSED}\n" + DOES_NOT_WORK,
    )


# --- a broken config --------------------------------------------------------------------------


def test_a_config_that_cannot_be_parsed_fails_the_config_row(
    server: WorkersAIServer, config_file: Path
) -> None:
    before = write_config(config_file, b'model = "@cf/x"\n[params\ntemperature = 0.5\n')
    run = wai("doctor")
    assert_run(
        run,
        3,
        stdout="   CHECK        DETAIL\n"
        f"✗  config file  cannot parse {config_file}: Expected ']' at the end of a table "
        "declaration (at line 2, column 8)\n" + DOES_NOT_WORK,
    )
    assert config_file.read_bytes() == before
    assert server.requests == []


def test_a_config_with_an_unknown_key_fails_the_config_row(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, 'colour = "blue"\n')
    run = wai("doctor", "--json")
    assert run.exit_code == 3
    assert run.stderr == ""
    assert json.loads(run.stdout) == {
        "ok": False,
        "checks": [
            {
                "check": "config file",
                "status": "fail",
                "detail": f"{config_file}: colour: unknown key (known here: backend, model, "
                "system, connect_timeout, read_timeout, retries, retry_backoff, "
                "save_one_shots, reasoning, params, backends, roles)",
            }
        ],
    }


def test_an_unknown_default_backend_fails_its_row(
    server: WorkersAIServer, config_file: Path
) -> None:
    run = wai("doctor", env={"WAI_BACKEND": "nope"})
    assert_run(
        run,
        3,
        stdout="   CHECK         DETAIL\n"
        f"✓  config file   {config_file} (none yet: defaults)\n"
        "✗  backend nope  unknown backend 'nope' "
        "(known: cloudflare, llamacpp, lmstudio, ollama, vllm)\n" + DOES_NOT_WORK,
    )
    assert server.requests == []


# --- local servers ----------------------------------------------------------------------------


def test_a_configured_local_server_that_is_up(
    server: WorkersAIServer, openai_server: OpenAIServer, config_file: Path
) -> None:
    write_config(config_file, local_table(openai_server.base_url))
    run = wai("doctor")
    assert_run(run, 0, stdout=all_ok(config_file, exists=True) + LOCAL_OK + WORKS)
    assert openai_server.calls == [("GET", "/v1/models")]


def test_a_local_server_lists_at_most_five_models(
    server: WorkersAIServer, openai_server: OpenAIServer, config_file: Path
) -> None:
    openai_server.models = [f"model-{i}" for i in range(1, 8)]
    write_config(config_file, local_table(openai_server.base_url, 'model = "model-7"\n'))
    run = wai("doctor")
    assert_run(
        run,
        0,
        stdout=all_ok(config_file, exists=True)
        + "✓  backend local               type openai\n"
        + "✓  local server                reachable; 7 models: "
        "model-1, model-2, model-3, model-4, model-5, …\n"
        + "✓  local model                 model-7\n"
        + WORKS,
    )


def test_a_configured_preset_is_checked_too(
    server: WorkersAIServer, openai_server: OpenAIServer, config_file: Path
) -> None:
    # A preset (llamacpp, ollama, vllm, lmstudio) is of type openai without saying so.
    write_config(config_file, f'[backends.ollama]\nbase_url = "{openai_server.base_url}"\n')
    run = wai("doctor")
    assert_run(
        run,
        0,
        stdout=all_ok(config_file, exists=True)
        + "✓  backend ollama              type openai\n"
        + f"✓  ollama server               reachable; 2 models: {MODELS[0]}, {MODELS[1]}\n"
        + f"✓  ollama model                {MODELS[0]} (the first one it lists)\n"
        + WORKS,
    )
    assert openai_server.calls == [("GET", "/v1/models")]


def test_a_configured_local_server_that_is_down_is_a_warning(
    server: WorkersAIServer, config_file: Path, closed_port: int
) -> None:
    base_url = f"http://127.0.0.1:{closed_port}/v1"
    write_config(config_file, local_table(base_url))
    run = wai("doctor")
    assert_run(
        run,
        0,
        stdout=all_ok(config_file, exists=True)
        + "✓  backend local               type openai\n"
        + f"!  local server                could not connect to the local server at {base_url}: "
        f"{CONNECTION_REFUSED}\n" + WORKS,
    )


def test_a_local_model_the_server_lacks_is_a_warning(
    server: WorkersAIServer, openai_server: OpenAIServer, config_file: Path
) -> None:
    write_config(config_file, local_table(openai_server.base_url, 'model = "llama-3-8b"\n'))
    run = wai("doctor", "--json")
    assert run.exit_code == 0
    document = json.loads(run.stdout)
    assert document["ok"] is True
    assert document["checks"][-3:] == [
        {"check": "backend local", "status": "ok", "detail": "type openai"},
        {
            "check": "local server",
            "status": "ok",
            "detail": f"reachable; 2 models: {MODELS[0]}, {MODELS[1]}",
        },
        {"check": "local model", "status": "warn", "detail": "llama-3-8b is not among its models"},
    ]


def test_a_local_server_with_no_models_is_a_warning(
    server: WorkersAIServer, openai_server: OpenAIServer, config_file: Path
) -> None:
    openai_server.models = []
    write_config(config_file, local_table(openai_server.base_url))
    run = wai("doctor")
    assert_run(
        run,
        0,
        stdout=all_ok(config_file, exists=True)
        + "✓  backend local               type openai\n"
        + "✓  local server                reachable; no models\n"
        + "!  local model                 the server offers no models\n"
        + WORKS,
    )


def test_a_local_default_backend_that_is_up_works_without_cloudflare(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    write_config(config_file, 'backend = "local"\n\n' + local_table(openai_server.base_url))
    run = wai("doctor")
    assert_run(
        run,
        0,
        stdout="   CHECK                  DETAIL\n"
        f"✓  config file            {config_file}\n"
        "✓  default backend local  type openai\n"
        f"✓  local server           reachable; 2 models: {MODELS[0]}, {MODELS[1]}\n"
        f"✓  local model            {MODELS[0]} (the first one it lists)\n" + WORKS,
    )


def test_a_local_default_backend_that_is_down_is_exit_4(
    config_file: Path, closed_port: int
) -> None:
    base_url = f"http://127.0.0.1:{closed_port}/v1"
    write_config(config_file, 'backend = "local"\n\n' + local_table(base_url))
    run = wai("doctor")
    assert_run(
        run,
        4,
        stdout="   CHECK                  DETAIL\n"
        f"✓  config file            {config_file}\n"
        "✓  default backend local  type openai\n"
        f"✗  local server           could not connect to the local server at {base_url}: "
        f"{CONNECTION_REFUSED}\n" + DOES_NOT_WORK,
    )


def test_a_failing_default_keeps_its_exit_code_beside_a_working_local_server(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    write_config(config_file, local_table(openai_server.base_url))
    run = wai("doctor")
    assert_run(
        run,
        3,
        stdout=HEADER
        + config_row(config_file, True)
        + BACKEND
        + "✗  account id                  missing: set CLOUDFLARE_ACCOUNT_ID or run `wai login`\n"
        + LOCAL_OK
        + DOES_NOT_WORK,
    )


def test_a_local_api_key_never_shows(config_file: Path, server: WorkersAIServer) -> None:
    key = "sk-local-key-8HfQ2x"
    instance = OpenAIServer(api_key=key).start()
    try:
        write_config(config_file, local_table(instance.base_url, 'api_key = "wrong-key-4Tz"\n'))
        run = wai("doctor")
        assert run.exit_code == 0
        assert (
            f"!  local server                the local server at {instance.base_url} answered "
            "HTTP 401: Invalid API Key\n"
        ) in run.stdout
        run.assert_secret_absent("wrong-key-4Tz")
        write_config(config_file, local_table(instance.base_url, f'api_key = "{key}"\n'))
        run = wai("doctor", "--json")
        assert run.exit_code == 0
        run.assert_secret_absent(key)
        assert json.loads(run.stdout)["checks"][-1] == {
            "check": "local model",
            "status": "ok",
            "detail": f"{MODELS[0]} (the first one it lists)",
        }
    finally:
        instance.stop()
    assert instance.errors == []
