"""`--show-request`: an HttpCall as the equivalent curl command, with the secret left out."""

from __future__ import annotations

import json
import shlex

from wai.backends.base import HttpCall


def _quote(text: str) -> str:
    if "$" in text and '"' not in text and "`" not in text and "\\" not in text:
        return f'"{text}"'  # let the shell expand $VARIABLE placeholders
    return shlex.quote(text)


def as_curl(call: HttpCall) -> str:
    streaming = bool(call.body and call.body.get("stream"))
    lines = [f"curl {'-sN' if streaming else '-s'} -X {call.method} {_quote(call.url)}"]
    if call.auth_env:
        lines.append(f'-H "Authorization: Bearer ${call.auth_env}"')
    lines.extend(f"-H {shlex.quote(f'{name}: {value}')}" for name, value in call.headers.items())
    if call.body is not None:
        lines.append(f"-d {shlex.quote(json.dumps(call.body, ensure_ascii=False))}")
    return " \\\n  ".join(lines)
