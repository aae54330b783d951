"""Where a one-shot prompt comes from: the words, stdin, or both (stdin first)."""

from __future__ import annotations

from wai.env import Environment
from wai.errors import UsageError


def read_stdin(env: Environment) -> str:
    """All of stdin as text; invalid UTF-8 is replaced, with a warning."""
    stream = getattr(env.stdin, "buffer", env.stdin)
    data = stream.read()
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        env.notice("warning: stdin is not valid UTF-8; undecodable bytes were replaced with �")
        return data.decode("utf-8", errors="replace")


def read_prompt(words: list[str], env: Environment) -> str:
    """The prompt of `wai ask`: piped stdin, a blank line, then the words joined by spaces."""
    stdin_only = words == ["-"]
    text = "" if stdin_only else " ".join(words)
    piped = ""
    if stdin_only or not env.stdin_isatty:
        piped = read_stdin(env).rstrip("\r\n")
        if not piped.strip():
            piped = ""  # an empty stdin (</dev/null, cron) counts as none
    prompt = f"{piped}\n\n{text}" if piped and text.strip() else piped or text
    if not prompt.strip():
        raise UsageError(
            "nothing to ask",
            hint='give a prompt (`wai ask "why is the sky blue?"`) or pipe text in',
        )
    return prompt
