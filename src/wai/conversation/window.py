"""Which messages fit the model's context window, by an estimate that errs high."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from wai.errors import UsageError

BYTES_PER_TOKEN = 3.5  # English runs near 4 bytes a token; less means a safer overestimate
MESSAGE_OVERHEAD = 4  # the chat template's tokens around each message
MIN_ANSWER_TOKENS = 256

Message = Mapping[str, str]


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_messages(messages: Sequence[Message]) -> int:
    return sum(estimate_tokens(m["content"]) + MESSAGE_OVERHEAD for m in messages)


class Fit(NamedTuple):
    messages: list[Message]
    left_out: int  # older messages that did not fit
    max_tokens: int
    prompt_tokens: int  # the estimate for what is sent


def fit_messages(
    messages: Sequence[Message], window: int | None, max_tokens: int, chosen: bool, model: str
) -> Fit:
    """Keep the system message and the newest messages that fit with room for the answer.

    The newest message is always kept; if it cannot fit, nothing is sent. A max_tokens the user
    did not choose shrinks (down to MIN_ANSWER_TOKENS) before the newest message is refused.
    """
    if window is None:
        return Fit(list(messages), 0, max_tokens, estimate_messages(messages))
    head = [messages[0]] if len(messages) > 1 and messages[0]["role"] == "system" else []
    history = list(messages[len(head) : -1])
    newest = messages[-1]
    fixed = estimate_messages([*head, newest])
    answer = max_tokens
    if fixed + answer > window and not chosen:
        answer = max(window - fixed, MIN_ANSWER_TOKENS)
    if fixed + answer > window:
        raise UsageError(
            f"the prompt is too long for {model}: about {fixed} tokens, and its context window "
            f"of {window} tokens must also hold the {answer} tokens of the answer",
            hint="shorten the input"
            + (" or lower --max-tokens" if chosen and fixed < window else ""),
        )
    room = window - answer - fixed
    kept: list[Message] = []
    for message in reversed(history):
        cost = estimate_tokens(message["content"]) + MESSAGE_OVERHEAD
        if cost > room:
            break
        kept.append(message)
        room -= cost
    kept.reverse()
    while kept and kept[0]["role"] != "user":  # a conversation resumes with a user's message
        room += estimate_tokens(kept.pop(0)["content"]) + MESSAGE_OVERHEAD
    left_out = len(history) - len(kept)
    return Fit([*head, *kept, newest], left_out, answer, window - answer - room)
