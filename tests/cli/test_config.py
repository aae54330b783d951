"""`wai config path|show|get|set|unset|edit` end to end: exact output, exit codes and files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import Run, wai
from tests.servers.workers_ai import TOKEN, WorkersAIServer

TOP_LEVEL_KNOWN = (
    "known here: backend, model, system, connect_timeout, read_timeout, retries, "
    "retry_backoff, save_one_shots, reasoning, params, backends, roles"
)
UNPARSEABLE = b'model = "@cf/x"\n[params\ntemperature = 0.5\n'
PARSE_ERROR = "Expected ']' at the end of a table declaration (at line 2, column 8)"
NOT_OVERWRITTEN = "hint: fix the file by hand (`wai config edit`); wai will not overwrite it\n"


def write_config(path: Path, text: str | bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(data)
    return data


def cannot_parse(path: Path, detail: str = PARSE_ERROR) -> str:
    return f"wai: error: cannot parse {path}: {detail}\n" + NOT_OVERWRITTEN


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_ok(run: Run, stdout: str = "", stderr: str = "") -> None:
    assert (run.exit_code, run.stdout, run.stderr) == (0, stdout, stderr)


# --- path and show ----------------------------------------------------------------------------


def test_path_prints_the_config_path(config_file: Path) -> None:
    assert_ok(wai("config", "path"), stdout=f"{config_file}\n")
    assert not config_file.exists()


def test_path_follows_wai_config_dir(tmp_path: Path) -> None:
    other = tmp_path / "other"
    run = wai("config", "path", env={"WAI_CONFIG_DIR": str(other)})
    assert_ok(run, stdout=f"{other / 'config.toml'}\n")


def test_show_without_a_file_says_so(config_file: Path) -> None:
    assert_ok(wai("config", "show"), stderr=f"wai: no settings yet in {config_file}\n")
    assert not config_file.exists()


def test_show_prints_the_file_as_toml(config_file: Path) -> None:
    write_config(
        config_file,
        '# my settings\nmodel = "@cf/x"\n\n[params]\ntemperature = 0.6\nmax_tokens = 512\n',
    )
    assert_ok(
        wai("config", "show"),
        stdout='model = "@cf/x"\n\n[params]\ntemperature = 0.6\nmax_tokens = 512\n',
    )


def test_show_of_an_unparseable_file_is_exit_3(config_file: Path) -> None:
    write_config(config_file, UNPARSEABLE)
    run = wai("config", "show")
    assert run.exit_code == 3
    assert run.stdout == ""
    assert run.stderr == cannot_parse(config_file)
    assert config_file.read_bytes() == UNPARSEABLE


# --- set and get ------------------------------------------------------------------------------


def test_set_then_get_a_float(config_file: Path) -> None:
    assert_ok(wai("config", "set", "params.temperature", "0.7"))
    assert_ok(wai("config", "get", "params.temperature"), stdout="0.7\n")
    assert config_file.read_text() == "[params]\ntemperature = 0.7\n"
    assert mode_of(config_file) == 0o600


def test_set_then_get_an_integer(config_file: Path) -> None:
    assert_ok(wai("config", "set", "params.max_tokens", "512"))
    assert_ok(wai("config", "get", "params.max_tokens"), stdout="512\n")
    assert config_file.read_text() == "[params]\nmax_tokens = 512\n"


def test_set_of_a_bool_is_parsed_as_toml_and_checked(config_file: Path) -> None:
    # `true` parses as a TOML boolean: where a string belongs it is refused, naming the key;
    # quoted, it is the string "true". (No config key takes a boolean yet.)
    run = wai("config", "set", "model", "true")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "wai: error: model: must be a string, got a boolean\n"
    assert not config_file.exists()
    assert_ok(wai("config", "set", "model", '"true"'))
    assert_ok(wai("config", "get", "model"), stdout="true\n")
    assert config_file.read_text() == 'model = "true"\n'


def test_set_then_get_a_string(config_file: Path) -> None:
    assert_ok(wai("config", "set", "model", "@cf/meta/llama-3.1-8b-instruct"))
    assert_ok(wai("config", "set", "system", "You are a pirate."))
    assert_ok(wai("config", "get", "model"), stdout="@cf/meta/llama-3.1-8b-instruct\n")
    assert_ok(wai("config", "get", "system"), stdout="You are a pirate.\n")
    assert config_file.read_text() == (
        'model = "@cf/meta/llama-3.1-8b-instruct"\nsystem = "You are a pirate."\n'
    )


def test_set_a_quoted_number_keeps_a_string(config_file: Path) -> None:
    assert_ok(wai("config", "set", "model", '"42"'))
    assert_ok(wai("config", "get", "model"), stdout="42\n")
    assert config_file.read_text() == 'model = "42"\n'


def test_set_then_get_a_nested_account_id(config_file: Path) -> None:
    account = "0123456789abcdef0123456789abcdef"
    assert_ok(wai("config", "set", "backends.cloudflare.account_id", account))
    assert_ok(wai("config", "get", "backends.cloudflare.account_id"), stdout=f"{account}\n")
    assert_ok(wai("config", "get", "backends.cloudflare"), stdout=f'account_id = "{account}"\n')
    assert config_file.read_text() == f'[backends.cloudflare]\naccount_id = "{account}"\n'


def test_set_keeps_the_other_values(config_file: Path) -> None:
    write_config(config_file, 'model = "m"\n\n[params]\nmax_tokens = 100\n')
    assert_ok(wai("config", "set", "params.temperature", "1"))
    assert config_file.read_text() == (
        'model = "m"\n\n[params]\nmax_tokens = 100\ntemperature = 1\n'
    )


def test_get_of_a_missing_key_is_a_usage_error(config_file: Path) -> None:
    write_config(config_file, 'model = "m"\n')
    run = wai("config", "get", "params.temperature")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "wai: error: params.temperature is not set\n"


def test_set_of_an_unknown_key_is_refused_and_no_file_is_made(config_file: Path) -> None:
    run = wai("config", "set", "modle", "x")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"wai: error: modle: unknown key ({TOP_LEVEL_KNOWN})\n"
    assert not config_file.exists()
    assert not config_file.parent.exists() or os.listdir(config_file.parent) == []


def test_set_of_an_unknown_nested_key_leaves_the_file_unchanged(config_file: Path) -> None:
    before = write_config(config_file, '# keep me\nmodel = "m"\n')
    run = wai("config", "set", "backends.cloudflare.token", "t")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "wai: error: backends.cloudflare.token: unknown key (known here: type, model, base_url, "
        "account_id, api_token, gateway, gateway_base_url, api_key, context_window)\n"
    )
    assert config_file.read_bytes() == before
    assert os.listdir(config_file.parent) == ["config.toml"]


def test_set_of_an_out_of_range_param_names_the_range(config_file: Path) -> None:
    before = write_config(config_file, "[params]\ntemperature = 0.6\n")
    run = wai("config", "set", "params.temperature", "9")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "wai: error: params.temperature: is 9, out of range: allowed 0 to 5\n"
    assert config_file.read_bytes() == before


def test_set_into_a_value_is_a_usage_error(config_file: Path) -> None:
    before = write_config(config_file, 'model = "m"\n')
    run = wai("config", "set", "model.name", "x")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "wai: error: model is a value, not a table\n"
    assert config_file.read_bytes() == before


def test_set_of_a_malformed_key_is_a_usage_error(config_file: Path) -> None:
    run = wai("config", "set", "params..temperature", "1")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "wai: error: invalid key 'params..temperature': use dotted names like params.temperature\n"
    )
    assert not config_file.exists()


def test_set_on_an_unparseable_file_leaves_it_byte_for_byte(config_file: Path) -> None:
    write_config(config_file, UNPARSEABLE)
    run = wai("config", "set", "model", "@cf/y")
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == cannot_parse(config_file)
    assert config_file.read_bytes() == UNPARSEABLE
    assert os.listdir(config_file.parent) == ["config.toml"]


def test_unset_on_an_unparseable_file_leaves_it_byte_for_byte(config_file: Path) -> None:
    write_config(config_file, UNPARSEABLE)
    run = wai("config", "unset", "model")
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == cannot_parse(config_file)
    assert config_file.read_bytes() == UNPARSEABLE


# --- secrets ----------------------------------------------------------------------------------


def test_the_api_token_is_never_printed(config_file: Path) -> None:
    assert_ok(wai("config", "set", "backends.cloudflare.api_token", TOKEN))
    assert_ok(wai("config", "set", "backends.cloudflare.account_id", "acc"))
    assert config_file.read_text() == (
        f'[backends.cloudflare]\napi_token = "{TOKEN}"\naccount_id = "acc"\n'
    )
    assert mode_of(config_file) == 0o600
    assert mode_of(config_file.parent) == 0o700
    # `wai(...)` also asserts that TOKEN is in neither stdout nor stderr.
    assert_ok(wai("config", "get", "backends.cloudflare.api_token"), stdout="********\n")
    assert_ok(
        wai("config", "get", "backends.cloudflare"),
        stdout='api_token = "********"\naccount_id = "acc"\n',
    )
    assert_ok(
        wai("config", "get", "backends"),
        stdout='[cloudflare]\napi_token = "********"\naccount_id = "acc"\n',
    )
    assert_ok(
        wai("config", "show"),
        stdout='[backends.cloudflare]\napi_token = "********"\naccount_id = "acc"\n',
    )


def test_an_api_key_is_masked_too(config_file: Path) -> None:
    write_config(config_file, '[backends.local]\ntype = "openai"\napi_key = "sk-local-1"\n')
    assert_ok(wai("config", "get", "backends.local.api_key"), stdout="********\n")
    assert_ok(
        wai("config", "show"), stdout='[backends.local]\ntype = "openai"\napi_key = "********"\n'
    )


def test_a_rejected_set_does_not_echo_the_token(config_file: Path) -> None:
    run = wai("config", "set", "backends.cloudflare.api_token", f"[{TOKEN!r}]")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "wai: error: backends.cloudflare.api_token: must be a string, got an array\n"
    )
    assert not config_file.exists()


# --- unset ------------------------------------------------------------------------------------


def test_unset_removes_the_key_and_empty_tables(config_file: Path) -> None:
    write_config(config_file, 'model = "m"\n\n[backends.cloudflare]\naccount_id = "a"\n')
    assert_ok(wai("config", "unset", "backends.cloudflare.account_id"))
    assert config_file.read_text() == 'model = "m"\n'
    assert mode_of(config_file) == 0o600
    run = wai("config", "get", "backends.cloudflare.account_id")
    assert (run.exit_code, run.stderr) == (
        2,
        "wai: error: backends.cloudflare.account_id is not set\n",
    )


def test_unset_of_a_missing_key_is_a_notice(config_file: Path) -> None:
    before = write_config(config_file, '# note\nmodel = "m"\n')
    assert_ok(wai("config", "unset", "system"), stderr="wai: system was not set\n")
    assert config_file.read_bytes() == before


def test_unset_without_a_file_makes_none(config_file: Path) -> None:
    assert_ok(wai("config", "unset", "model"), stderr="wai: model was not set\n")
    assert not config_file.exists()


def test_unset_fixes_a_file_with_an_unknown_key(config_file: Path) -> None:
    # The error for an unknown key tells the user to run `wai config unset KEY`; it must work.
    write_config(config_file, 'modle = "x"\nmodel = "m"\n')
    assert_ok(wai("config", "unset", "modle"))
    assert config_file.read_text() == 'model = "m"\n'


def test_set_fixes_a_file_with_a_bad_value(config_file: Path) -> None:
    # The error for a bad value tells the user to run `wai config set KEY VALUE`; it must work.
    write_config(config_file, "[params]\ntemperature = 9\n")
    assert_ok(wai("config", "set", "params.temperature", "0.5"))
    assert config_file.read_text() == "[params]\ntemperature = 0.5\n"


# --- a bad file stops other commands ----------------------------------------------------------


def test_ask_with_an_unknown_key_in_the_file_is_exit_3(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, 'modle = "@cf/x"\n')
    run = wai("ask", "--plain", "hi")
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == (
        f"wai: error: {config_file}: modle: unknown key ({TOP_LEVEL_KNOWN})\n"
        "hint: fix it with `wai config set modle VALUE` or `wai config unset modle`\n"
    )
    assert server.requests == []


def test_ask_with_an_unparseable_file_is_exit_3(server: WorkersAIServer, config_file: Path) -> None:
    write_config(config_file, UNPARSEABLE)
    run = wai("ask", "--plain", "hi")
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == cannot_parse(config_file)
    assert server.requests == []
    assert config_file.read_bytes() == UNPARSEABLE


# --- edit -------------------------------------------------------------------------------------


def make_editor(directory: Path, name: str, line: str) -> Path:
    """An editor that appends `line` to the file it is given, and records that file's path."""
    script = directory / name
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$1" > "{directory / (name + ".called")}"\n'
        f"cat >> \"$1\" <<'EOF'\n{line}\nEOF\n"
    )
    script.chmod(0o755)
    return script


def called_with(editor: Path) -> str:
    return editor.with_name(editor.name + ".called").read_text()


def test_edit_opens_editor_on_the_file_and_checks_it(tmp_path: Path, config_file: Path) -> None:
    write_config(config_file, 'backend = "cloudflare"\n')
    editor = make_editor(tmp_path, "ed.sh", 'model = "@cf/edited"')
    assert_ok(wai("config", "edit", env={"EDITOR": str(editor)}))
    assert called_with(editor) == f"{config_file}\n"
    assert config_file.read_text() == 'backend = "cloudflare"\nmodel = "@cf/edited"\n'
    assert_ok(wai("config", "get", "model"), stdout="@cf/edited\n")


def test_edit_without_a_file_creates_a_private_one(tmp_path: Path, config_file: Path) -> None:
    editor = make_editor(tmp_path, "ed.sh", "[params]\ntemperature = 0.2")
    assert_ok(wai("config", "edit", env={"EDITOR": str(editor)}))
    assert config_file.read_text() == "[params]\ntemperature = 0.2\n"
    assert mode_of(config_file) == 0o600
    assert os.listdir(config_file.parent) == ["config.toml"]


def test_edit_prefers_visual_to_editor(tmp_path: Path, config_file: Path) -> None:
    visual = make_editor(tmp_path, "visual.sh", 'model = "@cf/visual"')
    editor = make_editor(tmp_path, "editor.sh", 'model = "@cf/editor"')
    assert_ok(wai("config", "edit", env={"VISUAL": str(visual), "EDITOR": str(editor)}))
    assert config_file.read_text() == 'model = "@cf/visual"\n'
    assert not editor.with_name("editor.sh.called").exists()


def test_edit_that_breaks_the_file_is_reported_and_kept(tmp_path: Path, config_file: Path) -> None:
    before = write_config(config_file, 'model = "m"\n')
    editor = make_editor(tmp_path, "ed.sh", "[params")
    run = wai("config", "edit", env={"EDITOR": str(editor)})
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == cannot_parse(
        config_file, "Expected ']' at the end of a table declaration (at line 2, column 8)"
    )
    assert config_file.read_bytes() == before + b"[params\n"
    assert os.listdir(config_file.parent) == ["config.toml"]


def test_edit_that_adds_an_unknown_key_is_reported(tmp_path: Path, config_file: Path) -> None:
    before = write_config(config_file, 'model = "m"\n')
    editor = make_editor(tmp_path, "ed.sh", "temprature = 0.5")
    run = wai("config", "edit", env={"EDITOR": str(editor)})
    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr == (
        f"wai: error: {config_file}: temprature: unknown key ({TOP_LEVEL_KNOWN})\n"
        "hint: fix it with `wai config set temprature VALUE` or `wai config unset temprature`\n"
    )
    assert config_file.read_bytes() == before + b"temprature = 0.5\n"


@pytest.mark.parametrize("command", ["show", "get"])
def test_reading_commands_never_write(command: str, config_file: Path) -> None:
    before = write_config(config_file, '# comment\nmodel   =   "m"\n')
    config_file.chmod(0o644)
    args = ["config", command] + (["model"] if command == "get" else [])
    assert wai(*args).exit_code == 0
    assert config_file.read_bytes() == before
    assert mode_of(config_file) == 0o644
