"""Generation parameters and their allowed ranges (the model's published input schema)."""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

from wai.errors import UsageError


class ParamSpec(NamedTuple):
    name: str
    kind: type  # int, float or str
    minimum: float | None = None
    maximum: float | None = None

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def describe_range(self) -> str:
        if self.minimum is None and self.maximum is None:
            return "any value"
        if self.maximum is None:
            return f"at least {_format_number(self.minimum)}"
        return f"{_format_number(self.minimum)} to {_format_number(self.maximum)}"

    def check(self, value: Any, source: str | None = None) -> Any:
        """Return `value` as this parameter's type, or raise a UsageError naming the range."""
        where = source or self.option
        if self.kind is str:
            if not isinstance(value, str) or not value:
                raise UsageError(f"{where} must be a non-empty string")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"{where} must be a number, got {value!r}")
        if self.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise UsageError(f"{where} must be a whole number, got {_format_number(value)}")
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):  # NaN passes any range check, and JSON cannot carry it
                raise UsageError(f"{where} must be a finite number, got {value}")
        below = self.minimum is not None and value < self.minimum
        above = self.maximum is not None and value > self.maximum
        if below or above:
            raise UsageError(
                f"{where} is {_format_number(value)}, out of range: allowed {self.describe_range()}"
            )
        return value


def _format_number(value: float | None) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Ranges from cloudflare-input.schema.json; top_p uses the stricter 0.001-1 revision.
PARAMS: dict[str, ParamSpec] = {
    spec.name: spec
    for spec in (
        ParamSpec("max_tokens", int, 1, None),
        ParamSpec("temperature", float, 0, 5),
        ParamSpec("top_p", float, 0.001, 1),
        ParamSpec("top_k", int, 1, 50),
        ParamSpec("seed", int, 1, 9_999_999_999),
        ParamSpec("repetition_penalty", float, 0, 2),
        ParamSpec("frequency_penalty", float, -2, 2),
        ParamSpec("presence_penalty", float, -2, 2),
        ParamSpec("lora", str),
    )
}

DEFAULT_MAX_TOKENS = 1024
# A model that reasons spends tokens thinking before it answers: with no max_tokens chosen it
# gets the room its context window leaves, up to this, and no less than REASONING_MIN_TOKENS
# (older messages are left out first).
REASONING_MAX_TOKENS = 16_384
REASONING_MIN_TOKENS = 4_096

# How a model's reasoning is shown on a terminal: live then collapsed to one line, kept whole
# in the scrollback, or not at all.
REASONING_MODES = ("auto", "show", "hide")


# Body fields a request sets itself (or, for response_format, JSON mode does): an option naming
# one would replace what wai built.
REQUEST_FIELDS = ("messages", "prompt", "stream", "model", "raw", "response_format")
REASONING_EFFORT = "reasoning_effort"  # a Chat Completions field: `--reasoning-effort`
REASONING_EFFORTS = ("low", "medium", "high")  # how hard a reasoning model thinks


def param_name(key: str) -> str:
    """The known parameter `key` spells with dashes (`top-k`), else `key` itself: a body field
    is sent exactly as it is named."""
    known = key.replace("-", "_")
    return known if known in PARAMS else key


def parse_option_value(text: str) -> Any:
    """An option's VALUE: JSON where the text parses as JSON (`0.2`, `true`, `{"a": 1}`,
    `"quoted"`), else the text itself as a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def shown_value(value: Any) -> str:
    """A value as `/set` lists it, in the form `/set` takes back: a string as it is where that
    reads as the same string, anything else as JSON."""
    typed_back = value.strip() if isinstance(value, str) else None  # as /set reads it
    if typed_back and typed_back == value and parse_option_value(typed_back) == value:
        return value
    return json.dumps(value, ensure_ascii=False)


def check_param(name: str, value: Any, where: str | None = None) -> Any:
    """A known parameter checked against its range; any other body field checked only for what
    no request can carry. `where` names the value in errors (default: its flag, or `-o NAME`)."""
    spec = PARAMS.get(name)
    if spec is not None:
        return spec.check(value, where)
    where = where or f"-o {name}"
    if not name:
        raise UsageError("an option needs a KEY: -o KEY VALUE")
    if name in REQUEST_FIELDS:
        raise UsageError(f"{where}: wai sets this field itself")
    if not _finite(value):
        raise UsageError(f"{where}: NaN and Infinity cannot be sent in a JSON body")
    return value


def _finite(value: Any) -> bool:
    """Whether `value` holds no NaN or infinite number, however deep."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    return True


def check_params(
    values: dict[str, Any], source: str | None = None, *, options: bool = False
) -> dict[str, Any]:
    """Check every known parameter; `source` (e.g. a config key prefix) names where it came from.
    With `options` (a command line's `-o`, `/set`, a session), other body fields are taken too;
    without (the config file's [params]), they are refused."""
    checked = {}
    for name, value in values.items():
        if name not in PARAMS and not options:
            raise UsageError(f"unknown parameter {name!r}; known: {', '.join(PARAMS)}")
        checked[name] = check_param(name, value, f"{source}.{name}" if source else None)
    return checked
