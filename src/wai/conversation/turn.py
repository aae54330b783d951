"""One turn: stream a request's events into a renderer and return what arrived, however it ended."""

from __future__ import annotations

import contextlib

from wai.backends.base import (
    Backend,
    Finish,
    Notice,
    ReasoningDelta,
    Request,
    TextDelta,
    TurnResult,
    Usage,
)
from wai.environment import Environment
from wai.errors import BackendError, WaiError
from wai.render import Renderer
from wai.render.markdown import THINKING
from wai.render.spinner import Spinner


def run_turn(
    backend: Backend, request: Request, renderer: Renderer, env: Environment
) -> TurnResult:
    """Stream one answer. An error or Ctrl-C (or SIGTERM, SIGHUP: `signals.Terminated`) ends
    it early: the result keeps what arrived, and the renderer is always finished, so the
    terminal is left clean; Ctrl-C while it finishes keeps the whole answer, as interrupted.
    An answer that ends with no text is an error (its reasoning, if any, is kept)."""
    parts: list[str] = []
    thoughts: list[str] = []
    usage: Usage | None = None
    reason: str | None = None
    error: WaiError | None = None
    reader_left: BrokenPipeError | None = None
    spinner = Spinner(env)
    spinner.start()
    try:
        with contextlib.closing(backend.stream(request)) as events:  # type: ignore[arg-type]
            for event in events:
                if isinstance(event, TextDelta):
                    if spinner.active:
                        spinner.stop()
                    parts.append(event.text)
                    renderer.text(event.text)
                elif isinstance(event, ReasoningDelta):
                    if not thoughts:
                        if renderer.shows_reasoning:
                            spinner.stop()
                        else:  # the wait goes on, for a known reason
                            spinner.set_message(THINKING)
                    thoughts.append(event.text)
                    renderer.reasoning(event.text)
                elif isinstance(event, Usage):
                    usage = event
                elif isinstance(event, Finish):
                    reason = event.reason
                elif isinstance(event, Notice):
                    waiting = spinner.active
                    spinner.stop()
                    env.notice(event.message)
                    if waiting and not (thoughts and renderer.shows_reasoning):
                        spinner.start()
    except KeyboardInterrupt:
        reason = "interrupted"
    except BrokenPipeError as gone:  # the reader left (`| head`): what arrived is still kept
        reason, reader_left = "interrupted", gone
    except WaiError as failure:
        reason, error = "error", failure
    finally:
        spinner.stop()
    # The line breaks around a model's thinking (`<think>\n…\n</think>`) are no part of it.
    text, reasoning = "".join(parts), "".join(thoughts).strip()
    reason = reason or "stop"
    if error is None and reason != "interrupted" and not text:
        error = no_text_error(reason, reasoning, request.params.get("max_tokens"))
    result = TurnResult(text, usage, reason, error, reasoning)
    try:
        renderer.finish(result)
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) while the last of it is drawn: all of the
        result = result._replace(finish_reason="interrupted")  # answer is kept, marked so
    except BrokenPipeError as gone:
        reader_left = reader_left or gone
    if reader_left is not None:
        raise ReaderLeft(result) from reader_left
    return result


class ReaderLeft(BrokenPipeError):
    """stdout's reader went away during the turn: `result` is what arrived, to be kept."""

    def __init__(self, result: TurnResult):
        super().__init__("the reader of the answer went away")
        self.result = result


def no_text_error(reason: str, reasoning: str, max_tokens: object) -> BackendError:
    """The error for an answer that ended with no text: cut while reasoning, or just empty."""
    if reason == "length":
        while_doing = "while the model was still reasoning" if reasoning else "before any text"
        return BackendError(
            f"the answer was cut at max_tokens ({max_tokens}) {while_doing}",
            hint="raise --max-tokens",
            repl_hint="raise it with /set max_tokens N",
        )
    return BackendError(
        "the model sent its reasoning but no answer"
        if reasoning
        else "the model sent an empty answer",
        hint="ask again, or raise --max-tokens",
        repl_hint="ask again, or raise max_tokens with /set max_tokens N",
    )
