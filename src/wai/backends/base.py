"""What every backend takes (a Request) and yields (events), whatever its protocol, and what a
turn made of those events (TurnResult, which the renderers and the conversation both take)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from wai.errors import WaiError

Message = Mapping[str, str]  # {"role": ..., "content": ...}
NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class Request(NamedTuple):
    """Either scoped `messages` or a raw `prompt` (sent with `raw: true`), plus parameters."""

    messages: tuple[Message, ...] = ()
    prompt: str | None = None
    params: Mapping[str, Any] = NO_PARAMS
    stream: bool = True


class HttpCall(NamedTuple):
    """The HTTP request a backend would send; `headers` never hold the secret."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: Mapping[str, Any] | None
    auth_env: str | None = None  # the variable `--show-request` names in place of the secret


class TextDelta(NamedTuple):  # one per token: a tuple is the cheapest thing to build
    text: str


class Usage(NamedTuple):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True)
class Finish:
    reason: str


@dataclass(frozen=True)
class Notice:
    """Something the user should hear about on stderr (a retry, a skipped event)."""

    message: str


Event = TextDelta | Usage | Finish | Notice


class TurnResult(NamedTuple):
    """What one turn produced: the text, the usage and why it ended."""

    text: str
    usage: Usage | None
    finish_reason: str  # "stop", "length", ... from the backend; "interrupted" or "error"
    error: WaiError | None = None

    @property
    def interrupted(self) -> bool:
        """The answer stopped early (Ctrl-C, an error): what arrived is partial."""
        return self.finish_reason in ("interrupted", "error")


class ModelInfo(NamedTuple):
    """One model a backend offers."""

    id: str
    description: str = ""
    context_window: int | None = None


class Backend(Protocol):
    name: str
    model: str

    def prepare(self, request: Request) -> HttpCall: ...

    def stream(self, request: Request) -> Iterator[Event]: ...

    def list_models(self) -> list[ModelInfo]: ...
