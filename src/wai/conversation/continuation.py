"""Continuing an answer that was cut short (interrupted, or cut at max_tokens): which answer, the
request that makes the model go on with it, and how its continuation joins it in the session.

The request is the history that fits the context window, ending with the partial answer as an
assistant message marked `continue_final`; each backend sends that as its server understands it
(a raw prompt in the model's template, vLLM's `continue_final_message`, or the messages as they
are). The continuation is appended to that same answer, whose marks then say how it ended.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from wai.backends.base import Message, Request, TurnResult, Usage
from wai.conversation.store import Session, now
from wai.conversation.turn import ReaderLeft, run_turn
from wai.conversation.window import MESSAGE_OVERHEAD, estimate_tokens, fit_messages
from wai.errors import UsageError
from wai.render import Renderer
from wai.render.markdown import BlockSplitter, MarkdownRenderer
from wai.settings.params import REASONING_MAX_TOKENS, REASONING_MIN_TOKENS

if TYPE_CHECKING:
    from wai.conversation import Conversation

NOTHING_TO_CONTINUE_HINT = (
    "only an answer that was interrupted or cut at max_tokens can be continued"
)


def partial_answer_index(session: Session) -> int:
    """Where the session's last message is, when it is an answer cut short with text to go on
    from; a UsageError saying why not otherwise."""
    messages = session.messages
    if not any(message.get("role") == "assistant" for message in messages):
        raise UsageError("there is no answer to continue yet", hint=NOTHING_TO_CONTINUE_HINT)
    last = messages[-1]
    meta = last.get("meta") if isinstance(last.get("meta"), dict) else {}
    cut = meta.get("interrupted") is True or meta.get("finish_reason") == "length"
    if last.get("role") != "assistant" or not cut:
        raise UsageError(
            "the last answer is complete: there is nothing to continue",
            hint=NOTHING_TO_CONTINUE_HINT,
        )
    if not str(last.get("content") or "").strip():
        raise UsageError(
            "the last answer was cut before any text: there is nothing to continue",
            hint="ask again instead",
        )
    return len(messages) - 1


def continuation_request(conversation: Conversation, *, stream: bool = True) -> Request:
    """The request that continues the session's last answer: as many of the messages before it
    as fit the context window (with the question it answers always), then the answer so far.
    A raw prompt the backend writes from them must fit as well."""
    session, settings, backend = conversation.session, conversation.settings, conversation.backend
    index = partial_answer_index(session)
    messages = session.scoped_messages()
    before, partial = messages[:index], messages[index]
    if not before or before[-1]["role"] != "user":
        raise UsageError("the answer to continue follows no question", hint="ask again instead")
    max_tokens = int(settings.params["max_tokens"])
    fill_down_to = None
    if conversation.reasons and not settings.max_tokens_given:
        max_tokens, fill_down_to = REASONING_MAX_TOKENS, REASONING_MIN_TOKENS
    if not settings.backend.model:  # a local server's first model: its list has the window
        backend.model  # noqa: B018 - asks the server, as sending would anyway
    window = conversation.context_window
    # The partial answer is sent whole, after the question: the window left for the rest is
    # smaller by its size, and by whatever a raw prompt's template adds to the messages.
    partial_cost = estimate_tokens(partial["content"]) + MESSAGE_OVERHEAD
    template_cost = 0
    while True:
        room = None if window is None else window - partial_cost - template_cost
        if room is not None and room <= 0:
            raise _too_long(conversation, window)
        try:
            fit = fit_messages(
                before,
                room,
                max_tokens,
                settings.max_tokens_given,
                backend.model,
                fill_down_to,
            )
        except UsageError:
            raise _too_long(conversation, window) from None
        request = Request(
            messages=(*fit.messages, partial),
            params={**settings.params, "max_tokens": fit.max_tokens},
            stream=stream,
            affinity=session.affinity if conversation.persistent else None,
            continue_final=True,
        )
        if window is None:
            break
        body = backend.prepare(request).body or {}
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            break
        cost = estimate_tokens(prompt) - fit.prompt_tokens - partial_cost
        if cost <= template_cost:
            break
        template_cost = cost
    if fit.left_out:
        conversation.env.notice(
            f"{fit.left_out} older message{'s' if fit.left_out > 1 else ''} left out to fit "
            f"the {window}-token context window"
        )
    return request


def _too_long(conversation: Conversation, window: int | None) -> UsageError:
    return UsageError(
        f"the answer so far and its question leave no room to continue it in the {window}-token "
        f"context window of {conversation.backend.model}",
        hint="ask again instead, or lower --max-tokens to leave more room",
        repl_hint="ask again instead, or lower max_tokens with /set max_tokens N",
    )


def continue_answer(
    conversation: Conversation, renderer: Renderer, *, stream: bool = True
) -> TurnResult:
    """Continue the session's last answer, streaming only the new text into `renderer`, and
    append what arrives to that answer in the session (a ReaderLeft keeps it too)."""
    request = continuation_request(conversation, stream=stream)
    session = conversation.session
    answer = session.messages[-1]
    question = session.messages[-2]
    if isinstance(renderer, MarkdownRenderer):
        renderer = ContinuedRenderer(renderer, open_block(str(answer["content"])))
    if conversation.persistent:
        conversation.store.check_writable(session, more=0)
    try:
        result = run_turn(conversation.backend, request, renderer, conversation.env)
    except ReaderLeft as left:
        if left.result.text or left.result.reasoning:
            _record(conversation, question, left.result)
        raise
    if result.finish_reason == "length" and result.text:
        conversation.env.notice(
            f"the answer was cut at max_tokens ({request.params.get('max_tokens')}) again; "
            + conversation.env.phrased(
                "continue it once more, or raise --max-tokens",
                "/continue goes on, or raise it with /set max_tokens N",
            )
        )
    if result.text or result.reasoning:
        _record(conversation, question, result)
    return result


def _record(conversation: Conversation, question: Message, result: TurnResult) -> None:
    """Append the continuation to the answer that follows `question` (found again in the file,
    where another process may have added turns meanwhile), and save the session."""
    key = _key(question)
    model = conversation.backend.model

    def extend(session: Session) -> None:
        messages = session.messages
        for index in range(len(messages) - 2, -1, -1):
            if _key(messages[index]) == key and messages[index + 1].get("role") == "assistant":
                answer = messages[index + 1]
                answer["content"] = str(answer.get("content") or "") + result.text
                answer["meta"] = continued_meta(answer.get("meta"), result, model)
                return

    conversation._save(extend)


def _key(message: Message | dict[str, Any]) -> tuple[Any, Any, Any]:
    meta = message.get("meta")
    time = meta.get("time") if isinstance(meta, dict) else None
    return (message.get("role"), time, message.get("content"))


def continued_meta(meta: Any, result: TurnResult, model: str) -> dict[str, Any]:
    """An answer's meta once `result` has been appended to it: the time and model of the
    continuation, the token counts of both requests added up (what the answer cost), the
    reasoning of both, and the marks of how the continuation ended."""
    merged: dict[str, Any] = copy.deepcopy(meta) if isinstance(meta, dict) else {}
    merged["time"] = now()
    merged["model"] = model
    if result.usage is not None:
        merged["usage"] = _added(merged.get("usage"), result.usage)
    if result.reasoning:
        before = merged.get("reasoning")
        merged["reasoning"] = f"{before}\n\n{result.reasoning}" if before else result.reasoning
    merged.pop("interrupted", None)
    merged.pop("finish_reason", None)
    if result.interrupted:
        merged["interrupted"] = True
    elif result.finish_reason != "stop":
        merged["finish_reason"] = result.finish_reason
    return merged


def _added(before: Any, usage: Usage) -> dict[str, int | None]:
    """The counts of `usage` plus those `before` holds; a count one side does not know is the
    other side's."""
    counts = usage.as_dict()
    if not isinstance(before, dict):
        return counts
    for name in (*counts, "reasoning_tokens"):
        earlier, later = before.get(name), counts.get(name)
        if not isinstance(earlier, int) or isinstance(earlier, bool):
            continue
        counts[name] = earlier + later if later is not None else earlier
    return counts


def open_block(text: str) -> str:
    """The end of `text` that markdown still holds open (an unfinished paragraph, list or code
    block): drawn again before the continuation, so that the two read as one."""
    blocks = BlockSplitter()
    blocks.feed(text)
    pending = blocks.pending()
    return pending if pending.strip() else ""


class ContinuedRenderer:
    """A markdown renderer whose first text is the answer's open block, then the continuation:
    so a continued sentence, list or code block is drawn as one. Nothing is drawn until the
    continuation's first text arrives."""

    def __init__(self, renderer: MarkdownRenderer, before: str):
        self.renderer = renderer
        self.before = before
        self.shows_reasoning = renderer.shows_reasoning

    def reasoning(self, delta: str) -> None:
        self.renderer.reasoning(delta)

    def text(self, delta: str) -> None:
        if self.before:
            delta, self.before = self.before + delta, ""
        self.renderer.text(delta)

    def finish(self, result: TurnResult) -> None:
        self.renderer.finish(result)
