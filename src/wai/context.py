"""How much of the model's context window a request takes (an estimate that errs high)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from wai.errors import UsageError

BYTES_PER_TOKEN = 3.5  # English runs near 4 bytes a token; less means a safer overestimate
MESSAGE_OVERHEAD = 4  # the chat template's tokens around each message
MIN_ANSWER_TOKENS = 256


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_prompt(texts: Iterable[str]) -> int:
    return sum(estimate_tokens(text) + MESSAGE_OVERHEAD for text in texts)


def fit_max_tokens(
    texts: Iterable[str], window: int | None, max_tokens: int, chosen: bool, model: str
) -> int:
    """The max_tokens to send so that prompt + answer fit the window.

    A default max_tokens shrinks to the room left (down to MIN_ANSWER_TOKENS); one the user
    chose is kept, and a prompt that leaves it no room is refused before anything is sent.
    """
    if window is None:
        return max_tokens
    prompt = estimate_prompt(texts)
    room = window - prompt
    if room >= max_tokens:
        return max_tokens
    if not chosen and room >= MIN_ANSWER_TOKENS:
        return room
    raise UsageError(
        f"the prompt is too long for {model}: about {prompt} tokens, and its context window "
        f"of {window} tokens must also hold the {max_tokens if chosen else MIN_ANSWER_TOKENS} "
        "tokens of the answer",
        hint="shorten the input" + (" or lower --max-tokens" if chosen else ""),
    )
