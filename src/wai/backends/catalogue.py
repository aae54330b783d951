"""A cache of a backend's model list (one JSON file per backend in the cache directory), so that
what the catalogue says of a model (its context window, whether it reasons) is known without
asking the API at every start."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wai.atomic import write_atomic
from wai.backends.base import ModelInfo

FRESH = timedelta(hours=24)
FORMAT = "wai.models/1"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")  # a backend's name is any TOML key: keep it a file name


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CatalogueCache:
    """The model lists of the backends, as `wai models` last fetched them."""

    def __init__(self, directory: Path, clock: Callable[[], datetime] = _utc_now):
        self.directory = directory
        self.clock = clock  # aware datetimes; injected so that tests age a cache without sleeping

    def path(self, backend: str) -> Path:
        return self.directory / f"models-{_UNSAFE.sub('_', backend)}.json"

    def store(self, backend: str, models: list[ModelInfo]) -> None:
        """Replace the backend's cached list with `models`, fetched now."""
        document = {
            "format": FORMAT,
            "fetched": self.clock().astimezone(UTC).isoformat(timespec="seconds"),
            "backend": backend,
            "models": [{**model._asdict(), "prices": list(model.prices)} for model in models],
        }
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        write_atomic(self.path(backend), text.encode("utf-8"))

    def load(
        self,
        backend: str,
        *,
        warn: Callable[[str], None],
        max_age: timedelta | None = FRESH,
    ) -> list[ModelInfo] | None:
        """The cached list, or None when there is none or it is older than `max_age` (None: any
        age will do). A file that cannot be read is reported through `warn`, never raised: the
        cache is only ever a shortcut."""
        read = self._read(backend, warn)
        if read is None:
            return None
        fetched, models = read
        if max_age is not None:
            age = self.clock() - fetched
            if age < timedelta(0) or age > max_age:  # from the future: the clock moved back
                return None
        return models

    def fetched_at(self, backend: str) -> datetime | None:
        """When the cached list was fetched, or None without a readable one."""
        read = self._read(backend, lambda _message: None)
        return read[0] if read is not None else None

    def _read(
        self, backend: str, warn: Callable[[str], None]
    ) -> tuple[datetime, list[ModelInfo]] | None:
        path = self.path(backend)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            warn(_ignored(path, str(error)))
            return None
        try:
            return _parse(json.loads(text))
        except ValueError as error:  # json.JSONDecodeError is a ValueError too
            warn(_ignored(path, str(error)))
            return None


def find(models: list[ModelInfo], model_id: str) -> ModelInfo | None:
    """The model called `model_id` in `models`, if it is there."""
    return next((model for model in models if model.id == model_id), None)


def _ignored(path: Path, why: str) -> str:
    return (
        f"warning: ignored the model cache {path}: {why}; it is rewritten at the next `wai models`"
    )


def _parse(document: Any) -> tuple[datetime, list[ModelInfo]]:
    """The fetch time and the models of a cache document; ValueError says what is wrong."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"it is not a {FORMAT} document")
    try:
        fetched = datetime.fromisoformat(str(document.get("fetched")))
    except ValueError:
        raise ValueError(f"its fetch time {document.get('fetched')!r} is not a date") from None
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    entries = document.get("models")
    if not isinstance(entries, list):
        raise ValueError("it has no list of models")
    return fetched, [_model(entry) for entry in entries]


_OPTIONAL = {  # field: the type its value has when it is not None
    "context_window": int,
    "reasons": bool,
    "function_calling": bool,
    "deprecation": str,
}


def _model(entry: Any) -> ModelInfo:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
        raise ValueError(f"a model has no id: {str(entry)[:80]}")
    description = entry.get("description", "")
    prices = entry.get("prices", [])
    if not isinstance(description, str):
        raise ValueError(f"the description of {entry['id']} is not text")
    if not isinstance(prices, list) or not all(isinstance(price, str) for price in prices):
        raise ValueError(f"the prices of {entry['id']} are not a list of text")
    optional = {}
    for field, kind in _OPTIONAL.items():
        value = entry.get(field)
        if not _is(value, kind):
            raise ValueError(f"the {field} of {entry['id']} is {value!r}")
        optional[field] = value
    return ModelInfo(entry["id"], description, prices=tuple(prices), **optional)


def _is(value: Any, kind: type) -> bool:
    """Whether `value` is None or a `kind` (a bool is an int to Python, not a context window)."""
    if value is None:
        return True
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


# --- which models to offer instead of one ---------------------------------------------------

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def family(model_id: str) -> str:
    """A model's family: its id's last path segment up to the first digit or dash, lowercased
    (`mistral` for @hf/thebloke/mistral-7b-instruct-v0.1-awq, `llama` for
    @cf/meta/llama-3.1-8b-instruct); "" when the segment starts with one."""
    match = re.match(r"[^\d-]*", model_id.rsplit("/", 1)[-1])
    return match.group(0).lower() if match else ""


def rank_models(
    catalogue: Sequence[ModelInfo],
    wanted: str,
    uses: Mapping[str, int],
    today: str | None = None,
) -> list[ModelInfo]:
    """The models to offer instead of `wanted`, closest first: those of its family, then the
    most used (`uses`: sessions per model id), then in catalogue order. Models retired by
    `today` (YYYY-MM-DD, by default the UTC date) are left out."""
    today = today or datetime.now(UTC).strftime("%Y-%m-%d")
    kin = family(wanted)

    def retired(info: ModelInfo) -> bool:
        date = (info.deprecation or "")[:10]
        return bool(DATE.fullmatch(date)) and date <= today

    live = [
        (index, info)
        for index, info in enumerate(catalogue)
        if info.id != wanted and not retired(info)
    ]
    live.sort(
        key=lambda pair: (
            not (kin and family(pair[1].id) == kin),
            -uses.get(pair[1].id, 0),
            pair[0],
        )
    )
    return [info for _, info in live]
