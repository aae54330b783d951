"""Which messages fit the model's context window, by an estimate that errs high."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from wai.backends.base import Message
from wai.errors import UsageError

MESSAGE_OVERHEAD = 4  # the chat template's tokens around each message
MIN_ANSWER_TOKENS = 256

# The estimate follows the tokenizers of Llama 2 and Mistral (SentencePiece, 32,000 pieces): the
# costliest of the models wai talks to. They split numbers into digits, keep a space with the word
# after it, and spell a character they lack as its UTF-8 bytes, one token each. Models with larger
# vocabularies (Llama 3, Qwen, Gemma) take fewer tokens for the same text.
# Weights are in sixtieths of a token, so that the sum is exact.
UNIT = 60


def _classes() -> bytes:
    """A table that turns each character of a UTF-8 text, once its continuation bytes are
    dropped, into one byte naming its class (the keys of ASCII_WEIGHTS and OTHER_WEIGHTS)."""
    table = bytearray(b"." * 128 + b"o" * 128)  # "." punctuation and control characters
    spans = (
        ("a", 0x61, 0x7A),  # lower-case letters
        ("A", 0x41, 0x5A),  # capitals
        ("0", 0x30, 0x39),
        (" ", 0x20, 0x20),
        ("|", 0x09, 0x0A),  # tab, line feed
        ("|", 0x0D, 0x0D),  # carriage return
        ("L", 0xC3, 0xC9),  # accented Latin
        ("C", 0xD0, 0xD3),  # Cyrillic
        ("L", 0xE1, 0xE1),  # Vietnamese letters, Georgian, Myanmar, Khmer...
        ("K", 0xE3, 0xE3),  # kana and CJK punctuation
        ("H", 0xE4, 0xE9),  # CJK ideographs
        ("G", 0xEA, 0xED),  # Hangul syllables
        ("E", 0xF0, 0xFF),  # beyond the BMP: emoji, rare ideographs
    )
    for name, first, last in spans:
        table[first : last + 1] = name.encode() * (last + 1 - first)
    return bytes(table)


CLASSES = _classes()
CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
ASCII_WEIGHTS = {
    b"a": 20,  # a third: English runs near four letters a token, other languages nearer three
    b"A": 45,  # a capital often starts a new piece
    b"0": 60,  # every digit is a token
    b".": 60,  # punctuation: a token, with the space before it if any
    b"|": 60,  # line breaks and tabs: a byte token each, the space before them another
    b"_": 60,  # a run of spaces (indentation, aligned columns) is one token
}
OTHER_WEIGHTS = {
    b"L": 180,  # an accented letter breaks the word around it into more pieces
    b"C": 24,  # Cyrillic words merge well: two fifths of a token a letter
    b"o": 75,  # Greek, Hebrew, Arabic, Indic, Thai, symbols: about a token a character
    b"K": 60,  # kana: a token each
    b"H": 120,  # common ideographs are a token, rarer ones three byte tokens
    b"G": 180,  # most Hangul syllables are three byte tokens
    b"E": 240,  # emoji: four byte tokens in Llama 2
}
SPACE_RUNS = re.compile(rb"  +")
EMOJI_GLUE = ("\u200d", "\ufe0f")  # the joiner and the emoji selector: three byte tokens each


def estimate_tokens(text: str) -> int:
    """At least as many tokens as Llama 2's or Mistral's tokenizer makes of `text`, as checked
    against their counts for prose in many languages, code, numbers and emoji; about a third more
    for English prose."""
    if not text:
        return 0
    # The tokenizer puts a space before the text.
    shape = b" " + text.encode("utf-8", "surrogatepass").translate(CLASSES, CONTINUATION_BYTES)
    if b"  " in shape:
        shape = SPACE_RUNS.sub(b"_", shape)
    total = sum(weight * shape.count(name) for name, weight in ASCII_WEIGHTS.items())
    # A space goes with the word or punctuation after it, but is a token of its own before a
    # digit, a line break, another script or the end (in ASCII, only the first, second and last).
    if text.isascii():
        total += UNIT * (shape.count(b" 0") + shape.count(b" |") + shape.endswith(b" "))
    else:
        absorbed = sum(shape.count(b" " + name) for name in (b"a", b"A", b"."))
        total += UNIT * (shape.count(b" ") - absorbed)
        total += sum(weight * shape.count(name) for name, weight in OTHER_WEIGHTS.items())
        total += 2 * UNIT * sum(text.count(glue) for glue in EMOJI_GLUE)
    if b"0" in shape:  # letters among digits (hex, base64, ids) barely merge
        total += 30 * sum(shape.count(pair) for pair in (b"a0", b"A0", b"0a", b"0A"))
    total += 40 * shape.count(b"aA")  # camelCase and base64 split where the case changes
    return -(-total // UNIT)


def estimate_messages(messages: Sequence[Message]) -> int:
    return sum(estimate_tokens(m["content"]) + MESSAGE_OVERHEAD for m in messages)


class Fit(NamedTuple):
    messages: list[Message]
    left_out: int  # older messages that did not fit
    max_tokens: int
    prompt_tokens: int  # the estimate for what is sent


def fit_messages(
    messages: Sequence[Message],
    window: int | None,
    max_tokens: int,
    chosen: bool,
    model: str,
    fill_down_to: int | None = None,
) -> Fit:
    """Keep the system message and the newest messages that fit with room for the answer.

    The newest message is always kept; if it cannot fit, nothing is sent. A max_tokens the user
    did not choose shrinks (down to MIN_ANSWER_TOKENS) before the newest message is refused.
    `fill_down_to`: the answer takes the room all the messages leave, up to max_tokens; only
    when that room is below `fill_down_to` are older messages left out (to make that much).
    """
    if window is None:
        return Fit(list(messages), 0, max_tokens, estimate_messages(messages))
    if fill_down_to is not None:
        prompt_tokens = estimate_messages(messages)
        room = window - prompt_tokens
        if room >= fill_down_to:
            return Fit(list(messages), 0, min(max_tokens, room), prompt_tokens)
        max_tokens = min(max_tokens, fill_down_to)
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
            repl_hint="shorten the input"
            + (" or lower it with /set max_tokens N" if chosen and fixed < window else ""),
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
