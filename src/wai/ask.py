"""The one-shot: read the prompt, open its conversation, send one turn, report usage."""

from __future__ import annotations

from typing import NamedTuple

from wai.backends.base import Usage
from wai.env import Environment
from wai.errors import UsageError
from wai.settings import Options


class AskOptions(NamedTuple):
    raw: bool = False
    stream: bool = True
    as_json: bool = False
    markdown: bool | None = None
    show_request: bool = False
    show_usage: bool = False
    session: str | None = None
    resume_last: bool = False
    save: bool = True


def run_ask(env: Environment, words: list[str], options: Options, ask: AskOptions) -> None:
    from wai.conversation import Conversation
    from wai.inputs import read_prompt

    if ask.raw and options.system is not None:
        raise UsageError("--system cannot be used with --raw: write it into the prompt")
    if options.params.get("lora") and not ask.raw:
        raise UsageError("--lora works only with --raw (Workers AI takes LoRA with a prompt)")
    if ask.session and ask.resume_last:
        raise UsageError("--session and --continue cannot be used together")
    prompt = read_prompt(words, env)
    conversation = Conversation.open(
        env,
        options,
        name=ask.session,
        resume_last=ask.resume_last,
        save=None if ask.save and not ask.show_request else False,
        first_words=prompt,
    )
    if ask.show_request:
        from wai.curl import as_curl

        request = conversation.request_for(prompt, raw=ask.raw, stream=ask.stream)
        env.write_out(as_curl(conversation.backend.prepare(request)) + "\n")
        return

    from wai.render import choose_renderer

    fields = {
        "model": conversation.backend.model,
        "backend": conversation.backend.name,
        "session": conversation.session.name if conversation.save else None,
    }
    renderer = choose_renderer(
        env, as_json=fields if ask.as_json else None, markdown=ask.markdown, raw=ask.raw
    )
    result = conversation.send(prompt, renderer, raw=ask.raw, stream=ask.stream)
    if ask.show_usage:
        env.notice(describe_usage(result.usage))
    if result.error is not None:
        raise result.error
    if result.finish_reason == "interrupted":
        raise KeyboardInterrupt


def describe_usage(usage: Usage | None) -> str:
    if usage is None:
        return "usage: the backend reported no token counts"
    parts = [
        f"{usage.prompt_tokens if usage.prompt_tokens is not None else '?'} prompt",
        f"{usage.completion_tokens if usage.completion_tokens is not None else '?'} completion",
    ]
    total = usage.total_tokens
    return f"usage: {' + '.join(parts)} = {total if total is not None else '?'} tokens"
