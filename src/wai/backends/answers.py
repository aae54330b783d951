"""Answers, whatever the protocol: an SSE stream or a JSON body, in the native (`response`) or
OpenAI (`choices`) dialect, turned into events; error bodies turned into (code, message)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from wai.backends.base import Event, Finish, Notice, TextDelta, Usage
from wai.backends.http import parse_retry_after
from wai.backends.sse import InvalidEvent, is_event_stream, iter_payloads
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


def events_from_response(
    response: httpx.Response, error: ErrorFactory, empty: BackendError = EMPTY_ANSWER
) -> Iterator[Event]:
    """The events of an answer; `empty` is raised for a stream with no event at all."""
    if not is_event_stream(response):
        if not response.read().strip():
            raise empty
        yield from _events_from_json(response, error)
        return
    finish_reason = None
    received = warned = False
    for item in iter_payloads(response):
        received = True
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
        if type(text) is str and "finish_reason" not in data:
            reason = None
        else:
            text, reason = text_of(data)
        if text:
            yield TextDelta(text)
        if "usage" in data:
            usage = usage_of(data)
            if usage is not None:
                yield usage
        finish_reason = reason or finish_reason
    if not received:
        raise empty
    yield Finish(finish_reason or "stop")


def _events_from_json(response: httpx.Response, error: ErrorFactory) -> Iterator[Event]:
    try:
        body = response.json()
    except ValueError:
        raise BackendError(
            "the backend sent an answer that is not JSON: "
            f"{response.text.strip()[:120] or '(empty)'}"
        ) from None
    code, message = error_of(body)
    if message is not None:
        raise error(response.status_code, code, message, None)
    result = body.get("result", body) if isinstance(body, dict) else None  # the v4 envelope
    if not isinstance(result, dict) or not ("response" in result or "choices" in result):
        raise BackendError("the backend's answer has no result")
    text, reason = text_of(result, message_key="message")
    if text:
        yield TextDelta(text)
    usage = usage_of(result)
    if usage is not None:
        yield usage
    yield Finish(reason or "stop")


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


def text_of(data: Mapping[str, Any], message_key: str = "delta") -> tuple[str, str | None]:
    """The text and finish reason of a native (`response`) or OpenAI-style (`choices`) object."""
    text = data.get("response")
    reason = data.get("finish_reason")
    if not isinstance(text, str):
        text = ""
        choices = data.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            choice = choices[0]
            part = choice.get(message_key) or choice.get("delta") or {}
            content = part.get("content") if isinstance(part, dict) else None
            content = choice.get("text") if content is None else content  # /completions
            text = content if isinstance(content, str) else ""
            reason = choice.get("finish_reason") or reason
    return text, reason if isinstance(reason, str) else None


def usage_of(data: Mapping[str, Any]) -> Usage | None:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None

    def number(key: str) -> int | None:
        value = usage.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value)

    return Usage(number("prompt_tokens"), number("completion_tokens"), number("total_tokens"))
