"""A Workers AI server on 127.0.0.1 speaking reference/workers-ai.md byte for byte.

It checks the account, the token and the model the way Cloudflare does (10000, 7003, 5007, 5028),
answers `/ai/run/{model}` with a streamed or enveloped answer, and plays scripted replies (error
envelopes, 429 with Retry-After, split reads, a cut connection, a stall) in order. Every request is
recorded.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.servers.scripted import Recorded, Reply, ScriptedServer, error_envelope, sse

__all__ = ["Recorded", "Reply", "WorkersAIServer", "error_envelope", "sse"]

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "cf-test-token-Zx9vQ2mN8pL4kJ7hG3fD"
DEFAULT_MODEL = "@hf/thebloke/mistral-7b-instruct-v0.1-awq"
RETIRED_MODEL = "@hf/thebloke/llama-2-13b-chat-awq"
RETIRED_MESSAGE = (
    "This model was deprecated on 2025-10-01. Please use an alternative model: "
    "https://developers.cloudflare.com/workers-ai/models/"
)
DEFAULT_TOKENS = ("Hello", ",", " world", "!")
DEFAULT_USAGE = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}


def token_events(tokens: tuple[str, ...] | list[str], usage: dict[str, int] | None = None) -> list:
    events: list[Any] = [{"response": token, "p": "abdefgh"} for token in tokens]
    if usage is not None:
        events.append({"response": "", "usage": usage})
    return events


def envelope(result: Any) -> bytes:
    return json.dumps({"result": result, "success": True, "errors": [], "messages": []}).encode()


def catalogue_entry(name: str, description: str, context_window: int | None = None) -> dict:
    properties = []
    if context_window is not None:
        properties.append({"property_id": "context_window", "value": str(context_window)})
    return {
        "id": f"id-{name}",
        "name": name,
        "description": description,
        "task": {"id": "task-text-generation", "name": "Text Generation"},
        "properties": properties,
    }


DEFAULT_CATALOGUE = [
    catalogue_entry(DEFAULT_MODEL, "Mistral 7B Instruct v0.1, AWQ-quantised.", 4096),
    catalogue_entry("@cf/meta/llama-3.1-8b-instruct", "Meta's Llama 3.1 8B Instruct.", 7968),
    *(catalogue_entry(f"@cf/test/model-{i:02d}", f"Test model {i}.") for i in range(1, 59)),
]  # 60 models: two pages of 50


class WorkersAIServer(ScriptedServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: tuple[str, ...] = DEFAULT_TOKENS
        self.catalogue: list[dict] = list(DEFAULT_CATALOGUE)
        self.token_status = "active"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    @property
    def gateway_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gateway/v1"

    @property
    def run_requests(self) -> list[Recorded]:
        return [r for r in self.requests if "/ai/run/" in r.path or "/workers-ai/" in r.path]

    @property
    def last_body(self) -> Any:
        return self.run_requests[-1].body

    def answer_get(self, path: str, headers: Any) -> Reply:
        """The token check and the model catalogue (paged), as the v4 API answers them."""
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            if parts.path == "/client/v4/user/tokens/verify":
                return Reply.error(401, 1000, "Invalid API Token")
            return Reply.error(401, 10000, "Authentication error")
        if parts.path == "/client/v4/user/tokens/verify":
            return Reply.json(envelope({"id": "token-id", "status": self.token_status}))
        if parts.path == f"/client/v4/accounts/{ACCOUNT}/ai/models/search":
            if self.replies:
                return self.replies.popleft()
            models = [
                m
                for m in self.catalogue
                if m["task"]["name"] == query.get("task", m["task"]["name"])
            ]
            size, page = int(query.get("per_page", 20)), int(query.get("page", 1))
            return Reply.json(envelope(models[(page - 1) * size : page * size]))
        return Reply.error(404, 7003, "Could not route to " + parts.path)

    def answer(self, path: str, headers: Any, body: Any) -> Reply:
        """Check account, token and model as Workers AI does, then play the next scripted reply."""
        prefix = f"/client/v4/accounts/{ACCOUNT}/ai/run/"
        gateway = re.fullmatch(rf"/gateway/v1/{ACCOUNT}/[^/]+/workers-ai/(.+)", path)
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return Reply.error(401, 10000, "Authentication error")
        if path.startswith(prefix):
            model = path[len(prefix) :]
        elif gateway:
            model = gateway.group(1)
        else:
            return Reply.error(404, 7003, "Could not route to " + path)
        if model == RETIRED_MODEL:
            return Reply.error(400, 5028, RETIRED_MESSAGE)
        if model != DEFAULT_MODEL:
            return Reply.error(400, 5007, f"No such model {model} or task")
        if self.replies:
            return self.replies.popleft()
        if isinstance(body, dict) and body.get("stream"):
            return Reply.stream(sse(*token_events(self.tokens, DEFAULT_USAGE)))
        return Reply.json(envelope({"response": "".join(self.tokens), "usage": DEFAULT_USAGE}))
