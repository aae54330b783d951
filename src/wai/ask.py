"""The one-shot: read the prompt, resolve settings, send one turn, report usage."""

from __future__ import annotations

from dataclasses import dataclass

from wai.backends.base import Usage
from wai.env import Environment
from wai.errors import UsageError
from wai.settings import Options


@dataclass(frozen=True)
class AskOptions:
    raw: bool = False
    stream: bool = True
    as_json: bool = False
    markdown: bool | None = None
    show_request: bool = False
    show_usage: bool = False


def run_ask(env: Environment, words: list[str], options: Options, ask: AskOptions) -> None:
    from wai.backends import make_backend
    from wai.config import load_config
    from wai.inputs import read_prompt
    from wai.settings import resolve
    from wai.turn import build_request, run_turn

    settings = resolve(options, load_config(), env.environ)
    env.add_secret(settings.backend.api_token)
    if ask.raw and options.system is not None:
        raise UsageError("--system cannot be used with --raw: write it into the prompt")
    if options.params.get("lora") and not ask.raw:
        raise UsageError("--lora works only with --raw (Workers AI takes LoRA with a prompt)")
    prompt = read_prompt(words, env)
    backend = make_backend(settings)
    request = build_request(settings, prompt, raw=ask.raw, stream=ask.stream)

    if ask.show_request:
        from wai.curl import as_curl

        env.write_out(as_curl(backend.prepare(request)) + "\n")
        return

    from wai.render import choose_renderer

    fields = {"model": backend.model, "backend": backend.name, "session": None}
    renderer = choose_renderer(
        env, as_json=fields if ask.as_json else None, markdown=ask.markdown, raw=ask.raw
    )
    result = run_turn(backend, request, renderer, env)
    if ask.show_usage:
        env.notice(describe_usage(result.usage))


def describe_usage(usage: Usage | None) -> str:
    if usage is None:
        return "usage: the backend reported no token counts"
    parts = [
        f"{usage.prompt_tokens if usage.prompt_tokens is not None else '?'} prompt",
        f"{usage.completion_tokens if usage.completion_tokens is not None else '?'} completion",
    ]
    total = usage.total_tokens
    return f"usage: {' + '.join(parts)} = {total if total is not None else '?'} tokens"
