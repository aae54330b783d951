"""Roles in config.toml (`[roles.NAME]`): how the tables are checked when the file is read, and
how a role fills in the overrides under the command line's own flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers.workers_ai import LLAMA4_SCOUT
from wai.errors import EXIT_CONFIG, EXIT_USAGE, ConfigError, UsageError
from wai.settings import Overrides, Role, configured_roles, find_role, resolve, with_role
from wai.settings.file import load_config

SCOUT = LLAMA4_SCOUT
ROLES = f"""\
[roles.reviewer]
system = "You review code.\\nPoint out bugs first."
model = "{SCOUT}"
temperature = 0.2
top_k = 5

[roles.poet]
system = "You write haiku."
"""
PARAMS_KNOWN = (
    "max_tokens, temperature, top_p, top_k, seed, repetition_penalty, frequency_penalty, "
    "presence_penalty, lora"
)


def write(config_file: Path, text: str) -> bytes:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(text)
    return config_file.read_bytes()


def refusal(config_file: Path, text: str) -> tuple[str, str | None]:
    """The error reading a config file holding `text` gives: its message and hint; the file is
    left byte for byte as it was."""
    before = write(config_file, text)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.exit_code == EXIT_CONFIG
    assert config_file.read_bytes() == before
    return caught.value.message, caught.value.hint


def test_roles_are_read_in_the_files_order(config_file: Path) -> None:
    write(config_file, ROLES)
    assert configured_roles(load_config()) == {
        "reviewer": Role(
            name="reviewer",
            system="You review code.\nPoint out bugs first.",
            model=SCOUT,
            params={"temperature": 0.2, "top_k": 5},
        ),
        "poet": Role(name="poet", system="You write haiku."),
    }


def test_a_role_may_name_a_backend_and_any_known_parameter(config_file: Path) -> None:
    write(
        config_file,
        '[roles.local-coder]\nsystem = "Code."\nbackend = "ollama"\nmodel = "qwen2.5-coder"\n'
        'max_tokens = 300\nseed = 7\nfrequency_penalty = -1.5\nlora = "my-adapter"\n',
    )
    assert configured_roles(load_config()) == {
        "local-coder": Role(
            name="local-coder",
            system="Code.",
            model="qwen2.5-coder",
            backend="ollama",
            params={"max_tokens": 300, "seed": 7, "frequency_penalty": -1.5, "lora": "my-adapter"},
        )
    }


def test_a_role_without_a_system_message_is_refused(config_file: Path) -> None:
    assert refusal(config_file, '[roles.terse]\nmodel = "@cf/x/y"\n') == (
        f"{config_file}: roles.terse.system: is missing: a role is a system message, with a "
        "model and parameters if you like",
        'set it with `wai config set roles.terse.system "You are ..."`',
    )


def test_a_parameter_out_of_range_names_the_role_and_the_key(config_file: Path) -> None:
    assert refusal(config_file, '[roles.hot]\nsystem = "Be wild."\ntemperature = 9\n') == (
        f"{config_file}: roles.hot.temperature: is 9, out of range: allowed 0 to 5",
        "fix it with `wai config set roles.hot.temperature VALUE` or `wai config unset "
        "roles.hot.temperature`",
    )


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ("system = 3", "roles.r.system", "must be a string, got an integer"),
        ('system = "  "', "roles.r.system", "must not be empty"),
        ('system = "S"\nmodel = true', "roles.r.model", "must be a string, got a boolean"),
        ('system = "S"\nbackend = ""', "roles.r.backend", "must not be empty"),
        ('system = "S"\ntemperature = "hot"', "roles.r.temperature", "must be a number, got 'hot'"),
        ('system = "S"\ntop_k = 2.5', "roles.r.top_k", "must be a whole number, got 2.5"),
        ('system = "S"\nlora = 1', "roles.r.lora", "must be a non-empty string"),
        (
            'system = "S"\ntemprature = 0.1',
            "roles.r.temprature",
            f"unknown key (known here: system, model, backend, {PARAMS_KNOWN})",
        ),
    ],
)
def test_a_value_of_the_wrong_type_names_the_role_and_the_key(
    config_file: Path, table: str, key: str, message: str
) -> None:
    assert refusal(config_file, f"[roles.r]\n{table}\n") == (
        f"{config_file}: {key}: {message}",
        f"fix it with `wai config set {key} VALUE` or `wai config unset {key}`",
    )


def test_a_role_that_is_not_a_table_is_refused(config_file: Path) -> None:
    assert refusal(config_file, '[roles]\nreviewer = "You review code."\n') == (
        f"{config_file}: roles.reviewer: must be a table, got a string",
        "fix it with `wai config set roles.reviewer VALUE` or `wai config unset roles.reviewer`",
    )
    assert refusal(config_file, 'roles = "reviewer"\n')[0] == (
        f"{config_file}: roles: must be a table, got a string"
    )


@pytest.mark.parametrize("name", ["Reviewer", "-x", "_x", "code.review", "my role", "rôle"])
def test_a_role_name_outside_the_slug_rules_is_refused(config_file: Path, name: str) -> None:
    assert refusal(config_file, f'[roles."{name}"]\nsystem = "S"\n') == (
        f"{config_file}: roles.{name}: invalid role name: use lowercase letters, digits, '_' "
        "and '-', starting with a letter or digit",
        "rename the table with `wai config edit`",
    )


# --- a role under the command line ------------------------------------------------------------


def config_with_roles(config_file: Path) -> dict:
    write(config_file, ROLES)
    return load_config()


def test_no_role_leaves_the_overrides_as_they_are(config_file: Path) -> None:
    overrides = Overrides(model="m", params={"seed": 1})
    assert with_role(overrides, config_with_roles(config_file)) is overrides


def test_a_role_fills_in_what_the_command_line_did_not_choose(config_file: Path) -> None:
    config = config_with_roles(config_file)
    assert with_role(Overrides(role="reviewer"), config) == Overrides(
        system="You review code.\nPoint out bugs first.",
        model=SCOUT,
        model_source=f"roles.reviewer.model in {config_file}",
        params={"temperature": 0.2, "top_k": 5},
        role="reviewer",
    )
    assert with_role(Overrides(role="poet"), config) == Overrides(
        system="You write haiku.", role="poet"
    )


def test_the_command_lines_flags_win_over_the_role(config_file: Path) -> None:
    config = config_with_roles(config_file)
    overrides = Overrides(
        system="Be brief.", model="@cf/other/model", params={"temperature": 0.9}, role="reviewer"
    )
    assert with_role(overrides, config) == Overrides(
        system="Be brief.",
        model="@cf/other/model",
        params={"temperature": 0.9, "top_k": 5},
        role="reviewer",
    )


def test_the_role_wins_over_the_environment_and_the_configs_defaults(config_file: Path) -> None:
    write(
        config_file,
        f'model = "@cf/config/model"\nsystem = "Config system."\n[params]\ntemperature = 1.5\n'
        f"seed = 3\n{ROLES}",
    )
    config = load_config()
    settings = resolve(
        with_role(Overrides(role="reviewer"), config), config, {"WAI_MODEL": "@cf/env/model"}
    )
    assert settings.backend.model == SCOUT
    assert settings.system == "You review code.\nPoint out bugs first."
    assert dict(settings.params) == {"max_tokens": 1024, "temperature": 0.2, "top_k": 5, "seed": 3}


def test_an_unknown_role_is_a_usage_error_listing_the_roles(config_file: Path) -> None:
    config = config_with_roles(config_file)
    with pytest.raises(UsageError) as caught:
        find_role(config, "critic")
    assert (caught.value.message, caught.value.hint) == (
        "unknown role 'critic'",
        "the roles are reviewer, poet",
    )
    assert caught.value.exit_code == EXIT_USAGE


def test_an_unknown_role_without_any_roles_says_how_to_add_one(config_file: Path) -> None:
    with pytest.raises(UsageError) as caught:
        with_role(Overrides(role="critic"), load_config())
    assert (caught.value.message, caught.value.hint) == (
        "unknown role 'critic'",
        'no roles yet: add one with `wai config set roles.critic.system "You are ..."`',
    )


def test_a_roles_unknown_backend_is_a_configuration_error(config_file: Path) -> None:
    write(config_file, '[roles.far]\nsystem = "S"\nbackend = "nowhere"\n')
    with pytest.raises(ConfigError) as caught:
        with_role(Overrides(role="far"), load_config())
    assert (caught.value.message, caught.value.hint) == (
        f"roles.far.backend in {config_file}: unknown backend 'nowhere' (known: cloudflare, "
        "llamacpp, lmstudio, ollama, vllm)",
        "add a [backends.nowhere] table, or change the role's backend",
    )
