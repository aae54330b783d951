"""What the cached catalogue says of the chosen model, used when asking: its context window, whether
it reasons (the answer's budget), and its coming retirement (a notice, once a day)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.backends.test_openai import use_server
from tests.conftest import wai
from tests.servers.openai_compat import MODELS, OpenAIServer, llama_meta, llama_props
from tests.servers.workers_ai import DEFAULT_MODEL, WorkersAIServer
from wai.backends.base import ModelInfo
from wai.backends.catalogue import CatalogueCache
from wai.conversation.retirement import retirement_notice

UNLISTED = "@cf/test/model-01"  # a model wai's own table does not know


def cache(isolated: Path, *models: ModelInfo, age: timedelta = timedelta(hours=1)) -> Path:
    """The catalogue `wai models` would have cached `age` ago."""
    fetched = datetime.now(UTC) - age
    store = CatalogueCache(isolated / "cache", clock=lambda: fetched)
    store.store("cloudflare", list(models))
    return store.path("cloudflare")


def max_tokens_sent(*args: str) -> int:
    run = wai("ask", "--show-request", *args, "hi")
    assert run.exit_code == 0, run.stderr
    return int(run.stdout.rsplit('"max_tokens": ', 1)[1].split("}")[0])


def words(tokens: int) -> str:
    return "x" * (3 * tokens)  # the estimate counts three lower-case letters a token


def test_the_catalogues_context_window_decides_what_fits(
    server: WorkersAIServer, isolated: Path
) -> None:
    cache(isolated, ModelInfo(DEFAULT_MODEL, context_window=1500))

    run = wai("ask", words(1000))  # fits 4096 with its 1024-token answer, not 1500

    assert (run.exit_code, run.stdout) == (0, "Hello, world!")
    assert server.last_body["max_tokens"] == 1500 - 1004  # the answer shrinks to the room left

    run = wai("ask", words(1400))
    assert run.exit_code == 2
    assert run.stderr.startswith(
        f"wai: error: the prompt is too long for {DEFAULT_MODEL}: about 1404 tokens, and its "
        "context window of 1500 tokens"
    )


def test_the_configs_context_window_wins_over_the_catalogues(
    server: WorkersAIServer, isolated: Path, config_file: Path
) -> None:
    cache(isolated, ModelInfo(DEFAULT_MODEL, context_window=1500))
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[backends.cloudflare]\ncontext_window = 8192\n")

    assert max_tokens_sent("-s", words(3000)) == 1024  # 8192 holds it all


def test_a_stale_cache_is_not_used(server: WorkersAIServer, isolated: Path) -> None:
    cache(isolated, ModelInfo(DEFAULT_MODEL, context_window=1500), age=timedelta(hours=25))

    assert max_tokens_sent("-s", words(2000)) == 1024  # the built-in 4096 holds it


def test_a_model_the_catalogue_says_reasons_gets_the_reasoning_budget(
    server: WorkersAIServer, isolated: Path
) -> None:
    assert max_tokens_sent("-m", UNLISTED) == 1024
    cache(isolated, ModelInfo(UNLISTED, context_window=10_000, reasons=True))

    assert max_tokens_sent("-m", UNLISTED) == 10_000 - 5  # the room its window leaves
    assert max_tokens_sent("-m", UNLISTED, "--max-tokens", "300") == 300


def test_a_model_the_catalogue_says_does_not_reason_keeps_the_default(
    server: WorkersAIServer, isolated: Path
) -> None:
    model = "@cf/qwen/qwen3-30b-a3b-fp8"  # wai's table says it reasons
    assert max_tokens_sent("-m", model) == 16_384
    cache(isolated, ModelInfo(model, context_window=32_768, reasons=False))

    assert max_tokens_sent("-m", model) == 1024


def test_a_broken_cache_is_ignored_with_a_warning(server: WorkersAIServer, isolated: Path) -> None:
    path = cache(isolated, ModelInfo(DEFAULT_MODEL, context_window=1500))
    path.write_text("{not json")

    run = wai("ask", "--no-save", "hi")

    assert (run.exit_code, run.stdout) == (0, "Hello, world!")
    assert run.stderr.startswith(f"wai: warning: ignored the model cache {path}: ")
    assert path.read_text() == "{not json"  # left for `wai models` to rewrite


def test_a_model_retiring_within_30_days_gets_a_notice_once_a_day(
    server: WorkersAIServer, isolated: Path
) -> None:
    retires = (date.today() + timedelta(days=10)).isoformat()
    cache(isolated, ModelInfo(DEFAULT_MODEL, context_window=4096, deprecation=retires))
    notice = f"wai: {DEFAULT_MODEL} is retired on {retires}; wai models lists the others\n"

    first = wai("ask", "--no-save", "hi")
    second = wai("ask", "--no-save", "hi")

    assert (first.exit_code, first.stdout, first.stderr) == (0, "Hello, world!", notice)
    assert (second.exit_code, second.stdout, second.stderr) == (0, "Hello, world!", "")
    state = isolated / "cache" / "retirement-notices.json"
    assert json.loads(state.read_text()) == {DEFAULT_MODEL: date.today().isoformat()}

    yesterday = (date.today() - timedelta(days=1)).isoformat()
    state.write_text(json.dumps({DEFAULT_MODEL: yesterday}))
    assert wai("ask", "--no-save", "hi").stderr == notice  # a new day: once more


@pytest.mark.parametrize(
    ("retires", "noticed"),
    [
        ("2026-12-01", True),  # today
        ("2026-12-31", True),  # 30 days on
        ("2027-01-01", False),  # 31 days on
        ("2026-11-30", False),  # past: retired already (the API says so itself)
        (None, False),
        ("soon", False),
    ],
)
def test_retirement_notice_window(tmp_path: Path, retires: str | None, noticed: bool) -> None:
    state = tmp_path / "notices.json"
    notice = retirement_notice("@cf/x", retires, date(2026, 12, 1), state)
    if noticed:
        assert notice == f"@cf/x is retired on {retires}; wai models lists the others"
        assert retirement_notice("@cf/x", retires, date(2026, 12, 1), state) is None
        assert retirement_notice("@cf/y", retires, date(2026, 12, 1), state) is not None
    else:
        assert notice is None
        assert not state.exists()


def test_an_unreadable_notice_state_counts_as_none_given(tmp_path: Path) -> None:
    state = tmp_path / "notices.json"
    state.write_text("[1, 2")
    assert retirement_notice("@cf/x", "2026-12-05", date(2026, 12, 1), state) is not None
    assert json.loads(state.read_text()) == {"@cf/x": "2026-12-01"}


# --- a local server's own word ---


def test_a_local_servers_first_model_brings_its_context_window(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server)  # no model named: wai takes the first one listed
    openai_server.models = openai_server.models[:1]  # llama.cpp serves one model
    openai_server.meta = llama_meta(32_768)  # what it was trained for
    openai_server.props = llama_props(1_500)  # what the server was started with (-c 1500)

    run = wai("ask", "--no-save", words(1400))

    assert run.exit_code == 2
    assert run.stderr.startswith(
        f"wai: error: the prompt is too long for {MODELS[0]}: about 1404 tokens, and its context "
        "window of 1500 tokens"
    )
    assert openai_server.calls == [("GET", "/v1/models"), ("GET", "/props")]


def test_the_configs_context_window_wins_over_a_local_servers(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_server(config_file, openai_server, context_window=8192)
    openai_server.models = openai_server.models[:1]
    openai_server.props = llama_props(1_500)
    openai_server.meta = llama_meta(32_768)

    run = wai("ask", "--no-save", words(1400))

    assert run.exit_code == 0, run.stderr
