"""Answers, whatever the protocol: an SSE stream or a JSON body, in the native (`response`),
OpenAI (`choices`) or Responses (`output`) dialect, turned into events, the reasoning apart from
the text; error bodies turned into (code, message)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from wai.backends.base import Event, Finish, Notice, ReasoningDelta, TextDelta, Usage
from wai.backends.http import CutOff, parse_retry_after
from wai.backends.sse import (
    BODY_EXTENSION,
    DONE,
    InvalidEvent,
    is_event_stream,
    iter_payloads,
    without_surrogates,
)
from wai.backends.thinking import ThinkSplitter
from wai.errors import (
    EXIT_BACKEND,
    EXIT_CONFIG,
    EXIT_NETWORK,
    EXIT_RATE_LIMITED,
    BackendError,
)

if TYPE_CHECKING:
    import httpx

# (HTTP status or None mid-stream, error code, message, Retry-After) -> the user-facing error
ErrorFactory = Callable[[int | None, int | None, str, float | None], BackendError]


def error_by_status(
    text: str, status: int, retry_after: float | None, *, refused_hint: str
) -> BackendError:
    """The error for an HTTP status no more specific rule covered: its exit code, and whether
    it may be retried (429, 408, 502-504)."""
    if status in (401, 403):
        return BackendError(text, hint=refused_hint, exit_code=EXIT_CONFIG)
    if status == 429:
        return BackendError(
            text, exit_code=EXIT_RATE_LIMITED, retryable=True, retry_after=retry_after
        )
    if status == 408:
        return BackendError(text, exit_code=EXIT_NETWORK, retryable=True)
    return BackendError(
        text, exit_code=EXIT_BACKEND, retryable=status in (502, 503, 504), retry_after=retry_after
    )


def error_from_response(response: httpx.Response, error: ErrorFactory) -> BackendError:
    """The error for a 4xx/5xx answer, from its JSON body or its text."""
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    try:
        payload = response.json()
    except ValueError:
        payload = None
    code, message = error_of(payload)
    if message is None:
        message = response.text.strip()[:200] or response.reason_phrase
    return error(response.status_code, code, message, retry_after)


ERROR_KEYS = frozenset({"errors", "error", "success"})  # an event with none of them is no error

EMPTY_ANSWER = BackendError(
    "the backend sent an empty answer",
    hint="try again; a local server does this when the prompt is longer than its context window",
)

ZERO_CHECKED = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "input_tokens",
    "output_tokens",
)
FINISH_REASONS = {"model_length": "length"}  # Workers AI's own names for OpenAI's reasons


class AnswerWithoutText(BackendError):
    """A JSON answer that holds no text, no reasoning and no tool call: what gpt-oss sends on
    /ai/run to a streamed request (`{"result": {}, ...}`). It may be asked again another way."""

    def __init__(self) -> None:
        super().__init__("the backend's answer holds no text")


def events_from_response(
    response: httpx.Response,
    error: ErrorFactory,
    empty: BackendError = EMPTY_ANSWER,
    *,
    thinking_opened: bool = False,
) -> Iterator[Event]:
    """The events of an answer; `empty` is raised for a stream with no event at all.

    Reasoning arrives apart (`reasoning_content`, `reasoning`, Responses `reasoning` items) or
    inline in the text as `<think>…</think>`; `thinking_opened` says the chat template already
    opened the tag, so the text is reasoning from its start up to `</think>`.
    """
    if not is_event_stream(response):
        if not response.read().strip():
            raise empty
        yield from _events_from_json(response, error, thinking_opened)
        return
    finish_reason = None
    received = warned = done = False
    # The counts, read once at the end: OpenAI chunks repeat them, cumulative, on every chunk.
    counts: dict[str, Any] | None = None
    # None once the text is known to be the answer: then a token costs one `is None` test.
    thinking: ThinkSplitter | None = ThinkSplitter(opened=thinking_opened)
    for item in iter_payloads(response, with_done=True):
        received = True
        if item is DONE:
            done = True
            break
        data = item.data
        if type(data) is not dict:
            if isinstance(data, InvalidEvent) and not warned:
                warned = True
                yield Notice(f"warning: skipped an event that is not JSON: {data.data[:80]!r}")
            continue
        if item.event == "error" or not ERROR_KEYS.isdisjoint(data):
            code, message = error_of(data)
            if item.event == "error" or message is not None:
                message = message or data.get("message") or json.dumps(data)[:200]
                raise error(None, code, str(message), None)
        text = data.get("response")  # the native dialect, most tokens: no call
        if type(text) is not str or "finish_reason" in data:
            text, reasoning, reason = _parts_of_event(data)
            finish_reason = reason or finish_reason
            if reasoning:
                yield ReasoningDelta(reasoning)
        if text:
            if thinking is None:
                yield TextDelta(text)
            else:
                reasoning, text = thinking.feed(text)
                if thinking.answering:
                    thinking = None
                if reasoning:
                    yield ReasoningDelta(reasoning)
                if text:
                    yield TextDelta(text)
        if "usage" in data:
            usage = data["usage"]
            # A last chunk may carry the counts all zero after the real ones: they do not count.
            if type(usage) is dict and (counts is None or not _all_zero(usage)):
                counts = usage
    if not received:
        raise empty
    if not (done or finish_reason) and _close_delimited(response):
        raise CutOff
    if thinking is not None:
        reasoning, text = thinking.flush()
        if reasoning:
            yield ReasoningDelta(reasoning)
        if text:
            yield TextDelta(text)
    if counts is not None:
        yield usage_of({"usage": counts})  # type: ignore[misc]
    yield Finish(_finish(finish_reason))


def _close_delimited(response: httpx.Response) -> bool:
    """Whether the body had no length and no chunks, so that its end was the connection's close
    (told by wai's transport; a chunked body that ends with its last chunk is whole)."""
    return bool(getattr(response.extensions.get(BODY_EXTENSION), "close_delimited", False))


def _parts_of_event(data: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """(text, reasoning, finish reason) of a stream event that is not a plain native token: a
    native one with a number or a finish reason, or an OpenAI chunk (`choices: []` and
    `delta: {}` included)."""
    reason = data.get("finish_reason")
    reason = reason if isinstance(reason, str) else None
    if "response" in data:
        return _as_text(data["response"]), "", reason
    choices = data.get("choices")
    if not (type(choices) is list and choices and type(choices[0]) is dict):
        return "", "", reason
    text, reasoning, choice_reason, _ = _parts_of_choice(choices[0], "delta")
    return text, reasoning, choice_reason or reason


def _parts_of_choice(choice: Mapping[str, Any], key: str) -> tuple[str, str, str | None, bool]:
    """(text, reasoning, finish reason, holds tool calls) of an OpenAI choice, whose message is
    under `key` (`delta` in chunks, `message` in a body; `text` for /completions)."""
    part = choice.get(key) or choice.get("delta") or {}
    if not isinstance(part, dict):
        part = {}
    content = part.get("content")
    if content is None:
        content = choice.get("text")
    reasoning = part.get("reasoning_content")
    if not (type(reasoning) is str and reasoning):
        reasoning = part.get("reasoning")  # Nemotron, Ollama
    reason = choice.get("finish_reason")
    tool_calls = part.get("tool_calls")
    return (
        content if type(content) is str else "",
        reasoning if type(reasoning) is str else "",
        reason if isinstance(reason, str) else None,
        type(tool_calls) is list and bool(tool_calls),
    )


def _as_text(value: Any) -> str:
    """A native `response` as text: a number as written, a JSON-mode object as JSON."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _finish(reason: str | None) -> str:
    return FINISH_REASONS.get(reason, reason) if reason else "stop"


class _Answer(NamedTuple):
    """What a JSON answer holds, whatever its shape."""

    text: str
    reasoning: str = ""
    finish_reason: str | None = None
    tool_calls: bool = False
    inline_thinking: bool = True  # the text may hold `<think>` (not a JSON-mode object)


def _events_from_json(
    response: httpx.Response, error: ErrorFactory, thinking_opened: bool
) -> Iterator[Event]:
    try:
        body = response.json()
    except ValueError:
        raise BackendError(
            "the backend sent an answer that is not JSON: "
            f"{response.text.strip()[:120] or '(empty)'}"
        ) from None
    except RecursionError:
        raise BackendError("the backend sent an answer nested too deeply to read") from None
    body = without_surrogates(body)
    code, message = error_of(body)
    if message is not None:
        raise error(response.status_code, code, message, None)
    result = body.get("result", body) if isinstance(body, dict) else None  # the v4 envelope
    if not isinstance(result, dict):
        raise BackendError("the backend's answer has no result")
    answer = _answer_of(result)
    text, reasoning = answer.text, [answer.reasoning]
    if text and answer.inline_thinking:
        splitter = ThinkSplitter(opened=thinking_opened)
        inline, text = splitter.feed(text)
        held_reasoning, held_text = splitter.flush()
        reasoning += [inline, held_reasoning]
        text += held_text
    reasoning_text = "".join(reasoning)
    if not (text or reasoning_text or answer.tool_calls):
        raise AnswerWithoutText
    if reasoning_text:
        yield ReasoningDelta(reasoning_text)
    if text:
        yield TextDelta(text)
    usage = usage_of(result)
    if usage is not None:
        yield usage
    yield Finish(_finish(answer.finish_reason))


def _answer_of(result: Mapping[str, Any]) -> _Answer:
    """The parts of a JSON answer: native (`response`), chat completion (`choices`) or
    Responses (`output`, `output_text`)."""
    reason = result.get("finish_reason")
    reason = reason if isinstance(reason, str) else None
    if "response" in result:
        value = result["response"]
        tool_calls = result.get("tool_calls")
        return _Answer(
            _as_text(value),
            finish_reason=reason,
            tool_calls=type(tool_calls) is list and bool(tool_calls),
            inline_thinking=value is None or type(value) is str,
        )
    choices = result.get("choices")
    if type(choices) is list and choices and type(choices[0]) is dict:
        text, reasoning, choice_reason, tool_calls = _parts_of_choice(choices[0], "message")
        return _Answer(text, reasoning, choice_reason or reason, tool_calls)
    if "output" in result or "output_text" in result:
        return _responses_answer(result)
    return _Answer("", finish_reason=reason)


def _responses_answer(result: Mapping[str, Any]) -> _Answer:
    """The parts of a Responses body: its `reasoning`, `message` and `function_call` items."""
    texts: list[str] = []
    reasonings: list[str] = []
    has_message = tool_calls = False
    output = result.get("output")
    for item in output if type(output) is list else ():
        if type(item) is not dict:
            continue
        kind = item.get("type")
        if kind == "message":
            has_message = True
            texts += _texts_of(item.get("content"), {"output_text": "text", "refusal": "refusal"})
        elif kind == "reasoning":
            # The reasoning itself, else its summary (all some models give).
            content = _texts_of(item.get("content"), {"reasoning_text": "text"})
            summary = _texts_of(item.get("summary"), {"summary_text": "text"})
            reasonings.append("".join(content) if content else "\n\n".join(summary))
        elif kind == "function_call":
            tool_calls = True
    output_text = result.get("output_text")
    if not has_message and type(output_text) is str:
        texts.append(output_text)
    reason = None
    details = result.get("incomplete_details")
    if isinstance(details, dict) and isinstance(details.get("reason"), str):
        reason = "length" if details["reason"] == "max_output_tokens" else details["reason"]
    return _Answer("".join(texts), "".join(reasonings), reason, tool_calls)


def _texts_of(parts: Any, fields: Mapping[str, str]) -> list[str]:
    """The texts of the content parts whose type `fields` names, each from its named field."""
    texts = []
    for part in parts if type(parts) is list else ():
        if type(part) is dict and part.get("type") in fields:
            text = part.get(fields[part["type"]])
            if type(text) is str:
                texts.append(text)
    return texts


def error_of(payload: Any) -> tuple[int | None, str | None]:
    """(code, message) of an error envelope, `{"error": ...}` object or error event, else None."""
    if not isinstance(payload, dict):
        return None, None
    errors = payload.get("errors")
    if payload.get("success") is False or (isinstance(errors, list) and errors):
        first = errors[0] if isinstance(errors, list) and errors else {}
        if not isinstance(first, dict):
            return None, str(first)
        return _code(first.get("code")), str(first.get("message") or "unknown error")
    error = payload.get("error")
    if isinstance(error, dict):
        return _code(error.get("code")), str(error.get("message") or "unknown error")
    if isinstance(error, str) and error:
        return None, error
    return None, None


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def usage_of(data: Mapping[str, Any]) -> Usage | None:
    """The counts of `data["usage"]`: OpenAI's names, or the Responses API's (`input_tokens`,
    `output_tokens`); floats are truncated, other fields (`neurons`) ignored."""
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = _count(usage, "prompt_tokens")
    completion = _count(usage, "completion_tokens")
    details = usage.get("completion_tokens_details") or usage.get("output_tokens_details")
    return Usage(
        _count(usage, "input_tokens") if prompt is None else prompt,
        _count(usage, "output_tokens") if completion is None else completion,
        _count(usage, "total_tokens"),
        _count(details, "reasoning_tokens") if isinstance(details, dict) else None,
    )


def _count(counts: Mapping[str, Any], key: str) -> int | None:
    value = counts.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):  # JSON as Python reads it
        return None
    return int(value)


def _all_zero(counts: Mapping[str, Any]) -> bool:
    return not any(counts.get(key) for key in ZERO_CHECKED)
