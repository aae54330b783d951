"""Collect the answer and print one JSON object at the end; nothing else on stdout. The
reasoning, when there was some, goes in the object too."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from wai.backends.base import TurnResult
from wai.environment import Environment


class JsonRenderer:
    shows_reasoning = False

    def __init__(self, env: Environment, fields: Mapping[str, Any]):
        self.env = env
        self.fields = fields

    def reasoning(self, delta: str) -> None:
        pass  # the whole reasoning arrives with the result

    def text(self, delta: str) -> None:
        pass  # the whole text arrives with the result

    def finish(self, result: TurnResult) -> None:
        failed = result.error is not None or result.finish_reason == "error"
        if failed and not result.text and not result.reasoning:
            return  # nothing arrived (and nothing is saved): the error on stderr says it all
        document = {
            "response": result.text,
            "reasoning": result.reasoning or None,
            "model": self.fields.get("model"),
            "backend": self.fields.get("backend"),
            "usage": result.usage.as_dict() if result.usage else None,
            "finish_reason": result.finish_reason,
            "session": self.fields.get("session"),
        }
        self.env.write_out(json.dumps(document, ensure_ascii=False) + "\n")
