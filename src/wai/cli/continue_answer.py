"""`wai ask --continue-answer`: resume a session's last answer, interrupted or cut at max_tokens,
instead of asking a new question."""

from wai.environment import Environment
from wai.errors import UsageError
from wai.settings import Overrides


def run_continue(
    env: Environment,
    words: list[str],
    overrides: Overrides,
    *,
    raw: bool,
    stream: bool,
    as_json: bool,
    structured: bool,
    markdown: bool | None,
    show_request: bool,
    show_usage: bool,
    session: str | None,
    resume_last: bool,
    save: bool,
) -> None:
    """Continue the last answer of the session `-c` or `--session` names: stdout gets only the
    new text (or, with `as_json`, its fields), and the session that answer grown by it."""
    from wai.backends.curl import as_curl
    from wai.cli.ask import answer_fields, settle
    from wai.conversation import Conversation
    from wai.conversation.store import SessionStore, check_name
    from wai.render import choose_renderer
    from wai.settings.file import load_config

    if words:
        raise UsageError(
            "--continue-answer takes no prompt: it resumes the last answer",
            hint="leave the words out, or drop --continue-answer to ask a new question",
        )
    if not (session or resume_last):
        raise UsageError(
            "--continue-answer needs the session whose answer to resume",
            hint="add -c (the most recent session) or --session NAME",
        )
    if session and resume_last:
        raise UsageError("--session and --continue cannot be used together")
    for given, flag in (
        (raw, "--raw"),
        (structured, "--json-mode and --schema"),
        (overrides.system is not None, "--system"),
        (overrides.role is not None, "--role"),
    ):
        if given:
            raise UsageError(f"{flag} cannot be used with --continue-answer")
    if session:
        SessionStore().existing(check_name(session))  # an unknown name is an error, not a new one
    conversation = Conversation.open(
        env,
        overrides,
        load_config(),
        name=session,
        resume_last=resume_last,
        persistent=save and not show_request,
    )
    if show_request:
        request = conversation.continuation_request(stream=stream)
        env.write_out(as_curl(conversation.backend.prepare(request)) + "\n")
        return
    fields = answer_fields(conversation)
    renderer = choose_renderer(
        env,
        as_json=fields if as_json else None,
        markdown=markdown,
        reasoning=conversation.settings.reasoning,
    )
    result = conversation.continue_answer(renderer, stream=stream)
    settle(env, result, show_usage=show_usage)
