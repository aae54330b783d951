"""One turn: build the request, stream its events into a renderer, and return what arrived."""

from __future__ import annotations

import contextlib

from wai.backends.base import Backend, Finish, Notice, Request, TextDelta, Usage
from wai.context import fit_max_tokens
from wai.env import Environment
from wai.errors import WaiError
from wai.render import Renderer
from wai.render.spinner import Spinner
from wai.settings import Settings
from wai.turn_result import TurnResult


def build_request(settings: Settings, prompt: str, *, raw: bool, stream: bool) -> Request:
    """A scoped request (system message, then the prompt) or, with `raw`, the prompt as is."""
    params = dict(settings.params)
    if raw:
        texts = [prompt]
        messages: tuple[dict[str, str], ...] = ()
    else:
        system = [{"role": "system", "content": settings.system}] if settings.system else []
        messages = (*system, {"role": "user", "content": prompt})
        texts = [message["content"] for message in messages]
    params["max_tokens"] = fit_max_tokens(
        texts,
        settings.backend.context_window,
        int(params["max_tokens"]),
        settings.max_tokens_given,
        settings.backend.model,
    )
    if raw:
        return Request(prompt=prompt, params=params, stream=stream)
    return Request(messages=messages, params=params, stream=stream)


def run_turn(
    backend: Backend, request: Request, renderer: Renderer, env: Environment
) -> TurnResult:
    """Stream one answer. On an error or Ctrl-C the renderer still gets what arrived first."""
    parts: list[str] = []
    usage: Usage | None = None
    reason: str | None = None
    spinner = Spinner(env)
    spinner.start()

    def result(finish_reason: str) -> TurnResult:
        return TurnResult("".join(parts), usage, finish_reason)

    try:
        with contextlib.closing(backend.stream(request)) as events:  # type: ignore[arg-type]
            for event in events:
                if isinstance(event, TextDelta):
                    if spinner.status is not None:
                        spinner.stop()
                    parts.append(event.text)
                    renderer.text(event.text)
                elif isinstance(event, Usage):
                    usage = event
                elif isinstance(event, Finish):
                    reason = event.reason
                elif isinstance(event, Notice):
                    waiting = spinner.status is not None
                    spinner.stop()
                    env.notice(event.message)
                    if waiting:
                        spinner.start()
    except KeyboardInterrupt:
        spinner.stop()
        renderer.finish(result("interrupted"))
        raise
    except WaiError:
        spinner.stop()
        renderer.finish(result("error"))
        raise
    spinner.stop()
    finished = result(reason or "stop")
    renderer.finish(finished)
    return finished
