"""Precedence: command-line flag > environment > config file > built-in default.

Checked end to end where possible: `wai ask --plain hi` against the Workers AI server, then
assertions on the request it recorded (the model in the path, the body, the token sent).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run, wai
from tests.servers.workers_ai import ACCOUNT, DEFAULT_MODEL, TOKEN, WorkersAIServer
from wai.errors import ConfigError, UsageError
from wai.settings import (
    GATEWAY_BASE,
    BackendSettings,
    Overrides,
    Settings,
    resolve,
)

RUN_PREFIX = f"/client/v4/accounts/{ACCOUNT}/ai/run/"
HI = {"role": "user", "content": "hi"}
FILE_MODEL = "@cf/meta/llama-3.1-8b-instruct"
TOP_MODEL = "@cf/mistral/mistral-7b-instruct-v0.1"
ENV_MODEL = "@cf/qwen/qwen1.5-7b-chat-awq"
FLAG_MODEL = "@cf/google/gemma-7b-it-lora"
WRONG_TOKEN = "wrong-token-Qw3rTy"
OTHER_ACCOUNT = "f" * 32
AUTH_REFUSED = (
    "wai: error: Cloudflare refused the API token: Authentication error\n"
    "hint: check CLOUDFLARE_API_TOKEN; the token needs Workers AI Read and Edit permissions "
    "(https://dash.cloudflare.com/profile/api-tokens)\n"
)


def write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def ask(*args: str, env: dict[str, str] | None = None) -> Run:
    return wai("ask", "--plain", *args, "hi", env=env)


def body(**params: Any) -> dict[str, Any]:
    """The exact body `wai ask --plain hi` sends, with these parameters."""
    return {"messages": [HI], "stream": True, "max_tokens": 1024, **params}


def assert_answered(run: Run, server: WorkersAIServer, model: str = DEFAULT_MODEL) -> None:
    assert (run.exit_code, run.stdout, run.stderr) == (0, "Hello, world!", "")
    assert [request.path for request in server.run_requests] == [RUN_PREFIX + model]


def assert_model_sent(run: Run, server: WorkersAIServer, model: str) -> None:
    """The server knows only DEFAULT_MODEL, so any other model is refused after it was sent."""
    assert [request.path for request in server.run_requests] == [RUN_PREFIX + model]
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"wai: error: the model {model} is not available: No such model {model} or task\n"
        "hint: `wai models` lists the current ones; pick one with `-m MODEL` or "
        "`wai config set model MODEL`\n"
    )


def unknown_account(account: str, path: str) -> str:
    return (
        f"wai: error: Cloudflare does not know the account id '{account}': "
        f"Could not route to {path}\n"
        "hint: check CLOUDFLARE_ACCOUNT_ID: it is the 32-character id shown in the dashboard's "
        "Workers AI page\n"
    )


def authorization(server: WorkersAIServer) -> str:
    [request] = server.run_requests
    return request.headers["Authorization"]


# --- model ------------------------------------------------------------------------------------


def test_model_defaults_to_mistral_7b(server: WorkersAIServer) -> None:
    assert_answered(ask(), server)
    assert server.last_body == body()
    assert authorization(server) == f"Bearer {TOKEN}"


def test_model_from_the_top_level_of_the_file(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, f'model = "{TOP_MODEL}"\n')
    assert_model_sent(ask(), server, TOP_MODEL)


def test_backend_model_beats_the_top_level_model(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(
        config_file, f'model = "{TOP_MODEL}"\n\n[backends.cloudflare]\nmodel = "{FILE_MODEL}"\n'
    )
    assert_model_sent(ask(), server, FILE_MODEL)


def test_wai_model_beats_the_file(server: WorkersAIServer, config_file: Path) -> None:
    write_config(
        config_file, f'model = "{TOP_MODEL}"\n\n[backends.cloudflare]\nmodel = "{FILE_MODEL}"\n'
    )
    assert_answered(ask(env={"WAI_MODEL": DEFAULT_MODEL}), server)


def test_wai_model_beats_the_default(server: WorkersAIServer) -> None:
    assert_model_sent(ask(env={"WAI_MODEL": ENV_MODEL}), server, ENV_MODEL)


def test_an_empty_wai_model_counts_as_unset(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, f'model = "{TOP_MODEL}"\n')
    assert_model_sent(ask(env={"WAI_MODEL": ""}), server, TOP_MODEL)


def test_model_flag_beats_wai_model(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, f'[backends.cloudflare]\nmodel = "{FILE_MODEL}"\n')
    assert_answered(ask("-m", DEFAULT_MODEL, env={"WAI_MODEL": ENV_MODEL}), server)


def test_long_model_flag_beats_everything(server: WorkersAIServer, config_file: Path) -> None:
    write_config(
        config_file, f'model = "{TOP_MODEL}"\n\n[backends.cloudflare]\nmodel = "{FILE_MODEL}"\n'
    )
    run = ask("--model", FLAG_MODEL, env={"WAI_MODEL": DEFAULT_MODEL})
    assert_model_sent(run, server, FLAG_MODEL)


# --- backend ----------------------------------------------------------------------------------


PRESET_NAMES = "cloudflare, llamacpp, lmstudio, ollama, vllm"


def unknown_backend(name: str, known: str) -> str:
    return (
        f"wai: error: unknown backend '{name}' (known: {known})\n"
        f"hint: add a [backends.{name}] table with `wai config set backends.{name}.type ...`\n"
    )


def test_an_unknown_backend_flag_is_a_usage_error(server: WorkersAIServer) -> None:
    run = ask("-b", "nope")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == unknown_backend("nope", PRESET_NAMES)
    assert server.requests == []


def test_an_unknown_backend_in_the_file_is_a_config_error(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, 'backend = "nope"\n')
    run = ask()
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == unknown_backend("nope", PRESET_NAMES)
    assert server.requests == []


def test_an_unknown_wai_backend_is_a_config_error(server: WorkersAIServer) -> None:
    run = ask(env={"WAI_BACKEND": "nope"})
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == unknown_backend("nope", PRESET_NAMES)
    assert server.requests == []


def test_the_unknown_backend_error_lists_the_configured_ones(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, '[backends.work]\ntype = "cloudflare"\n')
    run = ask("--backend", "nope")
    assert run.exit_code == 2
    assert run.stderr == unknown_backend("nope", f"{PRESET_NAMES}, work")


def test_backend_flag_beats_wai_backend(server: WorkersAIServer) -> None:
    assert_answered(ask("-b", "cloudflare", env={"WAI_BACKEND": "nope"}), server)


def test_wai_backend_beats_the_file(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, 'backend = "nope"\n')
    assert_answered(ask(env={"WAI_BACKEND": "cloudflare"}), server)


WORK_AND_CLOUDFLARE = f"""\
backend = "work"

[backends.work]
type = "cloudflare"
model = "{DEFAULT_MODEL}"

[backends.cloudflare]
model = "{FILE_MODEL}"
"""


def test_the_file_chooses_a_named_backend(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, WORK_AND_CLOUDFLARE)
    assert_answered(ask(), server)


def test_backend_flag_beats_the_file(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, WORK_AND_CLOUDFLARE)
    assert_model_sent(ask("-b", "cloudflare"), server, FILE_MODEL)


def test_a_named_backend_without_a_type_is_a_config_error(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, f'[backends.work]\nmodel = "{DEFAULT_MODEL}"\n')
    run = ask("-b", "work")
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == (
        "wai: error: backends.work.type is missing\n"
        'hint: set it with `wai config set backends.work.type "openai"` (or "cloudflare")\n'
    )
    assert server.requests == []


# --- params and system ------------------------------------------------------------------------


def test_params_come_from_the_file(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, "[params]\nmax_tokens = 512\ntemperature = 0.6\ntop_k = 5\n")
    assert_answered(ask(), server)
    assert server.last_body == body(max_tokens=512, temperature=0.6, top_k=5)


def test_file_params_are_sent_as_their_declared_types(
    server: WorkersAIServer, config_file: Path
) -> None:
    # top_k and seed are whole numbers: `top_k = 5.0` in the file is sent as 5, as `--top-k 5` is.
    write_config(config_file, "[params]\ntop_k = 5.0\nseed = 7.0\ntemperature = 1\n")
    assert_answered(ask(), server)
    sent = server.last_body
    assert sent == body(top_k=5, seed=7, temperature=1.0)
    assert (type(sent["top_k"]), type(sent["seed"])) == (int, int)


def test_param_flags_beat_the_file(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, "[params]\nmax_tokens = 512\ntemperature = 0.6\n")
    assert_answered(ask("--temperature", "1.5"), server)
    assert server.last_body == body(max_tokens=512, temperature=1.5)


def test_max_tokens_flag_beats_the_file(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, "[params]\nmax_tokens = 512\ntemperature = 0.6\n")
    assert_answered(ask("--max-tokens", "64", "--seed", "7"), server)
    assert server.last_body == body(max_tokens=64, temperature=0.6, seed=7)


def test_a_param_flag_out_of_range_is_refused_before_sending(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, "[params]\ntemperature = 0.6\n")
    run = ask("--temperature", "9")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "wai: error: --temperature is 9, out of range: allowed 0 to 5\n"
    assert server.requests == []


def test_system_from_the_file(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, 'system = "From the file."\n')
    assert_answered(ask(), server)
    assert server.last_body == {
        "messages": [{"role": "system", "content": "From the file."}, HI],
        "stream": True,
        "max_tokens": 1024,
    }


def test_system_flag_beats_the_file(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, 'system = "From the file."\n')
    assert_answered(ask("-s", "From the flag."), server)
    assert server.last_body == {
        "messages": [{"role": "system", "content": "From the flag."}, HI],
        "stream": True,
        "max_tokens": 1024,
    }


# --- account id and token ---------------------------------------------------------------------


def credentials_file(path: Path, account: str, token: str) -> None:
    write_config(path, f'[backends.cloudflare]\naccount_id = "{account}"\napi_token = "{token}"\n')


def test_credentials_from_the_file(
    server: WorkersAIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    credentials_file(config_file, ACCOUNT, TOKEN)
    assert_answered(ask(), server)
    assert authorization(server) == f"Bearer {TOKEN}"


def test_environment_credentials_beat_the_file(server: WorkersAIServer, config_file: Path) -> None:
    credentials_file(config_file, OTHER_ACCOUNT, WRONG_TOKEN)
    assert_answered(ask(), server)
    assert authorization(server) == f"Bearer {TOKEN}"


def test_environment_token_is_sent_instead_of_the_file_token(
    server: WorkersAIServer, config_file: Path
) -> None:
    credentials_file(config_file, ACCOUNT, TOKEN)
    run = ask(env={"CLOUDFLARE_API_TOKEN": WRONG_TOKEN})
    assert authorization(server) == f"Bearer {WRONG_TOKEN}"
    assert (run.exit_code, run.stdout, run.stderr) == (3, "", AUTH_REFUSED)
    run.assert_secret_absent(WRONG_TOKEN)


def test_environment_account_is_used_instead_of_the_file_account(
    server: WorkersAIServer, config_file: Path
) -> None:
    credentials_file(config_file, ACCOUNT, TOKEN)
    run = ask(env={"CLOUDFLARE_ACCOUNT_ID": OTHER_ACCOUNT})
    path = f"/client/v4/accounts/{OTHER_ACCOUNT}/ai/run/{DEFAULT_MODEL}"
    assert [request.path for request in server.run_requests] == [path]
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == unknown_account(OTHER_ACCOUNT, path)


def test_cf_variables_are_fallbacks(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    assert_answered(ask(env={"CF_ACCOUNT_ID": ACCOUNT, "CF_API_TOKEN": TOKEN}), server)
    assert authorization(server) == f"Bearer {TOKEN}"


def test_cf_variables_beat_the_file(
    server: WorkersAIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    credentials_file(config_file, OTHER_ACCOUNT, WRONG_TOKEN)
    assert_answered(ask(env={"CF_ACCOUNT_ID": ACCOUNT, "CF_API_TOKEN": TOKEN}), server)
    assert authorization(server) == f"Bearer {TOKEN}"


def test_cloudflare_variables_beat_cf_variables(server: WorkersAIServer) -> None:
    assert_answered(ask(env={"CF_ACCOUNT_ID": OTHER_ACCOUNT, "CF_API_TOKEN": WRONG_TOKEN}), server)
    assert authorization(server) == f"Bearer {TOKEN}"


def test_no_account_id_anywhere_is_a_config_error(
    server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    run = ask()
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == (
        "wai: error: no Cloudflare account id is configured\n"
        "hint: run `wai login`, or export CLOUDFLARE_ACCOUNT_ID=...\n"
    )
    assert server.requests == []


# --- base URL ---------------------------------------------------------------------------------


def test_base_url_from_the_file(
    server: WorkersAIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_BASE_URL")
    write_config(config_file, f'[backends.cloudflare]\nbase_url = "{server.base_url}"\n')
    assert_answered(ask(), server)


def test_cloudflare_api_base_url_beats_the_file(server: WorkersAIServer, config_file: Path) -> None:
    # Both point at the server, with different path prefixes: the path shows which one won.
    file_url = f"http://127.0.0.1:{server.port}/from-file/v4"
    write_config(config_file, f'[backends.cloudflare]\nbase_url = "{file_url}"\n')
    assert_answered(ask(), server)


def test_the_file_base_url_is_used_as_written(
    server: WorkersAIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_BASE_URL")
    file_url = f"http://127.0.0.1:{server.port}/from-file/v4/"
    write_config(config_file, f'[backends.cloudflare]\nbase_url = "{file_url}"\n')
    run = ask()
    path = f"/from-file/v4/accounts/{ACCOUNT}/ai/run/{DEFAULT_MODEL}"
    assert [request.path for request in server.requests] == [path]
    # The server routes only /client/v4, and answers any other path with code 7003.
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == unknown_account(ACCOUNT, path)


# --- resolve, directly ------------------------------------------------------------------------


# What README documents, written out here rather than taken from wai.settings, so that a changed
# default fails until README (and this) change with it.
README_DEFAULTS = Settings(
    backend=BackendSettings(
        name="cloudflare",
        type="cloudflare",
        model="@hf/thebloke/mistral-7b-instruct-v0.1-awq",  # "Default model: ..."
        base_url="https://api.cloudflare.com/client/v4",  # "# base_url = ..."
        account_id=None,
        api_token=None,
        token_source=None,
        gateway=None,
        gateway_base_url="https://gateway.ai.cloudflare.com/v1",  # "# gateway_base_url = ..."
        context_window=4096,  # "4096 tokens for the default model"
    ),
    system=None,
    params={"max_tokens": 1024},  # "the default (1024)"
    max_tokens_given=False,
    connect_timeout=10.0,  # "Connect timeout 10 s"
    read_timeout=120.0,  # "at most 120 s between two stream events"
    retries=3,  # "retried up to 3 times"
    retry_backoff=0.5,  # "retry_backoff = 0.5"
)
OTHER_URL = "https://other.example/v1"


def backend_with(**changes: Any) -> Settings:
    return README_DEFAULTS._replace(backend=README_DEFAULTS.backend._replace(**changes))


def test_resolve_with_nothing_gives_the_defaults_readme_documents() -> None:
    assert resolve(Overrides(), {}, {}) == README_DEFAULTS


@pytest.mark.parametrize(
    ("overrides", "config", "environ", "expected"),
    [
        # the model's known window goes with the default model
        (
            Overrides(),
            {"model": FILE_MODEL},
            {},
            backend_with(model=FILE_MODEL, context_window=None),
        ),
        (
            Overrides(),
            {"backends": {"cloudflare": {"model": FILE_MODEL}}},
            {},
            backend_with(model=FILE_MODEL, context_window=None),
        ),
        (
            Overrides(),
            {},
            {"WAI_MODEL": ENV_MODEL},
            backend_with(model=ENV_MODEL, context_window=None),
        ),
        (Overrides(model=FLAG_MODEL), {}, {}, backend_with(model=FLAG_MODEL, context_window=None)),
        (
            Overrides(),
            {"backends": {"cloudflare": {"base_url": OTHER_URL}}},
            {},
            backend_with(base_url=OTHER_URL),
        ),
        (Overrides(), {}, {"CLOUDFLARE_API_BASE_URL": OTHER_URL}, backend_with(base_url=OTHER_URL)),
        (
            Overrides(),
            {"backends": {"cloudflare": {"gateway_base_url": OTHER_URL}}},
            {},
            backend_with(gateway_base_url=OTHER_URL),
        ),
        (
            Overrides(),
            {"backends": {"cloudflare": {"context_window": 8192}}},
            {},
            backend_with(context_window=8192),
        ),
        (Overrides(), {"connect_timeout": 3}, {}, README_DEFAULTS._replace(connect_timeout=3.0)),
        (Overrides(), {"read_timeout": 30}, {}, README_DEFAULTS._replace(read_timeout=30.0)),
        (Overrides(), {"retries": 0}, {}, README_DEFAULTS._replace(retries=0)),
        (Overrides(), {"retry_backoff": 2}, {}, README_DEFAULTS._replace(retry_backoff=2.0)),
        (
            Overrides(),
            {"params": {"max_tokens": 512}},
            {},
            README_DEFAULTS._replace(params={"max_tokens": 512}, max_tokens_given=True),
        ),
        (
            Overrides(params={"max_tokens": 64}),
            {},
            {},
            README_DEFAULTS._replace(params={"max_tokens": 64}, max_tokens_given=True),
        ),
    ],
    ids=[
        "file-model",
        "file-backend-model",
        "env-model",
        "flag-model",
        "file-base-url",
        "env-base-url",
        "file-gateway-base-url",
        "file-context-window",
        "file-connect-timeout",
        "file-read-timeout",
        "file-retries",
        "file-retry-backoff",
        "file-max-tokens",
        "flag-max-tokens",
    ],
)
def test_each_default_gives_way_to_each_layer_that_sets_it(
    overrides: Overrides, config: dict[str, Any], environ: dict[str, str], expected: Settings
) -> None:
    # only the setting given changes: nothing else moves off its default
    assert resolve(overrides, config, environ) == expected


FULL_CONFIG: dict[str, Any] = {
    "backend": "work",
    "model": TOP_MODEL,
    "system": "file system",
    "read_timeout": 30,
    "retries": 0,
    "params": {"temperature": 0.6, "max_tokens": 512},
    "backends": {
        "work": {
            "type": "cloudflare",
            "model": FILE_MODEL,
            "account_id": "f11e0000000000000000000000000000",
            "api_token": "file-token",
            "base_url": "https://file.example/client/v4",
            "gateway": "gw",
            "context_window": 8192,
        },
    },
}


def test_resolve_takes_everything_from_the_file() -> None:
    settings = resolve(Overrides(), FULL_CONFIG, {})
    assert settings.backend == BackendSettings(
        name="work",
        type="cloudflare",
        model=FILE_MODEL,
        base_url="https://file.example/client/v4",
        account_id="f11e0000000000000000000000000000",
        api_token="file-token",
        token_source="config file",
        gateway="gw",
        gateway_base_url=GATEWAY_BASE,
        context_window=8192,
    )
    assert settings.system == "file system"
    assert settings.params == {"temperature": 0.6, "max_tokens": 512}
    assert settings.max_tokens_given is True
    assert (settings.read_timeout, settings.retries) == (30.0, 0)


def test_resolve_prefers_the_environment_to_the_file() -> None:
    env = {
        "WAI_MODEL": ENV_MODEL,
        "CLOUDFLARE_ACCOUNT_ID": "e0e00000000000000000000000000000",
        "CF_ACCOUNT_ID": "cf000000000000000000000000000000",
        "CF_API_TOKEN": "cf-token",
        "CLOUDFLARE_API_BASE_URL": "https://env.example/client/v4",
    }
    backend = resolve(Overrides(), FULL_CONFIG, env).backend
    assert (backend.name, backend.model, backend.account_id, backend.api_token) == (
        "work",
        ENV_MODEL,
        "e0e00000000000000000000000000000",
        "cf-token",
    )
    assert backend.token_source == "environment"
    assert backend.base_url == "https://env.example/client/v4"


def test_resolve_prefers_flags_to_the_environment() -> None:
    options = Overrides(
        backend="cloudflare",
        model=FLAG_MODEL,
        system="flag system",
        params={"temperature": 1, "max_tokens": 10},
    )
    env = {"WAI_BACKEND": "work", "WAI_MODEL": ENV_MODEL}
    settings = resolve(options, FULL_CONFIG, env)
    assert (settings.backend.name, settings.backend.model) == ("cloudflare", FLAG_MODEL)
    assert settings.system == "flag system"
    assert settings.params == {"temperature": 1.0, "max_tokens": 10}
    assert type(settings.params["temperature"]) is float


def test_resolve_refuses_an_unknown_backend_by_where_it_came_from() -> None:
    with pytest.raises(UsageError) as flag:
        resolve(Overrides(backend="nope"), {}, {})
    assert flag.value.message == f"unknown backend 'nope' (known: {PRESET_NAMES})"
    with pytest.raises(ConfigError) as env:
        resolve(Overrides(), {}, {"WAI_BACKEND": "nope"})
    assert env.value.message == f"unknown backend 'nope' (known: {PRESET_NAMES})"
    with pytest.raises(ConfigError):
        resolve(Overrides(), {"backend": "nope"}, {})


def test_resolve_checks_flag_params() -> None:
    with pytest.raises(UsageError) as caught:
        resolve(Overrides(params={"top_k": 51}), {}, {})
    assert caught.value.message == "--top-k is 51, out of range: allowed 1 to 50"


def test_the_token_never_shows_in_a_repr() -> None:
    backend = BackendSettings(
        name="cloudflare", type="cloudflare", model="m", base_url="u", api_token="s3cret-token"
    )
    settings = Settings(backend=backend, system=None, params={}, max_tokens_given=False)
    assert "s3cret-token" not in repr(settings)
    assert "api_token=<hidden>," in repr(backend)
    assert "api_token=None" in repr(backend._replace(api_token=None))


# --- options and reasoning effort ---------------------------------------------------------------

QWEN3 = "@cf/qwen/qwen3-30b-a3b-fp8"
LOCAL_BACKEND = {"backends": {"local": {"type": "openai", "base_url": "http://127.0.0.1:1/v1"}}}


def test_resolve_sends_options_after_the_known_params_in_their_order() -> None:
    given = {"n": 2, "temperature": 1, "chat_template_kwargs": {"enable_thinking": False}}
    settings = resolve(Overrides(params=given), {"params": {"top_k": 5}}, {})
    assert list(settings.params.items()) == [
        ("max_tokens", 1024),
        ("temperature", 1.0),
        ("top_k", 5),
        ("n", 2),
        ("chat_template_kwargs", {"enable_thinking": False}),
    ]
    assert settings.max_tokens_given is False


def test_resolve_refuses_options_in_the_config_files_params() -> None:
    with pytest.raises(UsageError) as caught:
        resolve(Overrides(), {"params": {"n": 2}}, {})
    assert caught.value.message == (
        "unknown parameter 'n'; known: max_tokens, temperature, top_p, top_k, seed, "
        "repetition_penalty, frequency_penalty, presence_penalty, lora"
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "x"}, "-o model: wai sets this field itself"),
        ({"n": float("nan")}, "-o n: NaN and Infinity cannot be sent in a JSON body"),
        ({"temperature": float("inf")}, "--temperature must be a finite number, got inf"),
        ({"": 1}, "an option needs a KEY: -o KEY VALUE"),
    ],
)
def test_resolve_refuses_options_no_request_can_carry(params: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve(Overrides(params=params), {}, {})
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("backend", "model"),
    [
        (None, QWEN3),  # a Chat Completions model
        (None, "@cf/openai/gpt-oss-20b"),
        (None, "@cf/someone/new-model"),  # unknown to wai: the user knows best
        ("local", DEFAULT_MODEL),  # an OpenAI-compatible server, whatever its model's name
    ],
)
def test_resolve_keeps_a_reasoning_effort_where_it_may_be_taken(
    backend: str | None, model: str
) -> None:
    overrides = Overrides(backend=backend, model=model, params={"reasoning_effort": "low"})
    settings = resolve(overrides, LOCAL_BACKEND, {})
    assert settings.params == {"max_tokens": 1024, "reasoning_effort": "low"}


@pytest.mark.parametrize(
    "model", [DEFAULT_MODEL, "@cf/qwen/qwq-32b", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"]
)
def test_resolve_refuses_a_reasoning_effort_for_a_native_body_model(model: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve(Overrides(model=model, params={"reasoning_effort": "high"}), {}, {})
    assert caught.value.message == f"{model} takes no reasoning effort"
    assert caught.value.hint == (
        "it is for models that take Chat Completions bodies, such as @cf/openai/gpt-oss-120b or "
        "@cf/qwen/qwen3-30b-a3b-fp8"
    )
