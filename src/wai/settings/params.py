"""Generation parameters and their allowed ranges (the model's published input schema)."""

from __future__ import annotations

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


def check_params(values: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """Check every known parameter; `source` (e.g. a config key prefix) names where it came from."""
    checked = {}
    for name, value in values.items():
        spec = PARAMS.get(name)
        if spec is None:
            raise UsageError(f"unknown parameter {name!r}; known: {', '.join(PARAMS)}")
        checked[name] = spec.check(value, f"{source}.{name}" if source else None)
    return checked
