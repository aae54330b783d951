"""NaN and infinity are refused everywhere: options, `config set`, and the config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import wai


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+inf"])
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("read_timeout", "read_timeout: must be a finite number, got {shown}"),
        ("connect_timeout", "connect_timeout: must be a finite number, got {shown}"),
        ("retry_backoff", "retry_backoff: must be a finite number, got {shown}"),
        ("params.temperature", "params.temperature: must be a finite number, got {shown}"),
    ],
)
def test_config_set_refuses_nan_and_infinity(
    config_file: Path, key: str, message: str, value: str
) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("read_timeout = 5.0\n")
    shown = str(float(value))
    run = wai("config", "set", "--", key, value)
    assert (run.exit_code, run.stdout, run.stderr) == (
        2,
        "",
        f"wai: error: {message.format(shown=shown)}\n",
    )
    assert config_file.read_text() == "read_timeout = 5.0\n"


@pytest.mark.parametrize("value", ["nan", "inf", "-nan", "-inf"])
@pytest.mark.parametrize("key", ["read_timeout", "connect_timeout", "retry_backoff"])
def test_a_config_file_holding_nan_is_a_config_error_naming_the_key(
    config_file: Path, key: str, value: str
) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f"{key} = {value}\n")
    run = wai("ask", "hi")
    assert (run.exit_code, run.stdout, run.stderr) == (
        3,
        "",
        f"wai: error: {config_file}: {key}: must be a finite number, got {float(value)}\n"
        f"hint: fix it with `wai config set {key} VALUE` or `wai config unset {key}`\n",
    )


def test_a_config_file_holding_a_nan_temperature_is_a_config_error(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[params]\ntemperature = nan\n")
    run = wai("ask", "hi")
    assert (run.exit_code, run.stdout, run.stderr) == (
        3,
        "",
        f"wai: error: {config_file}: params.temperature: must be a finite number, got nan\n"
        "hint: fix it with `wai config set params.temperature VALUE` or `wai config unset "
        "params.temperature`\n",
    )


@pytest.mark.parametrize("value", ["nan", "inf", "NaN", "Infinity"])
def test_a_nan_temperature_option_is_a_usage_error(value: str) -> None:
    run = wai("ask", "--temperature", value, "hi")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert "must be a finite number" in run.stderr
