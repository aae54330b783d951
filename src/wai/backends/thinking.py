"""Reasoning written inline in the answer's text, `<think>…</think>`, told apart from the answer
as the text arrives, whatever piece boundaries the stream has."""

from __future__ import annotations

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

# Where the splitter is in the text; plain ints compare fastest.
_START = 0  # nothing but whitespace yet: a `<think>` may still come
_START_OPENED = 1  # as _START, but the chat template already opened the tag
_REASONING = 2  # inside the tags, until `</think>`
_AFTER_CLOSE = 3  # just after `</think>`: the whitespace before the answer is dropped
_ANSWER = 4  # the answer: everything passes untouched

NOTHING = ("", "")


class ThinkSplitter:
    """Feed it the answer's text piece by piece; it gives back (reasoning, answer) per piece.

    The text is reasoning when its first non-whitespace text is `<think>` (or, with
    `opened=True`, from the start: the chat template opened the tag, as DeepSeek R1 distills
    and QwQ on Workers AI do), up to `</think>`. Tags are never given back. Only what may yet be
    a tag is held: a prefix of `<think>` at the start, a prefix of `</think>` at a piece's end.
    Once `answering` is true, every piece passes untouched: a caller may stop feeding it.
    """

    __slots__ = ("_held", "_state", "answering")

    def __init__(self, *, opened: bool = False) -> None:
        self._state = _START_OPENED if opened else _START
        self._held = ""
        self.answering = False

    def feed(self, piece: str) -> tuple[str, str]:
        """The reasoning and the answer text this piece completes (either may be empty)."""
        state = self._state
        if state == _ANSWER:
            return "", piece
        text = self._held + piece if self._held else piece
        self._held = ""
        if state <= _START_OPENED:
            stripped = text.lstrip()
            if stripped.startswith(OPEN_TAG):
                text = stripped[len(OPEN_TAG) :]
            elif OPEN_TAG.startswith(stripped):  # "" and "<thi" alike: wait for more
                self._held = text
                return NOTHING
            elif state == _START:  # no tag: all of it is the answer, as it came
                self._state = _ANSWER
                self.answering = True
                return "", text
            state = _REASONING
        reasoning = ""
        if state == _REASONING:
            end = text.find(CLOSE_TAG)
            if end < 0:
                held = _partial_close_tag(text)
                if held:
                    self._held = held
                    text = text[: -len(held)]
                self._state = _REASONING
                return text, ""
            reasoning, text = text[:end], text[end + len(CLOSE_TAG) :]
        text = text.lstrip()  # the blank line between the reasoning and the answer
        if text:
            self._state = _ANSWER
            self.answering = True
        else:
            self._state = _AFTER_CLOSE
        return reasoning, text

    def flush(self) -> tuple[str, str]:
        """The reasoning and answer text still held, at the end of the text."""
        held, self._held = self._held, ""
        if not held:
            return NOTHING
        if self._state == _START:  # a `<thi` that never became a tag is the answer's text
            self._state = _ANSWER
            self.answering = True
            return "", held
        return held, ""  # inside the reasoning (opened or not), it stays reasoning


def _partial_close_tag(text: str) -> str:
    """The end of `text` that may be the start of `</think>` (its only `<` begins it)."""
    start = text.rfind("<", max(0, len(text) - len(CLOSE_TAG) + 1))
    if start >= 0 and CLOSE_TAG.startswith(text[start:]):
        return text[start:]
    return ""
