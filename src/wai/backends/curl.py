"""`--show-request`: an HttpCall as the equivalent curl command, with the secret left out.

Safe to paste: every value is single-quoted (or bare when it holds nothing a shell reads), so
no model id, message or URL can run a command; only the placeholders wai writes itself
($CLOUDFLARE_ACCOUNT_ID in a URL, the secret's variable) are left for the shell to expand."""

from __future__ import annotations

import json
import re
import shlex

from wai.backends.base import HttpCall

PLACEHOLDERS = ("CLOUDFLARE_ACCOUNT_ID",)  # what a URL may hold in place of a value
VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")
PLACEHOLDER = re.compile(r"\$(" + "|".join(PLACEHOLDERS) + r")(?![A-Za-z0-9_])")
DOUBLE_QUOTED_SPECIAL = re.compile(r'[$`\\"!]')


def _quote(text: str) -> str:
    """`text` for a shell, with wai's own $PLACEHOLDERS expanded and nothing else."""
    rest = PLACEHOLDER.sub("", text)
    if rest == text:
        return shlex.quote(text)
    if not DOUBLE_QUOTED_SPECIAL.search(rest):
        return f'"{text}"'  # the placeholder is the only thing the shell expands
    pieces, start = [], 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > start:
            pieces.append(shlex.quote(text[start : match.start()]))
        pieces.append(f'"${match.group(1)}"')
        start = match.end()
    if start < len(text):
        pieces.append(shlex.quote(text[start:]))
    return "".join(pieces)


def _authorization(variable: str) -> str:
    if VARIABLE.fullmatch(variable):
        return f"-H 'Authorization: Bearer '\"${variable}\""
    return f"-H {shlex.quote('Authorization: Bearer ')}{shlex.quote(variable)}"


def as_curl(call: HttpCall) -> str:
    streaming = bool(call.body and call.body.get("stream"))
    lines = [
        f"curl {'-sN' if streaming else '-s'} -X {shlex.quote(call.method)} {_quote(call.url)}"
    ]
    if call.auth_env:
        lines.append(_authorization(call.auth_env))
    lines.extend(f"-H {shlex.quote(f'{name}: {value}')}" for name, value in call.headers.items())
    if call.body is not None:
        lines.append(f"-d {shlex.quote(json.dumps(call.body, ensure_ascii=False))}")
    return " \\\n  ".join(lines)
