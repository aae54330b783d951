"""The model cache (age, format, damage) and how a Workers AI catalogue item becomes a ModelInfo."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from wai.backends.base import ModelInfo
from wai.backends.catalogue import FRESH, CatalogueCache, family, find, rank_models
from wai.backends.cloudflare import MAX_CONTEXT_WINDOW, _model_info

NOW = datetime(2026, 5, 20, 12, 0, 0, tzinfo=UTC)
GPT_OSS = ModelInfo(
    "@cf/openai/gpt-oss-120b",
    "OpenAI's open-weight models.",
    128000,
    reasons=True,
    function_calling=True,
    prices=("0.35 USD per M input tokens", "0.75 USD per M output tokens"),
)
RETIRING = ModelInfo("@cf/meta/llama-3-8b-instruct", "", 7968, deprecation="2027-03-31")
MODELS = [GPT_OSS, RETIRING, ModelInfo("@cf/test/bare")]


class Clock:
    """A clock the test moves: `clock.now += timedelta(...)`."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(tmp_path: Path, clock: Clock) -> CatalogueCache:
    return CatalogueCache(tmp_path / "cache", clock=clock)


class Warnings(list[str]):
    def __call__(self, message: str) -> None:
        self.append(message)


# --- the file ---------------------------------------------------------------------------------


def test_fresh_is_a_day() -> None:
    assert timedelta(hours=24) == FRESH


def test_one_file_per_backend(cache: CatalogueCache, tmp_path: Path) -> None:
    assert cache.path("cloudflare") == tmp_path / "cache" / "models-cloudflare.json"
    assert cache.path("local") == tmp_path / "cache" / "models-local.json"
    # a backend's name is any TOML key: it never leaves the directory
    assert cache.path("../my server") == tmp_path / "cache" / "models-.._my_server.json"


def test_store_writes_every_field(cache: CatalogueCache) -> None:
    cache.store("cloudflare", MODELS)
    assert json.loads(cache.path("cloudflare").read_text()) == {
        "format": "wai.models/1",
        "fetched": "2026-05-20T12:00:00+00:00",
        "backend": "cloudflare",
        "models": [
            {
                "id": "@cf/openai/gpt-oss-120b",
                "description": "OpenAI's open-weight models.",
                "context_window": 128000,
                "reasons": True,
                "function_calling": True,
                "deprecation": None,
                "prices": ["0.35 USD per M input tokens", "0.75 USD per M output tokens"],
            },
            {
                "id": "@cf/meta/llama-3-8b-instruct",
                "description": "",
                "context_window": 7968,
                "reasons": None,
                "function_calling": None,
                "deprecation": "2027-03-31",
                "prices": [],
            },
            {
                "id": "@cf/test/bare",
                "description": "",
                "context_window": None,
                "reasons": None,
                "function_calling": None,
                "deprecation": None,
                "prices": [],
            },
        ],
    }


def test_the_fetch_time_is_written_in_utc(tmp_path: Path) -> None:
    elsewhere = datetime(2026, 5, 20, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    cache = CatalogueCache(tmp_path, clock=lambda: elsewhere)
    cache.store("cloudflare", [])
    assert (
        json.loads(cache.path("cloudflare").read_text())["fetched"] == "2026-05-20T12:00:00+00:00"
    )


def test_what_is_stored_is_loaded(cache: CatalogueCache) -> None:
    cache.store("cloudflare", MODELS)
    warnings = Warnings()
    assert cache.load("cloudflare", warn=warnings) == MODELS
    assert cache.fetched_at("cloudflare") == NOW
    assert warnings == []


def test_store_replaces_the_file(cache: CatalogueCache, clock: Clock) -> None:
    cache.store("cloudflare", MODELS)
    clock.now += timedelta(hours=1)
    cache.store("cloudflare", [RETIRING])
    assert cache.load("cloudflare", warn=Warnings()) == [RETIRING]
    assert cache.fetched_at("cloudflare") == NOW + timedelta(hours=1)
    assert [p.name for p in cache.path("cloudflare").parent.iterdir()] == ["models-cloudflare.json"]


def test_no_file_is_none_and_no_warning(cache: CatalogueCache) -> None:
    warnings = Warnings()
    assert cache.load("cloudflare", warn=warnings) is None
    assert cache.fetched_at("cloudflare") is None
    assert warnings == []


def test_backends_do_not_share_a_list(cache: CatalogueCache) -> None:
    cache.store("cloudflare", MODELS)
    cache.store("local", [ModelInfo("qwen")])
    assert cache.load("local", warn=Warnings()) == [ModelInfo("qwen")]
    assert cache.load("cloudflare", warn=Warnings()) == MODELS


# --- age --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "fresh"),
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59), True),
        (timedelta(hours=24), True),
        (timedelta(hours=24, seconds=1), False),
        (timedelta(hours=25), False),
    ],
)
def test_a_list_is_fresh_for_a_day(
    cache: CatalogueCache, clock: Clock, age: timedelta, fresh: bool
) -> None:
    cache.store("cloudflare", MODELS)
    clock.now += age
    assert cache.load("cloudflare", warn=Warnings()) == (MODELS if fresh else None)


def test_max_age_is_the_callers(cache: CatalogueCache, clock: Clock) -> None:
    cache.store("cloudflare", MODELS)
    clock.now += timedelta(hours=2)
    assert cache.load("cloudflare", warn=Warnings(), max_age=timedelta(hours=1)) is None
    assert cache.load("cloudflare", warn=Warnings(), max_age=timedelta(hours=3)) == MODELS


def test_max_age_none_takes_any_age(cache: CatalogueCache, clock: Clock) -> None:
    cache.store("cloudflare", MODELS)
    clock.now += timedelta(days=400)
    assert cache.load("cloudflare", warn=Warnings(), max_age=None) == MODELS


def test_a_list_from_the_future_is_not_fresh(cache: CatalogueCache, clock: Clock) -> None:
    cache.store("cloudflare", MODELS)
    clock.now -= timedelta(hours=1)  # the clock was put back: the age is unknown
    assert cache.load("cloudflare", warn=Warnings()) is None
    assert cache.load("cloudflare", warn=Warnings(), max_age=None) == MODELS


def test_a_fetch_time_without_a_zone_is_utc(cache: CatalogueCache, clock: Clock) -> None:
    write(cache, document(fetched="2026-05-20T11:00:00"))
    assert cache.fetched_at("cloudflare") == NOW - timedelta(hours=1)
    assert cache.load("cloudflare", warn=Warnings()) == [ModelInfo("@cf/a/b")]


# --- damage -----------------------------------------------------------------------------------


def document(**changes: Any) -> dict[str, Any]:
    base = {
        "format": "wai.models/1",
        "fetched": "2026-05-20T12:00:00+00:00",
        "backend": "cloudflare",
        "models": [{"id": "@cf/a/b"}],
    }
    return {**base, **changes}


def write(cache: CatalogueCache, content: Any) -> Path:
    path = cache.path("cloudflare")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_a_model_with_only_an_id_takes_the_defaults(cache: CatalogueCache) -> None:
    write(cache, document())
    assert cache.load("cloudflare", warn=Warnings()) == [ModelInfo("@cf/a/b")]


DAMAGED = {
    "not json": (
        "{",
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    ),
    "a list": ([], "it is not a wai.models/1 document"),
    "another format": (document(format="wai.models/2"), "it is not a wai.models/1 document"),
    "no fetch time": (document(fetched=None), "its fetch time None is not a date"),
    "a bad fetch time": (document(fetched="yesterday"), "its fetch time 'yesterday' is not a date"),
    "no models": (document(models=None), "it has no list of models"),
    "a model without id": (
        document(models=[{"description": "x"}]),
        "a model has no id: {'description': 'x'}",
    ),
    "a model that is text": (document(models=["@cf/a/b"]), "a model has no id: @cf/a/b"),
    "a window as text": (
        document(models=[{"id": "m", "context_window": "4096"}]),
        "the context_window of m is '4096'",
    ),
    "a window that is true": (
        document(models=[{"id": "m", "context_window": True}]),
        "the context_window of m is True",
    ),
    "reasons as text": (
        document(models=[{"id": "m", "reasons": "yes"}]),
        "the reasons of m is 'yes'",
    ),
    "a date that is a number": (
        document(models=[{"id": "m", "deprecation": 20270331}]),
        "the deprecation of m is 20270331",
    ),
    "prices as text": (
        document(models=[{"id": "m", "prices": "0.35 USD"}]),
        "the prices of m are not a list of text",
    ),
    "a description that is a number": (
        document(models=[{"id": "m", "description": 7}]),
        "the description of m is not text",
    ),
}


@pytest.mark.parametrize("damage", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_file_is_one_warning_and_none(
    cache: CatalogueCache, damage: tuple[Any, str]
) -> None:
    content, why = damage
    path = write(cache, content)
    warnings = Warnings()
    assert cache.load("cloudflare", warn=warnings) is None
    assert warnings == [
        f"warning: ignored the model cache {path}: {why}; it is rewritten at the next `wai models`"
    ]
    assert cache.fetched_at("cloudflare") is None


def test_a_file_that_is_not_utf8_is_a_warning(cache: CatalogueCache) -> None:
    path = cache.path("cloudflare")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe{")
    warnings = Warnings()
    assert cache.load("cloudflare", warn=warnings) is None
    assert len(warnings) == 1
    assert warnings[0].startswith(f"warning: ignored the model cache {path}: 'utf-8' codec")


def test_an_unreadable_file_is_a_warning(cache: CatalogueCache) -> None:
    path = cache.path("cloudflare")
    path.mkdir(parents=True)  # a directory where the file should be
    warnings = Warnings()
    assert cache.load("cloudflare", warn=warnings) is None
    assert warnings == [
        f"warning: ignored the model cache {path}: [Errno 21] Is a directory: '{path}'; "
        "it is rewritten at the next `wai models`"
    ]


def test_a_damaged_file_is_replaced_by_the_next_store(cache: CatalogueCache) -> None:
    write(cache, "{")
    cache.store("cloudflare", MODELS)
    assert cache.load("cloudflare", warn=Warnings()) == MODELS


# --- find -------------------------------------------------------------------------------------


def test_find_is_by_exact_id() -> None:
    assert find(MODELS, "@cf/meta/llama-3-8b-instruct") is RETIRING
    assert find(MODELS, "@cf/meta/llama-3-8b") is None
    assert find([], "@cf/a/b") is None


# --- a catalogue item -------------------------------------------------------------------------


def item(*properties: tuple[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": "f9f2250b-1048-4a52-9910-d0bf976616a1",
        "source": 1,
        "name": "@cf/openai/gpt-oss-120b",
        "description": "OpenAI's open-weight models.",
        "task": {"id": "c329a1f9", "name": "Text Generation"},
        "properties": [{"property_id": key, "value": value} for key, value in properties],
        **fields,
    }


def test_the_reference_item_gives_every_fact() -> None:
    reference = item(
        ("async_queue", "true"),
        ("context_window", "128000"),
        (
            "price",
            [
                {"unit": "per M input tokens", "price": 0.35, "currency": "USD"},
                {"unit": "per M output tokens", "price": 0.75, "currency": "USD"},
            ],
        ),
        ("function_calling", "true"),
        ("reasoning", "true"),
        (
            "reasoning_effort",
            {"supported_efforts": ["low", "medium", "high"], "default_effort": "medium"},
        ),
    )
    assert _model_info(reference) == GPT_OSS


def test_an_item_without_properties_says_nothing() -> None:
    bare = _model_info({"name": "@cf/a/b"})
    assert bare == ModelInfo("@cf/a/b")
    assert _model_info({"id": "uuid-only", "properties": None}) == ModelInfo("uuid-only")


@pytest.mark.parametrize(
    ("value", "window"),
    [
        ("4096", 4096),
        (4096, 4096),
        (" 8192 ", 8192),
        ("1048576", 1048576),
        ("1310720", MAX_CONTEXT_WINDOW),  # glm-5.3-flash's, which AI Gateway refuses
        ("0", None),
        ("-1", None),
        ("128k", None),
        ("", None),
        (None, None),
        ([4096], None),
    ],
)
def test_the_context_window_is_read_leniently_and_clamped(value: Any, window: int | None) -> None:
    assert _model_info(item(("context_window", value))).context_window == window
    assert MAX_CONTEXT_WINDOW == 1_048_576


@pytest.mark.parametrize(
    ("value", "flag"),
    [
        ("true", True),
        ("false", False),
        ("TRUE", True),
        (True, True),
        (False, False),
        ("1", None),
        (None, None),
    ],
)
def test_reasoning_and_function_calling_are_true_or_false(value: Any, flag: bool | None) -> None:
    info = _model_info(item(("reasoning", value), ("function_calling", value)))
    assert (info.reasons, info.function_calling) == (flag, flag)


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("2027-03-31", "2027-03-31"),
        ("2027-03-31T00:00:00.000Z", "2027-03-31"),
        ("2027-03-31 10:27:29.131", "2027-03-31"),
        ("March 2027", None),
        (20270331, None),
        (None, None),
    ],
)
def test_the_planned_deprecation_date_is_its_day(value: Any, date: str | None) -> None:
    assert _model_info(item(("planned_deprecation_date", value))).deprecation == date


PRICE = {"unit": "per M input tokens", "price": 0.35, "currency": "USD"}


@pytest.mark.parametrize(
    ("value", "prices"),
    [
        ([PRICE], ("0.35 USD per M input tokens",)),
        (json.dumps([PRICE]), ("0.35 USD per M input tokens",)),  # a JSON text of the list
        (PRICE, ("0.35 USD per M input tokens",)),  # one price, not in a list
        (
            [{"unit": "per audio minute", "price": "0.0051", "currency": "USD"}],
            ("0.0051 USD per audio minute",),
        ),
        ([{"price": 1}], ("1",)),
        ([{"unit": "per M input tokens", "currency": "USD"}], ()),  # no price: left out
        ([{"unit": "x", "price": True}, "free", None, PRICE], ("0.35 USD per M input tokens",)),
        ("not json", ()),
        ("0.35", ()),
        (None, ()),
    ],
)
def test_prices_are_read_leniently(value: Any, prices: tuple[str, ...]) -> None:
    assert _model_info(item(("price", value))).prices == prices


def test_properties_that_are_not_objects_are_skipped() -> None:
    info = _model_info(
        {
            "name": "@cf/a/b",
            "properties": ["context_window", {"property_id": "context_window", "value": "10"}],
        }
    )
    assert info == ModelInfo("@cf/a/b", context_window=10)


# --- which models are offered, closest first --------------------------------------------------

DEFAULT_MODEL = "@hf/thebloke/mistral-7b-instruct-v0.1-awq"
LLAMA = "@cf/meta/llama-3.1-8b-instruct"
GPT_OSS_20B = "@cf/openai/gpt-oss-20b"
MISTRAL_SMALL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
QWEN = "@cf/qwen/qwen3-30b-a3b-fp8"
GEMMA = "@cf/google/gemma-3-12b-it"
MISTRAL_7B = "@hf/mistral/mistral-7b-instruct-v0.2"


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        (DEFAULT_MODEL, "mistral"),
        (LLAMA, "llama"),
        ("@cf/meta/llama4-scout", "llama"),
        (GPT_OSS_20B, "gpt"),
        (QWEN, "qwen"),
        ("@cf/x/Gemma-3-12b-it", "gemma"),
        ("plain-model", "plain"),
        ("@cf/x/7b-chat", ""),
    ],
)
def test_a_models_family(model_id: str, expected: str) -> None:
    assert family(model_id) == expected


def info(model_id: str, deprecation: str | None = None) -> ModelInfo:
    return ModelInfo(model_id, deprecation=deprecation)


def test_the_same_family_comes_first_then_the_most_used_then_catalogue_order() -> None:
    catalogue = [info(m) for m in (LLAMA, GPT_OSS_20B, MISTRAL_SMALL, QWEN, GEMMA, MISTRAL_7B)]
    uses = {QWEN: 2, GEMMA: 1, MISTRAL_7B: 5, "@cf/gone/model": 9}
    ranked = rank_models(catalogue, DEFAULT_MODEL, uses, today="2026-03-01")
    assert [m.id for m in ranked] == [MISTRAL_7B, MISTRAL_SMALL, QWEN, GEMMA, LLAMA, GPT_OSS_20B]


def test_models_retired_by_today_are_left_out() -> None:
    catalogue = [
        info(LLAMA, "2026-02-28"),  # retired yesterday
        info(GPT_OSS_20B, "2026-03-01"),  # retired today
        info(QWEN, "2026-03-02"),  # retires tomorrow: still usable
        info(GEMMA, "soon"),  # not a date: kept
        info(MISTRAL_7B, "2025-10-01T00:00:00Z"),
        info(MISTRAL_SMALL),
    ]
    ranked = rank_models(catalogue, DEFAULT_MODEL, {}, today="2026-03-01")
    assert [m.id for m in ranked] == [MISTRAL_SMALL, QWEN, GEMMA]


def test_a_model_without_a_family_ranks_by_use_alone() -> None:
    catalogue = [info("@cf/x/7b-a"), info("@cf/x/7b-b"), info(LLAMA)]
    ranked = rank_models(catalogue, "@cf/x/7b-gone", {LLAMA: 1}, today="2026-03-01")
    assert [m.id for m in ranked] == [LLAMA, "@cf/x/7b-a", "@cf/x/7b-b"]
