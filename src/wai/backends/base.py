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
    # JSON mode, as OpenAI writes it: {"type": "json_object"}, or {"type": "json_schema",
    # "json_schema": {"name", "schema", "strict"}}; each backend sends it as its models take it.
    response_format: Mapping[str, Any] | None = None
    affinity: str | None = None  # a conversation's stable id, for the server's prompt cache
    # The last message is the start of an answer (cut or interrupted): the model goes on with it
    # rather than answering after it. Each backend sends that as its server understands it.
    continue_final: bool = False


class HttpCall(NamedTuple):
    """The HTTP request a backend would send; `headers` never hold the secret."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: Mapping[str, Any] | None
    auth_env: str | None = None  # the variable `--show-request` names in place of the secret


class TextDelta(NamedTuple):  # one per token: a tuple is the cheapest thing to build
    """A piece of the answer."""

    text: str

    # Two tuples of equal items are equal whatever their class: these compare their kind too.
    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__


class ReasoningDelta(NamedTuple):
    """A piece of the model's reasoning (its thinking before the answer): never part of the
    answer's text."""

    text: str

    __eq__ = TextDelta.__eq__
    __ne__ = TextDelta.__ne__
    __hash__ = tuple.__hash__


class Usage(NamedTuple):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    reasoning_tokens: int | None = None  # of the completion tokens, when the backend says

    def as_dict(self) -> dict[str, int | None]:
        counts = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
        if self.reasoning_tokens is not None:
            counts["reasoning_tokens"] = self.reasoning_tokens
        return counts


@dataclass(frozen=True)
class Finish:
    reason: str


@dataclass(frozen=True)
class Notice:
    """Something the user should hear about on stderr (a retry, a skipped event)."""

    message: str


Event = TextDelta | ReasoningDelta | Usage | Finish | Notice


class TurnResult(NamedTuple):
    """What one turn produced: the text, the usage, why it ended, and the reasoning apart."""

    text: str
    usage: Usage | None
    finish_reason: str  # "stop", "length", ... from the backend; "interrupted" or "error"
    error: WaiError | None = None
    reasoning: str = ""

    @property
    def interrupted(self) -> bool:
        """The answer stopped early (Ctrl-C, an error): what arrived is partial."""
        return self.finish_reason in ("interrupted", "error")


class ModelInfo(NamedTuple):
    """One model a backend offers, and what its catalogue says of it (None: not said)."""

    id: str
    description: str = ""
    context_window: int | None = None
    reasons: bool | None = None
    function_calling: bool | None = None
    deprecation: str | None = None  # the planned retirement date, YYYY-MM-DD
    prices: tuple[str, ...] = ()  # e.g. "0.35 USD per M input tokens"


class Backend(Protocol):
    name: str
    model: str  # the model named, or (a local server with none named) the first it lists
    picked: ModelInfo | None  # what the server's list said of that first model

    def prepare(self, request: Request) -> HttpCall: ...

    def stream(self, request: Request) -> Iterator[Event]: ...

    def list_models(self) -> list[ModelInfo]: ...
