"""What the shell offers on Tab: model ids, backend names, session names, config keys, roles.

Each function is a Typer `autocompletion=` callback, run in a process of its own at every Tab,
so it reads files only (never the network) and imports little: not `wai.backends` nor
`wai.conversation`, whose packages load every backend (that would double a Tab's time). A
config or cache it cannot read completes nothing: a traceback or a warning on stderr would be
written over the user's command line.
"""

import contextlib
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import typer

# The names `wai` gives session files, as wai.conversation.store.SLUG has them (a test checks
# that the two agree).
SESSION_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
# A dotted config key's part that needs no TOML quoting (others are not offered).
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _offered(produce: Callable[[], Iterable[str]], incomplete: str) -> list[str]:
    """The candidates that start with `incomplete`, sorted and unique; none when anything goes
    wrong, with nothing written to stderr meanwhile."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return sorted({c for c in produce() if c.startswith(incomplete)})
    except Exception:  # a Tab must never show a traceback
        return []


def _config() -> dict[str, Any]:
    """The config file's TOML as it is ({} when there is none); a broken one raises."""
    from wai.settings.file import read_document
    from wai.settings.paths import config_path

    document = read_document(config_path())
    return document if isinstance(document, dict) else {}


def _table(mapping: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


# --- model ids ---------------------------------------------------------------------------------


def _chosen_backend(ctx: typer.Context) -> str:
    """The backend the command line is for: its -b, else WAI_BACKEND, else the config's."""
    import os

    from wai.settings import DEFAULT_BACKEND, backend_name

    flag = ctx.params.get("backend")
    try:
        config = _config()
    except Exception:  # the flag or the environment may still say which
        config = {}
    name = backend_name(flag if isinstance(flag, str) else None, config, os.environ)
    return name if isinstance(name, str) else DEFAULT_BACKEND


def cached_model_ids(cache_directory: Path, backend: str) -> list[str]:
    """The model ids in the backend's cached catalogue (`wai models` writes it, see
    wai.backends.catalogue), whatever its age: read here without that module's package."""
    import json

    safe = re.sub(r"[^A-Za-z0-9._-]", "_", backend)
    document = json.loads((cache_directory / f"models-{safe}.json").read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("format") != "wai.models/1":
        return []
    models = document.get("models")
    entries = models if isinstance(models, list) else []
    return [m["id"] for m in entries if isinstance(m, dict) and isinstance(m.get("id"), str)]


def model_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """`-m/--model`: the ids of the chosen backend's cached catalogue."""
    from wai.settings.paths import cache_dir

    return _offered(lambda: cached_model_ids(cache_dir(), _chosen_backend(ctx)), incomplete)


# --- backends, roles, sessions ------------------------------------------------------------------


def backend_names(incomplete: str) -> list[str]:
    """`-b/--backend`: cloudflare, the ready-made local servers, the config's [backends.NAME]."""

    def names() -> Iterable[str]:
        from wai.settings import known_backends

        return known_backends({"backends": _table(_config(), "backends")})

    return _offered(names, incomplete)


def role_names(incomplete: str) -> list[str]:
    """`--role`: the config's [roles.NAME] tables."""
    return _offered(lambda: _table(_config(), "roles"), incomplete)


def session_names(incomplete: str) -> list[str]:
    """`--session` and the session-name arguments: the saved sessions' names."""

    def names() -> Iterator[str]:
        from wai.settings.paths import data_dir

        for path in (data_dir() / "sessions").glob("*.json"):
            if SESSION_NAME.fullmatch(path.stem):
                yield path.stem

    return _offered(names, incomplete)


# --- config keys --------------------------------------------------------------------------------


def _set_keys(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """The dotted keys of the values in `node`, tables walked into."""
    for key, value in node.items():
        if not BARE_KEY.fullmatch(key):
            continue
        if isinstance(value, dict):
            yield from _set_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def set_config_keys(incomplete: str) -> list[str]:
    """`config get|unset KEY`: the keys the config file sets."""
    return _offered(lambda: _set_keys(_config()), incomplete)


def config_keys(incomplete: str) -> list[str]:
    """`config set KEY`: every key wai knows (the settings, params.NAME, backends.NAME.FIELD for
    every backend, roles.NAME.FIELD for the config's roles), and any other the file sets."""

    def keys() -> Iterator[str]:
        from wai.settings import file as config_file
        from wai.settings import known_backends
        from wai.settings.params import PARAMS

        config = _config()
        yield from config_file.TOP_LEVEL
        yield from (f"params.{name}" for name in PARAMS)
        for backend in known_backends({"backends": _table(config, "backends")}):
            if BARE_KEY.fullmatch(backend):
                yield from (f"backends.{backend}.{field}" for field in config_file.BACKEND_KEYS)
        for role in _table(config, "roles"):
            if BARE_KEY.fullmatch(role):
                yield from (f"roles.{role}.{field}" for field in [*config_file.ROLE_KEYS, *PARAMS])
        yield from _set_keys(config)

    return _offered(keys, incomplete)
