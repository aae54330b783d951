"""`wai login` at a terminal, when the configured model is not in the account's catalogue: the
live models are offered, closest first, and the one typed is stored."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from tests.cli.test_login import (
    CHOOSE,
    GEMMA,
    GPT_OSS,
    LIVE,
    LLAMA,
    MISTRAL_7B,
    MISTRAL_SMALL,
    NOT_LISTED,
    QWEN,
    STORED,
    logged_in,
    mode_of,
    write_config,
)
from tests.servers.workers_ai import ACCOUNT, TOKEN, WorkersAIServer, catalogue_entry

PROMPT = "Model number (Enter for 1): "
OFFER = "wai: models you can use, the closest first:\n"
DESCRIPTIONS = {entry["name"]: entry["description"] for entry in LIVE}


def offer(*models: str) -> str:
    """The numbered lines offering `models`, their ids in a column as wide as the longest."""
    width = max(map(len, models))
    return "".join(
        f"  {n:>2}  {model.ljust(width)}  {DESCRIPTIONS[model]}\n"
        for n, model in enumerate(models, 1)
    )


# LIVE, the closest first for the seed model (mistral): its family in catalogue order, then
# the rest (no sessions yet) in catalogue order.
CLOSEST = offer(MISTRAL_SMALL, MISTRAL_7B, LLAMA, GPT_OSS, QWEN, GEMMA)
OTHER_KEYS = b'[params]\ntemperature = 0.5\n\n[backends.cloudflare]\ngateway = "my-gateway"\n'


@pytest.fixture
def cloudflare(server: WorkersAIServer, monkeypatch: pytest.MonkeyPatch) -> WorkersAIServer:
    """The Workers AI server without the seed model, and no credentials in the environment."""
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    server.catalogue = list(LIVE)
    return server


class Terminal:
    """`wai login` in a pseudo-terminal, the credentials already typed in."""

    def __init__(self) -> None:
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "wai", "login"],
            env=dict(os.environ),
            dimensions=(24, 200),
            encoding="utf-8",
            timeout=30,
        )
        self.transcript = io.StringIO()
        self.child.logfile_read = self.transcript
        self.child.expect_exact("Cloudflare account id: ")
        self.child.sendline(ACCOUNT)
        self.child.expect_exact("API token: ")
        self.child.sendline(TOKEN)

    def answer(self, *lines: str) -> None:
        for line in lines:
            self.child.expect_exact(PROMPT)
            self.child.sendline(line)

    def end(self) -> str:
        """Wait for the exit (it must be 0); what the terminal showed after the credentials, with
        plain newlines."""
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.exitstatus == 0
        output = self.transcript.getvalue()
        assert TOKEN not in output
        head = f"Cloudflare account id: {ACCOUNT}\r\nAPI token: \r\n"
        assert output.startswith(head)
        return output.removeprefix(head).replace("\r\n", "\n")


def shown(config_file: Path, offer: str = CLOSEST) -> str:
    return logged_in(config_file, 6) + NOT_LISTED + OFFER + offer


def test_the_model_typed_at_the_terminal_is_stored(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, OTHER_KEYS)
    terminal = Terminal()
    terminal.answer("2")
    assert terminal.end() == shown(config_file) + f"{PROMPT}2\nwai: model set to {MISTRAL_7B}\n"
    assert config_file.read_bytes() == (
        f'model = "{MISTRAL_7B}"\n\n'.encode()
        + OTHER_KEYS
        + f'account_id = "{ACCOUNT}"\napi_token = "{TOKEN}"\n'.encode()
    )
    assert mode_of(config_file) == 0o600
    assert sorted(os.listdir(config_file.parent)) == ["config.toml"]


def test_enter_picks_the_first(cloudflare: WorkersAIServer, config_file: Path) -> None:
    terminal = Terminal()
    terminal.answer("")
    assert terminal.end() == shown(config_file) + f"{PROMPT}\nwai: model set to {MISTRAL_SMALL}\n"
    assert config_file.read_bytes() == f'model = "{MISTRAL_SMALL}"\n\n'.encode() + STORED


def test_an_invalid_entry_is_asked_again(cloudflare: WorkersAIServer, config_file: Path) -> None:
    terminal = Terminal()
    terminal.answer("seven", "0", "7", " 3 ")
    assert terminal.end() == shown(config_file) + (
        f"{PROMPT}seven\nwai: 'seven' is not a number from 1 to 6\n"
        f"{PROMPT}0\nwai: '0' is not a number from 1 to 6\n"
        f"{PROMPT}7\nwai: '7' is not a number from 1 to 6\n"
        f"{PROMPT} 3 \nwai: model set to {LLAMA}\n"
    )
    assert config_file.read_bytes() == f'model = "{LLAMA}"\n\n'.encode() + STORED


def test_ctrl_d_keeps_the_model_and_gives_the_hint(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, OTHER_KEYS)
    terminal = Terminal()
    terminal.child.expect_exact(PROMPT)
    terminal.child.sendeof()
    hint = CHOOSE.replace("hint:", "\x1b[36mhint:\x1b[0m")  # its label coloured, on a terminal
    assert terminal.end() == shown(config_file) + f"{PROMPT}\n" + hint
    assert config_file.read_bytes() == (  # the login is stored, nothing else changed
        OTHER_KEYS + f'account_id = "{ACCOUNT}"\napi_token = "{TOKEN}"\n'.encode()
    )


def write_session(isolated: Path, name: str, model: str) -> None:
    directory = isolated / "data" / "sessions"
    directory.mkdir(parents=True, exist_ok=True)
    document = {"format": "wai.session/1", "name": name, "model": model, "messages": []}
    (directory / f"{name}.json").write_text(json.dumps(document))


RETIRED = "@cf/mistral/mistral-7b-instruct-v0.1"
RETIRING = "@cf/mistral/mistral-7b-instruct-v0.2-lora"
DESCRIPTIONS[RETIRING] = "Mistral 7B with LoRA, retiring one day."


def test_the_most_used_come_after_the_same_family_and_the_retired_are_left_out(
    cloudflare: WorkersAIServer, config_file: Path, isolated: Path
) -> None:
    cloudflare.catalogue = [
        # Of its family and the most used, but retired: never offered.
        catalogue_entry(RETIRED, "Retired.", planned_deprecation_date="2025-10-01"),
        *LIVE,
        catalogue_entry(RETIRING, DESCRIPTIONS[RETIRING], planned_deprecation_date="2099-12-31"),
    ]
    sessions = [("a", QWEN), ("b", GEMMA), ("c", QWEN), ("d", MISTRAL_7B)]
    for name, model in [*sessions, ("e", RETIRED), ("f", RETIRED), ("g", RETIRED)]:
        write_session(isolated, name, model)
    (isolated / "data" / "sessions" / "broken.json").write_text("{")  # counts for nothing
    terminal = Terminal()
    terminal.answer("4")
    assert (
        terminal.end()
        == logged_in(config_file, 8)
        + NOT_LISTED
        + OFFER
        + offer(
            # Its family (the used one first), then the most used, then the rest in catalogue order.
            MISTRAL_7B,
            MISTRAL_SMALL,
            RETIRING,
            QWEN,
            GEMMA,
            LLAMA,
            GPT_OSS,
        )
        + f"{PROMPT}4\nwai: model set to {QWEN}\n"
    )
    assert config_file.read_bytes() == f'model = "{QWEN}"\n\n'.encode() + STORED


def test_at_most_ten_are_offered_and_long_descriptions_are_cut(
    cloudflare: WorkersAIServer, config_file: Path
) -> None:
    long = "A model whose description goes on " + "and on " * 40
    cloudflare.catalogue = [
        catalogue_entry(f"@cf/test/model-{i:02d}", long if i == 1 else f"Test model {i}.")
        for i in range(1, 13)
    ]
    terminal = Terminal()
    terminal.answer("10")
    first = f"   1  @cf/test/model-01  {long.strip()}"[:198] + "…\n"
    assert terminal.end() == logged_in(config_file, 12) + NOT_LISTED + OFFER + first + "".join(
        f"  {i:>2}  @cf/test/model-{i:02d}  Test model {i}.\n" for i in range(2, 11)
    ) + "  … and 2 more (`wai models` lists them)\n" + (
        f"{PROMPT}10\nwai: model set to @cf/test/model-10\n"
    )
    assert config_file.read_bytes() == b'model = "@cf/test/model-10"\n\n' + STORED
