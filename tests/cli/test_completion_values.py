"""Shell completion of values: model ids from the cached catalogue, backend names, session names,
config keys and role names, each asked of `wai` as completions/wai.bash asks it (a process with
`_WAI_COMPLETE=complete_bash` and the line typed so far), against files of known content. A
broken config or cache completes nothing and writes nothing to stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_startup import HEAVY
from wai.backends.base import ModelInfo
from wai.backends.catalogue import CatalogueCache
from wai.cli import complete
from wai.conversation.store import SLUG

CLOUDFLARE_MODELS = [
    ModelInfo("@cf/meta/llama-3.1-8b-instruct", "Meta's small model.", 128000),
    ModelInfo("@cf/openai/gpt-oss-120b", reasons=True),
    ModelInfo("@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
]
OLLAMA_MODELS = [ModelInfo("qwen2.5-7b"), ModelInfo("llama3.2")]
PRESETS = ["cloudflare", "llamacpp", "lmstudio", "ollama", "vllm"]
CONFIG = """\
backend = "cloudflare"
model = "@cf/meta/llama-3.1-8b-instruct"
retries = 2

[params]
temperature = 0.3

[backends.office]
type = "openai"
base_url = "http://127.0.0.1:9/v1"

[roles.reviewer]
system = "You review code."

[roles.poet]
system = "You write haiku."
temperature = 1.2
"""


def tab(line: str, env: dict[str, str] | None = None, *, point: int | None = None) -> list[str]:
    """What wai offers bash for a Tab at the end of `line` (COMP_WORDBREAKS left out, so the
    candidates are whole: tests/cli/test_bash_completion.py has them as bash takes them);
    stderr and the exit code are checked: nothing but the candidates, ever. `point`: where the
    cursor is, in characters as bash counts them (default: the end)."""
    completed = subprocess.run(
        [sys.executable, "-m", "wai"],
        env={
            **os.environ,
            **(env or {}),
            "_WAI_COMPLETE": "complete_bash",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line) if point is None else point),
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (0, "")
    assert completed.stdout.endswith("\n")
    return completed.stdout.splitlines() if completed.stdout != "\n" else []


@pytest.fixture
def cache(isolated: Path) -> CatalogueCache:
    """The catalogues `wai models` cached, written by the cache's own code."""
    catalogue = CatalogueCache(isolated / "cache")
    catalogue.store("cloudflare", CLOUDFLARE_MODELS)
    catalogue.store("ollama", OLLAMA_MODELS)
    return catalogue


@pytest.fixture
def config(config_file: Path) -> Path:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(CONFIG)
    return config_file


@pytest.fixture
def sessions(isolated: Path) -> Path:
    directory = isolated / "data" / "sessions"
    directory.mkdir(parents=True)
    for name in ("work", "work-2", "2026-11-20-why-is-the-sky-blue"):
        (directory / f"{name}.json").write_text("{}")  # names only: the files are not read
    (directory / "Not A Slug.json").write_text("{}")
    (directory / "notes.txt").write_text("")
    return directory


# --- model ids --------------------------------------------------------------------------------


def test_model_ids_come_from_the_chosen_backends_cached_catalogue(cache: CatalogueCache) -> None:
    assert tab("wai ask -m @cf/meta/") == [
        "@cf/meta/llama-3.1-8b-instruct",
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    ]
    assert tab("wai chat --model @cf/o") == ["@cf/openai/gpt-oss-120b"]
    assert tab("wai ask -b ollama -m ") == ["llama3.2", "qwen2.5-7b"]
    assert tab("wai chat --backend ollama --model q") == ["qwen2.5-7b"]
    assert tab("wai ask -m ", env={"WAI_BACKEND": "ollama"}) == ["llama3.2", "qwen2.5-7b"]


def test_model_ids_follow_the_configs_backend(cache: CatalogueCache, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('backend = "ollama"\n')
    assert tab("wai ask -m ") == ["llama3.2", "qwen2.5-7b"]
    assert tab("wai ask -b cloudflare -m @cf/openai") == ["@cf/openai/gpt-oss-120b"]


def test_a_stale_catalogue_still_completes(cache: CatalogueCache) -> None:
    """Its age matters for facts about a model, not for spelling its id."""
    stale = cache.path("cloudflare")
    text = stale.read_text()
    stale.write_text(text.replace(text.split('"fetched": "')[1][:25], "2020-01-01T00:00:00+00:00"))
    assert tab("wai ask -m @cf/openai") == ["@cf/openai/gpt-oss-120b"]


def test_model_ids_without_a_cached_catalogue_are_none(isolated: Path) -> None:
    assert tab("wai ask -m ") == []
    assert tab("wai ask -b vllm -m ") == []
    assert not (isolated / "cache").exists()  # nothing was fetched or written


@pytest.mark.parametrize(
    "damage",
    [
        b'{"format": "wai.models/1", "models": [',
        b"\xff\xfe",
        b'{"format": "wai.models/9", "models": [{"id": "x"}]}',
        b'{"format": "wai.models/1", "models": {"id": "x"}}',
        b"[]",
    ],
)
def test_a_broken_catalogue_completes_nothing(cache: CatalogueCache, damage: bytes) -> None:
    cache.path("cloudflare").write_bytes(damage)
    assert tab("wai ask -m ") == []
    assert cache.path("cloudflare").read_bytes() == damage


def test_a_catalogue_that_is_a_directory_completes_nothing(cache: CatalogueCache) -> None:
    path = cache.path("cloudflare")
    path.unlink()
    path.mkdir()
    assert tab("wai ask -m ") == []


# --- backends and roles -----------------------------------------------------------------------


def test_backend_names_are_the_ready_made_ones_and_the_configs(config: Path) -> None:
    assert tab("wai ask -b ") == ["cloudflare", "llamacpp", "lmstudio", "office", "ollama", "vllm"]
    assert tab("wai chat --backend o") == ["office", "ollama"]
    assert tab("wai models -b l") == ["llamacpp", "lmstudio"]


def test_backend_names_without_a_config(isolated: Path) -> None:
    assert tab("wai ask -b ") == PRESETS


def test_role_names_are_the_configs_roles(config: Path) -> None:
    assert tab("wai ask --role ") == ["poet", "reviewer"]
    assert tab("wai chat --role r") == ["reviewer"]


# --- sessions ---------------------------------------------------------------------------------


def test_session_options_and_arguments_complete_the_saved_names(sessions: Path) -> None:
    everything = ["2026-11-20-why-is-the-sky-blue", "work", "work-2"]
    assert tab("wai ask --session ") == everything
    assert tab("wai chat --session w") == ["work", "work-2"]
    for command in ("show", "export", "rm", "rename", "path"):
        assert tab(f"wai sessions {command} ") == everything
    assert tab("wai sessions rm work 2026") == ["2026-11-20-why-is-the-sky-blue"]


def test_the_word_at_the_cursor_is_completed(sessions: Path) -> None:
    line = 'wai chat -s "Réponds en français." --session w -u'
    assert tab(line, point=line.index(" w ") + 2) == ["work", "work-2"]
    assert tab(line, point=line.index(" w ") + 1) == [  # right after `--session `
        "2026-11-20-why-is-the-sky-blue",
        "work",
        "work-2",
    ]


def test_session_names_without_a_sessions_directory_are_none(isolated: Path) -> None:
    assert tab("wai ask --session ") == []


def test_session_names_are_what_the_store_accepts() -> None:
    assert complete.SESSION_NAME.pattern == SLUG.pattern


# --- config keys ------------------------------------------------------------------------------


def test_config_get_and_unset_complete_the_keys_that_are_set(config: Path) -> None:
    set_keys = [
        "backend",
        "backends.office.base_url",
        "backends.office.type",
        "model",
        "params.temperature",
        "retries",
        "roles.poet.system",
        "roles.poet.temperature",
        "roles.reviewer.system",
    ]
    assert tab("wai config get ") == set_keys
    assert tab("wai config unset roles.p") == ["roles.poet.system", "roles.poet.temperature"]


def test_config_set_completes_every_key_wai_knows(config: Path) -> None:
    top = tab("wai config set ")
    assert [key for key in top if "." not in key] == [
        "backend",
        "connect_timeout",
        "model",
        "read_timeout",
        "reasoning",
        "retries",
        "retry_backoff",
        "save_one_shots",
        "system",
    ]
    assert tab("wai config set params.") == [
        "params.frequency_penalty",
        "params.lora",
        "params.max_tokens",
        "params.presence_penalty",
        "params.repetition_penalty",
        "params.seed",
        "params.temperature",
        "params.top_k",
        "params.top_p",
    ]
    assert tab("wai config set backends.office.") == [
        f"backends.office.{field}"
        for field in (
            "account_id",
            "api_key",
            "api_token",
            "base_url",
            "context_window",
            "gateway",
            "gateway_base_url",
            "model",
            "type",
        )
    ]
    assert [key.split(".")[1] for key in top if key.endswith(".base_url")] == [
        *PRESETS[:3],
        "office",
        *PRESETS[3:],
    ]
    assert tab("wai config set roles.reviewer.t") == [
        "roles.reviewer.temperature",
        "roles.reviewer.top_k",
        "roles.reviewer.top_p",
    ]


def test_config_set_without_a_config_file(isolated: Path) -> None:
    assert tab("wai config set save") == ["save_one_shots"]
    assert tab("wai config get ") == []


@pytest.mark.parametrize("text", ["model = \n", "[params\n", b"\xff\xfe".decode("latin-1")])
def test_a_broken_config_completes_nothing_and_stays_as_it_was(
    config_file: Path, cache: CatalogueCache, text: str
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(text, encoding="latin-1")
    before = config_file.read_bytes()
    for words in ("wai config get ", "wai config set ", "wai ask --role ", "wai ask -b "):
        assert tab(words) == []
    # the model ids do not need the config when the command line names the backend
    assert tab("wai ask -b ollama -m l") == ["llama3.2"]
    assert config_file.read_bytes() == before


def test_a_config_open_to_others_warns_nobody_on_tab(config_file: Path) -> None:
    """Every run warns about a config holding a secret that others can read; a Tab, whose
    stderr lands on the command line being typed, does not."""
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[backends.cloudflare]\napi_token = "secret-secret-secret"\n')
    config_file.chmod(0o644)
    assert tab("wai config get b") == ["backends.cloudflare.api_token"]


# --- a Tab stays light ------------------------------------------------------------------------

PROBE = """
import json, runpy, sys
try:
    runpy.run_module("wai", run_name="__main__")
except SystemExit:
    pass
sys.stderr.write("\\nLOADED " + json.dumps(sorted(sys.modules)) + "\\n")
"""
NOT_ON_TAB = ("wai.backends", "wai.conversation", "wai.repl", "wai.render", *HEAVY)


@pytest.mark.parametrize(
    "line",
    [
        "wai ask -m @cf/o",
        "wai ask -b ",
        "wai chat --session w",
        "wai sessions show ",
        "wai config set params.",
        "wai ask --role ",
    ],
)
def test_a_tab_loads_neither_the_backends_nor_the_sessions_machinery(
    cache: CatalogueCache, config: Path, sessions: Path, line: str
) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "_WAI_COMPLETE": "complete_bash", "COMP_LINE": line},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.stdout  # it completed something
    loaded = json.loads(completed.stderr.rsplit("LOADED ", 1)[1])
    assert [module for module in loaded if module.startswith(NOT_ON_TAB)] == []
