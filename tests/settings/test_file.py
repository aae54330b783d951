"""Unit tests of wai.settings.file: validation, dotted keys, value parsing, masking, reading,
writing."""

from __future__ import annotations

import copy
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from wai.errors import EXIT_CONFIG, ConfigError, UsageError
from wai.settings.file import (
    MASK,
    ConfigProblem,
    get_key,
    load_config,
    masked,
    parse_value,
    read_document,
    save_config,
    set_key,
    unset_key,
    validate,
)
from wai.settings.paths import config_path

# A config file with a comment on every line and both kinds of backend.
FULL_EXAMPLE = """\
backend = "cloudflare"            # default backend name
system = "You are a concise assistant."

[params]                          # defaults for every request
max_tokens = 1024
temperature = 0.6

[backends.cloudflare]
type = "cloudflare"
account_id = "..."
api_token = "..."                 # or leave it to CLOUDFLARE_API_TOKEN
model = "@hf/thebloke/mistral-7b-instruct-v0.1-awq"
# gateway = "my-gateway"          # send through AI Gateway
# base_url = "https://api.cloudflare.com/client/v4"

[backends.local]
type = "openai"                   # any OpenAI-compatible server
base_url = "http://127.0.0.1:8080/v1"
# model = "..."                   # default: the first one GET /v1/models lists
# api_key = "..."
"""

TOP_LEVEL_KNOWN = (
    "unknown key (known here: backend, model, system, connect_timeout, read_timeout, retries, "
    "retry_backoff, save_one_shots, reasoning, params, backends, roles)"
)


def problem_of(data: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ConfigProblem) as caught:
        validate(data)
    assert str(caught.value) == f"{caught.value.key}: {caught.value.message}"
    return caught.value.key, caught.value.message


# --- validate ---------------------------------------------------------------------------------


def test_validate_accepts_the_spec_example() -> None:
    validate(tomllib.loads(FULL_EXAMPLE))


def test_validate_accepts_an_empty_config() -> None:
    validate({})


def test_validate_accepts_every_documented_key() -> None:
    validate(
        {
            "backend": "work",
            "model": "@cf/meta/llama-3.1-8b-instruct",
            "system": "Be brief.",
            "connect_timeout": 5,
            "read_timeout": 30.5,
            "retries": 0,
            "retry_backoff": 0,
            "params": {
                "max_tokens": 1,
                "temperature": 5,
                "top_p": 1,
                "top_k": 50,
                "seed": 9_999_999_999,
                "repetition_penalty": 0,
                "frequency_penalty": -2,
                "presence_penalty": 2,
                "lora": "my-adapter",
            },
            "backends": {
                "work": {
                    "type": "cloudflare",
                    "model": "m",
                    "base_url": "https://api.cloudflare.com/client/v4",
                    "account_id": "a",
                    "api_token": "t",
                    "gateway": "g",
                    "gateway_base_url": "https://gateway.ai.cloudflare.com/v1",
                    "context_window": 8192,
                },
                "local": {"type": "openai", "base_url": "http://127.0.0.1:8080/v1", "api_key": "k"},
            },
        }
    )


def test_validate_rejects_an_unknown_top_level_key() -> None:
    assert problem_of({"modle": "x"}) == ("modle", TOP_LEVEL_KNOWN)


def test_validate_rejects_an_unknown_param() -> None:
    assert problem_of({"params": {"temp": 0.5}}) == (
        "params.temp",
        "unknown key (known here: max_tokens, temperature, top_p, top_k, seed, "
        "repetition_penalty, frequency_penalty, presence_penalty, lora)",
    )


def test_validate_rejects_an_unknown_backend_field() -> None:
    assert problem_of({"backends": {"cloudflare": {"token": "t"}}}) == (
        "backends.cloudflare.token",
        "unknown key (known here: type, model, base_url, account_id, api_token, gateway, "
        "gateway_base_url, api_key, context_window)",
    )


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({"backend": 3}, "backend", "must be a string, got an integer"),
        ({"model": True}, "model", "must be a string, got a boolean"),
        ({"system": ["a"]}, "system", "must be a string, got an array"),
        ({"read_timeout": "10"}, "read_timeout", "must be a number, got a string"),
        ({"connect_timeout": 0}, "connect_timeout", "must be at least 0.001, got 0"),
        ({"retries": 1.5}, "retries", "must be a whole number, got a float"),
        ({"retries": -1}, "retries", "must be at least 0, got -1"),
        ({"params": 1}, "params", "must be a table, got an integer"),
        ({"backends": "cloudflare"}, "backends", "must be a table, got a string"),
        ({"backends": {"cloudflare": 1}}, "backends.cloudflare", "must be a table, got an integer"),
        (
            {"backends": {"x": {"type": "azure"}}},
            "backends.x.type",
            "must be one of cloudflare, openai, got 'azure'",
        ),
        (
            {"backends": {"cloudflare": {"account_id": 123}}},
            "backends.cloudflare.account_id",
            "must be a string, got an integer",
        ),
        (
            {"backends": {"cloudflare": {"context_window": 0}}},
            "backends.cloudflare.context_window",
            "must be at least 1, got 0",
        ),
        ({"params": {"temperature": "hot"}}, "params.temperature", "must be a number, got 'hot'"),
        ({"params": {"temperature": True}}, "params.temperature", "must be a number, got True"),
        ({"params": {"max_tokens": 1.5}}, "params.max_tokens", "must be a whole number, got 1.5"),
        ({"params": {"lora": ""}}, "params.lora", "must be a non-empty string"),
    ],
)
def test_validate_rejects_a_bad_type_naming_the_dotted_key(
    data: dict[str, Any], key: str, message: str
) -> None:
    assert problem_of(data) == (key, message)


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("temperature", 9, "0 to 5"),
        ("temperature", -0.1, "0 to 5"),
        ("top_p", 0, "0.001 to 1"),
        ("top_k", 51, "1 to 50"),
        ("max_tokens", 0, "at least 1"),
        ("seed", 0, "1 to 9999999999"),
        ("repetition_penalty", 2.5, "0 to 2"),
        ("frequency_penalty", -3, "-2 to 2"),
        ("presence_penalty", 3, "-2 to 2"),
    ],
)
def test_validate_rejects_an_out_of_range_param_naming_the_range(
    name: str, value: float, allowed: str
) -> None:
    assert problem_of({"params": {name: value}}) == (
        f"params.{name}",
        f"is {value}, out of range: allowed {allowed}",
    )


def test_validate_reports_the_first_problem_in_file_order() -> None:
    assert problem_of({"model": "m", "params": {"temperature": 9}, "zzz": 1})[0] == (
        "params.temperature"
    )


# --- dotted keys ------------------------------------------------------------------------------


def test_get_key_reads_top_level_and_nested_values() -> None:
    data = {"model": "m", "backends": {"cloudflare": {"account_id": "a"}}}
    assert get_key(data, "model") == "m"
    assert get_key(data, "backends.cloudflare.account_id") == "a"
    assert get_key(data, "backends.cloudflare") == {"account_id": "a"}


@pytest.mark.parametrize("key", ["nope", "backends.local", "model.x", "backends.cloudflare.x"])
def test_get_key_raises_key_error_for_a_missing_key(key: str) -> None:
    data = {"model": "m", "backends": {"cloudflare": {"account_id": "a"}}}
    with pytest.raises(KeyError) as caught:
        get_key(data, key)
    assert caught.value.args == (key,)


@pytest.mark.parametrize("key", ["", ".", "a..b", "params.", ".model"])
def test_a_malformed_key_is_a_usage_error(key: str) -> None:
    with pytest.raises(UsageError) as caught:
        get_key({}, key)
    assert caught.value.message == f"invalid key {key!r}: use dotted names like params.temperature"


def test_set_key_creates_the_tables_on_the_way() -> None:
    data: dict[str, Any] = {"model": "m"}
    set_key(data, "backends.cloudflare.account_id", "a")
    assert data == {"model": "m", "backends": {"cloudflare": {"account_id": "a"}}}


def test_set_key_replaces_a_value_and_keeps_its_siblings() -> None:
    data: dict[str, Any] = {"params": {"temperature": 0.6, "max_tokens": 1024}}
    set_key(data, "params.temperature", 0.7)
    assert data == {"params": {"temperature": 0.7, "max_tokens": 1024}}


def test_set_key_refuses_to_descend_into_a_value() -> None:
    data: dict[str, Any] = {"model": "m"}
    with pytest.raises(UsageError) as caught:
        set_key(data, "model.name", "x")
    assert caught.value.message == "model is a value, not a table"
    assert data == {"model": "m"}


def test_unset_key_removes_a_value() -> None:
    data: dict[str, Any] = {"model": "m", "system": "s"}
    assert unset_key(data, "model") is True
    assert data == {"system": "s"}


def test_unset_key_drops_the_tables_it_leaves_empty() -> None:
    data: dict[str, Any] = {"model": "m", "backends": {"cloudflare": {"account_id": "a"}}}
    assert unset_key(data, "backends.cloudflare.account_id") is True
    assert data == {"model": "m"}


def test_unset_key_keeps_tables_that_still_hold_something() -> None:
    data: dict[str, Any] = {
        "backends": {"cloudflare": {"account_id": "a"}, "local": {"type": "openai"}},
    }
    assert unset_key(data, "backends.cloudflare.account_id") is True
    assert data == {"backends": {"local": {"type": "openai"}}}


def test_unset_key_keeps_a_table_that_was_already_empty_elsewhere() -> None:
    data: dict[str, Any] = {
        "params": {},
        "backends": {"cloudflare": {"model": "m", "gateway": "g"}},
    }
    assert unset_key(data, "backends.cloudflare.gateway") is True
    assert data == {"params": {}, "backends": {"cloudflare": {"model": "m"}}}


@pytest.mark.parametrize("key", ["system", "params.temperature", "model.x", "backends.x.model"])
def test_unset_key_of_a_missing_key_returns_false_and_changes_nothing(key: str) -> None:
    data: dict[str, Any] = {"model": "m", "params": {"max_tokens": 9}}
    assert unset_key(data, key) is False
    assert data == {"model": "m", "params": {"max_tokens": 9}}


# --- parse_value ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.7", 0.7),
        ("42", 42),
        ("-2", -2),
        ("true", True),
        ("false", False),
        ('"x"', "x"),
        ('"42"', "42"),
        ("'single'", "single"),
        ("x", "x"),
        ("hello world", "hello world"),
        ("@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-3.1-8b-instruct"),
        ("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"),
        ("", ""),
    ],
)
def test_parse_value(text: str, value: Any) -> None:
    parsed = parse_value(text)
    assert parsed == value
    assert type(parsed) is type(value)


def test_parse_value_keeps_text_that_is_more_than_one_value_as_text() -> None:
    # `value = "a"\nb = 2` parses as a document, but the text is not one TOML value.
    text = '"Be terse."\nformat = "markdown"'
    assert parse_value(text) == text


# --- masked -----------------------------------------------------------------------------------


def test_masked_hides_every_secret_and_leaves_the_rest() -> None:
    data = {
        "model": "m",
        "params": {"temperature": 0.6},
        "backends": {
            "cloudflare": {"account_id": "a", "api_token": "secret-1"},
            "local": {"type": "openai", "api_key": "secret-2"},
        },
    }
    original = copy.deepcopy(data)
    assert masked(data) == {
        "model": "m",
        "params": {"temperature": 0.6},
        "backends": {
            "cloudflare": {"account_id": "a", "api_token": MASK},
            "local": {"type": "openai", "api_key": MASK},
        },
    }
    assert data == original
    assert MASK == "********"


def test_masked_of_one_value_uses_its_key() -> None:
    assert masked("secret", "api_token") == MASK
    assert masked("secret", "api_key") == MASK
    assert masked("a", "account_id") == "a"
    assert masked("plain") == "plain"


# --- reading and writing ----------------------------------------------------------------------


def test_config_path_is_in_wai_config_dir(isolated: Path, config_file: Path) -> None:
    assert config_path() == isolated / "config" / "config.toml" == config_file


def test_load_config_without_a_file_is_empty(config_file: Path) -> None:
    assert load_config() == {}
    assert not config_file.exists()


def test_save_config_writes_mode_0600_and_round_trips(config_file: Path) -> None:
    data = {
        "backend": "cloudflare",
        "params": {"temperature": 0.6, "max_tokens": 1024},
        "backends": {"cloudflare": {"account_id": "a", "api_token": "t"}},
    }
    save_config(data)
    assert config_file.read_text() == (
        'backend = "cloudflare"\n'
        "\n"
        "[params]\n"
        "temperature = 0.6\n"
        "max_tokens = 1024\n"
        "\n"
        "[backends.cloudflare]\n"
        'account_id = "a"\n'
        'api_token = "t"\n'
    )
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert load_config() == data
    assert os.listdir(config_file.parent) == ["config.toml"]


def test_save_config_replaces_an_existing_file_atomically(config_file: Path) -> None:
    config_file.parent.mkdir()
    config_file.write_text('model = "old"\nsystem = "old"\n')
    config_file.chmod(0o644)
    before = config_file.stat().st_ino
    save_config({"model": "new"})
    assert config_file.read_text() == 'model = "new"\n'
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert config_file.stat().st_ino != before  # a new file renamed over the old one
    assert os.listdir(config_file.parent) == ["config.toml"]


def test_save_config_to_an_explicit_path(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "wai.toml"
    save_config({"model": "m"}, target)
    assert target.read_text() == 'model = "m"\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert load_config(target) == {"model": "m"}
    assert sorted(os.listdir(target.parent)) == ["wai.toml"]


@pytest.mark.parametrize("content", [b"model = \n", b"[params\n", b'model = "\xff"\n'])
def test_load_config_of_an_unparseable_file_is_a_config_error(
    config_file: Path, content: bytes
) -> None:
    config_file.parent.mkdir()
    config_file.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.message.startswith(f"cannot parse {config_file}: ")
    assert caught.value.exit_code == EXIT_CONFIG == 3
    assert caught.value.hint == (
        "fix the file by hand (`wai config edit`); wai will not overwrite it"
    )
    assert config_file.read_bytes() == content


def test_load_config_names_the_path_and_the_key_of_a_bad_value(config_file: Path) -> None:
    config_file.parent.mkdir()
    config_file.write_text("[params]\ntemperature = 9\n")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.message == (
        f"{config_file}: params.temperature: is 9, out of range: allowed 0 to 5"
    )
    assert caught.value.exit_code == 3


def test_read_document_does_not_validate(config_file: Path) -> None:
    config_file.parent.mkdir()
    config_file.write_text('modle = "x"\n')
    assert read_document(config_file) == {"modle": "x"}
