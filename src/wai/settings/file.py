"""config.toml: locate, read (tomllib), validate, and write atomically with mode 0600."""

from __future__ import annotations

import os
import re
import stat
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wai.atomic import write_atomic, write_refused
from wai.environment import Environment
from wai.errors import ConfigError, UsageError
from wai.settings.params import PARAMS, REASONING_MODES
from wai.settings.paths import config_path

SECRET_KEYS = frozenset({"api_token", "api_key"})
BACKEND_TYPES = ("cloudflare", "openai")
MASK = "********"


# --- validation -------------------------------------------------------------------------------


class ConfigProblem(Exception):
    def __init__(self, key: str, message: str, hint: str | None = None):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message
        self.hint = hint  # how to fix it, where `wai config set/unset KEY` would not


Validator = Callable[[str, Any], None]


def _string(key: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ConfigProblem(key, f"must be a string, got {_toml_type(value)}")


def _text(key: str, value: Any) -> None:
    _string(key, value)
    if not value.strip():
        raise ConfigProblem(key, "must not be empty")


def _boolean(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigProblem(key, f"must be true or false, got {_toml_type(value)}")


def _number_at_least(minimum: float, integer: bool = False) -> Validator:
    def check(key: str, value: Any) -> None:
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            kind = "a whole number" if integer else "a number"
            raise ConfigProblem(key, f"must be {kind}, got {_toml_type(value)}")
        if value != value or value in (float("inf"), float("-inf")):  # NaN passes `<`
            raise ConfigProblem(key, f"must be a finite number, got {value}")
        if value < minimum:
            raise ConfigProblem(key, f"must be at least {minimum}, got {value}")

    return check


def _one_of(choices: tuple[str, ...]) -> Validator:
    def check(key: str, value: Any) -> None:
        if value not in choices:
            raise ConfigProblem(key, f"must be one of {', '.join(choices)}, got {value!r}")

    return check


def _param(key: str, value: Any) -> None:
    name = key.rsplit(".", 1)[-1]
    try:
        PARAMS[name].check(value, key)
    except UsageError as error:
        raise ConfigProblem(key, error.message.removeprefix(f"{key} ")) from None


TOP_LEVEL: dict[str, Validator] = {
    "backend": _string,
    "model": _string,
    "system": _string,
    "connect_timeout": _number_at_least(0.001),
    "read_timeout": _number_at_least(0.001),
    "retries": _number_at_least(0, integer=True),
    "retry_backoff": _number_at_least(0),
    "save_one_shots": _boolean,
    "reasoning": _one_of(REASONING_MODES),
}
BACKEND_KEYS: dict[str, Validator] = {
    "type": _one_of(BACKEND_TYPES),
    "model": _string,
    "base_url": _string,
    "account_id": _string,
    "api_token": _string,
    "gateway": _string,
    "gateway_base_url": _string,
    "api_key": _string,
    "context_window": _number_at_least(1, integer=True),
}
# `[roles.NAME]`: a saved system message, with the model, backend and parameters to use it with
ROLE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
ROLE_KEYS: dict[str, Validator] = {
    "system": _text,
    "model": _text,
    "backend": _text,
}
TABLES = ("params", "backends", "roles")


def find_problems(data: dict[str, Any]) -> list[ConfigProblem]:
    """Every unknown key and bad value, each naming its dotted key."""
    problems: list[ConfigProblem] = []

    def passes(check: Validator, key: str, value: Any) -> bool:
        try:
            check(key, value)
        except ConfigProblem as problem:
            problems.append(problem)
            return False
        return True

    for key, value in data.items():
        if key in TOP_LEVEL:
            passes(TOP_LEVEL[key], key, value)
        elif key == "params" and passes(_table, key, value):
            for name, param in value.items():
                passes(_param if name in PARAMS else _unknown(PARAMS), f"params.{name}", param)
        elif key == "backends" and passes(_table, key, value):
            for name, backend in value.items():
                if passes(_table, f"backends.{name}", backend):
                    for field, field_value in backend.items():
                        check = BACKEND_KEYS.get(field) or _unknown(BACKEND_KEYS)
                        passes(check, f"backends.{name}.{field}", field_value)
        elif key == "roles" and passes(_table, key, value):
            for name, role in value.items():
                problems.extend(_role_problems(name, role))
        elif key not in TABLES:
            passes(_unknown([*TOP_LEVEL, *TABLES]), key, value)
    return problems


def _role_problems(name: str, role: Any) -> list[ConfigProblem]:
    """What is wrong with the table `[roles.NAME]`: its name, a missing system message, unknown
    keys, and parameters out of range (each checked as `[params]` checks it)."""
    where = f"roles.{name}"
    if not ROLE_NAME.fullmatch(name):
        message = "invalid role name: use lowercase letters, digits, '_' and '-', starting with "
        message += "a letter or digit"
        return [ConfigProblem(where, message, hint="rename the table with `wai config edit`")]
    if not isinstance(role, dict):
        return [ConfigProblem(where, f"must be a table, got {_toml_type(role)}")]
    problems = []
    if "system" not in role:
        problems.append(
            ConfigProblem(
                f"{where}.system",
                "is missing: a role is a system message, with a model and parameters if you like",
                hint=f'set it with `wai config set {where}.system "You are ..."`',
            )
        )
    for field, value in role.items():
        if field in ROLE_KEYS:
            check = ROLE_KEYS[field]
        else:
            check = _param if field in PARAMS else _unknown([*ROLE_KEYS, *PARAMS])
        try:
            check(f"{where}.{field}", value)
        except ConfigProblem as problem:
            problems.append(problem)
    return problems


def validate(data: dict[str, Any]) -> None:
    """Raise the first ConfigProblem, if any."""
    problems = find_problems(data)
    if problems:
        raise problems[0]


def _table(key: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ConfigProblem(key, f"must be a table, got {_toml_type(value)}")


def _unknown(known: Any) -> Validator:
    def check(key: str, value: Any) -> None:
        raise ConfigProblem(key, f"unknown key (known here: {', '.join(known)})")

    return check


def _toml_type(value: Any) -> str:
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a float"}
    names.update({dict: "a table", list: "an array"})
    return names.get(type(value), type(value).__name__)


# --- reading and writing ----------------------------------------------------------------------


def read_document(path: Path) -> dict[str, Any]:
    """The file's TOML as it is (no validation); {} when there is no file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    import tomllib  # here: a run configured by the environment alone never needs it

    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"cannot parse {path}: {error}",
            hint="fix the file by hand (`wai config edit`); wai will not overwrite it",
        ) from None
    _warn_if_open(path, document)
    return document


_warned: weakref.WeakKeyDictionary[Any, set[Path]] = weakref.WeakKeyDictionary()


def open_to_others(path: Path, document: dict[str, Any]) -> str | None:
    """The warning for a config file holding a secret that others may read or change (group or
    other permission bits), else None."""
    if not _holds_secret(document):
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return f"{path} holds a secret and is open to others (mode {mode:04o}); run chmod 600 {path}"


def _warn_if_open(path: Path, document: dict[str, Any]) -> None:
    """Warn on stderr about a config file open to others, once per run."""
    warning = open_to_others(path, document)
    if warning is None:
        return
    stream = sys.stderr
    try:
        seen = _warned.setdefault(stream, set())
    except TypeError:  # a stream that takes no weak reference
        seen = set()
    if path not in seen:
        seen.add(path)
        Environment(stderr=stream).notice(f"warning: {warning}")  # yellow on a terminal
        stream.flush()


def _holds_secret(node: Any) -> bool:
    if isinstance(node, dict):
        return any(
            (key in SECRET_KEYS and value) or _holds_secret(value) for key, value in node.items()
        )
    return False


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Read and validate the config file; problems are ConfigErrors that name the path and key."""
    path = path or config_path()
    data = read_document(path)
    try:
        validate(data)
    except ConfigProblem as problem:
        raise ConfigError(
            f"{path}: {problem.key}: {problem.message}",
            hint=problem.hint
            or f"fix it with `wai config set {problem.key} VALUE` or `wai config unset "
            f"{problem.key}`",
        ) from None
    return data


def save_config(data: dict[str, Any], path: Path | None = None) -> None:
    import tomli_w

    path = path or config_path()
    try:
        write_atomic(path, tomli_w.dumps(data).encode("utf-8"), mode=0o600)
    except OSError as error:
        raise write_refused(path, error, "WAI_CONFIG_DIR") from None


# --- dotted keys ------------------------------------------------------------------------------


def split_key(key: str) -> list[str]:
    parts = key.split(".")
    if not key or any(not part for part in parts):
        raise UsageError(f"invalid key {key!r}: use dotted names like params.temperature")
    return parts


def get_key(data: dict[str, Any], key: str) -> Any:
    node: Any = data
    for part in split_key(key):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def set_key(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = split_key(key)
    node = data
    for index, part in enumerate(parents):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"{'.'.join(parents[: index + 1])} is a value, not a table")
        node = child
    node[last] = value


def unset_key(data: dict[str, Any], key: str) -> bool:
    *parents, last = split_key(key)
    node: Any = data
    trail = []
    for part in parents:
        if not isinstance(node, dict) or part not in node:
            return False
        trail.append((node, part))
        node = node[part]
    if not isinstance(node, dict) or last not in node:
        return False
    del node[last]
    for parent, part in reversed(trail):  # drop tables the removal left empty
        if parent[part]:
            break
        del parent[part]
    return True


def parse_value(text: str) -> Any:
    """A TOML value where the text parses as one (`0.7`, `true`, `"x"`), else the text itself."""
    import tomllib

    try:
        document = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    return document["value"] if list(document) == ["value"] else text


def masked(value: Any, key: str = "") -> Any:
    """A copy of `value` with every secret replaced by a mask."""
    if isinstance(value, dict):
        return {k: masked(v, k) for k, v in value.items()}
    if key in SECRET_KEYS and isinstance(value, str):
        return MASK
    return value
