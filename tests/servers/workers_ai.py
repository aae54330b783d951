"""A Workers AI server on 127.0.0.1 speaking reference/workers-ai.md byte for byte.

It checks the account, the token and the model the way Cloudflare does (10000, 7003, 5007, 5028),
answers `/ai/run/{model}` with a streamed or enveloped answer, and plays scripted replies (error
envelopes, 429 with Retry-After, split reads, a cut connection, a stall) in order. Every request is
recorded.

Besides the seed model it knows the 2026 models of reference/workers-ai-models-2026.md and
answers each in its own dialect (see `models_2026`), and it serves the OpenAI-compatible
`/ai/v1/chat/completions` (also through the gateway's `workers-ai/v1/chat/completions`).
The catalogue (`/ai/models/search`, paged) carries the properties of reference §6, and
`/ai/models/schema?model=...` answers each catalogue model's input and output schemas.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.servers import models_2026 as m
from tests.servers.models_2026 import (
    GLM_47_FLASH,
    GPT_OSS_20B,
    GPT_OSS_120B,
    LLAMA4_SCOUT,
    NEMOTRON_3,
    QWEN3_30B,
    R1_DISTILL,
)
from tests.servers.scripted import Recorded, Reply, ScriptedServer, error_envelope, sse

__all__ = [
    "GLM_47_FLASH",
    "GPT_OSS_20B",
    "GPT_OSS_120B",
    "LLAMA4_SCOUT",
    "NEMOTRON_3",
    "QWEN3_30B",
    "R1_DISTILL",
    "Recorded",
    "Reply",
    "WorkersAIServer",
    "error_envelope",
    "sse",
]

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
KNOWN_MODELS = (DEFAULT_MODEL, *m.MODELS_2026)  # the models /ai/run and /ai/v1 answer
REASONING_FIELDS = {  # §2b: the models streaming chunks on /ai/run, and their reasoning delta
    QWEN3_30B: "reasoning_content",
    GLM_47_FLASH: "reasoning_content",
    NEMOTRON_3: "reasoning",
}
V1_PATH = f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"
V1_GATEWAY = re.compile(rf"/gateway/v1/{ACCOUNT}/[^/]+/workers-ai/v1/chat/completions")


def token_events(tokens: tuple[str, ...] | list[str], usage: dict[str, int] | None = None) -> list:
    events: list[Any] = [{"response": token, "p": "abdefgh"} for token in tokens]
    if usage is not None:
        events.append({"response": "", "usage": usage})
    return events


def envelope(result: Any) -> bytes:
    return json.dumps({"result": result, "success": True, "errors": [], "messages": []}).encode()


def catalogue_entry(
    name: str, description: str, context_window: int | None = None, **properties: Any
) -> dict:
    """A /ai/models/search item; `properties` are more of its properties (`price=[...]`), their
    values sent as given (strings, lists, objects: the API mixes them)."""
    listed = []
    if context_window is not None:
        listed.append({"property_id": "context_window", "value": str(context_window)})
    listed += [{"property_id": key, "value": value} for key, value in properties.items()]
    return {
        "id": f"id-{name}",
        "name": name,
        "description": description,
        "task": {"id": "task-text-generation", "name": "Text Generation"},
        "properties": listed,
    }


GPT_OSS_DESCRIPTION = (
    "OpenAI's open-weight models designed for powerful reasoning, agentic tasks, and versatile "
    "developer use cases."
)
GPT_OSS_PRICE = [
    {"unit": "per M input tokens", "price": 0.35, "currency": "USD"},
    {"unit": "per M output tokens", "price": 0.75, "currency": "USD"},
]
RETIRING_MODEL = "@cf/meta/llama-3-8b-instruct"
RETIRING_DATE = "2027-03-31"
GLM_53_FLASH = "@cf/zai-org/glm-5.3-flash"  # the catalogue's too-large context window (§6)

# The last four of page 2 are the catalogue's properties as reference §6 shows them: gpt-oss
# (reasoning, tools, a price list, a reasoning_effort object), Llama 4 Scout (tools, its price as
# a JSON text), a model with a planned retirement, and glm-5.3-flash's 1310720 tokens.
CATALOGUE_2026 = [
    catalogue_entry(
        GPT_OSS_120B,
        GPT_OSS_DESCRIPTION,
        128000,
        async_queue="true",
        price=GPT_OSS_PRICE,
        function_calling="true",
        reasoning="true",
        reasoning_effort={
            "supported_efforts": ["low", "medium", "high"],
            "default_effort": "medium",
            "mandatory": True,
            "default_enabled": True,
        },
    ),
    catalogue_entry(
        LLAMA4_SCOUT,
        "Meta's Llama 4 Scout is a 17 billion parameter model with 16 experts.",
        131000,
        function_calling="true",
        price=json.dumps(
            [
                {"unit": "per M input tokens", "price": 0.27, "currency": "USD"},
                {"unit": "per M output tokens", "price": 0.85, "currency": "USD"},
            ]
        ),
    ),
    catalogue_entry(
        RETIRING_MODEL,
        "Meta Llama 3 8B Instruct.",
        7968,
        planned_deprecation_date=RETIRING_DATE,
    ),
    catalogue_entry(
        GLM_53_FLASH,
        "GLM-5.3-Flash, a fast reasoning model from Z.ai.",
        1310720,
        reasoning="true",
        function_calling="true",
    ),
]

DEFAULT_CATALOGUE = [
    catalogue_entry(DEFAULT_MODEL, "Mistral 7B Instruct v0.1, AWQ-quantised.", 4096),
    catalogue_entry("@cf/meta/llama-3.1-8b-instruct", "Meta's Llama 3.1 8B Instruct.", 7968),
    *(catalogue_entry(f"@cf/test/model-{i:02d}", f"Test model {i}.") for i in range(1, 55)),
    *CATALOGUE_2026,
]  # 60 models: two pages of 50

# /ai/models/schema: the seed model's input is tests/data's schema; gpt-oss's has descriptions and
# two branches, as Cloudflare's do; the other catalogue models get CHAT_SCHEMA.
SEED_INPUT = json.loads(
    (Path(__file__).parents[1] / "data" / "cloudflare-input.schema.json").read_text()
)
CHAT_OUTPUT = {
    "type": "object",
    "contentType": "application/json",
    "properties": {
        "response": {"type": "string", "description": "The generated text response from the model"},
        "usage": {"type": "object", "description": "Usage statistics for the inference request"},
    },
}
GPT_OSS_INPUT = {
    "type": "object",
    "title": "GPT_OSS_Input",
    "oneOf": [
        {
            "title": "Responses",
            "required": ["input"],
            "properties": {
                "input": {
                    "anyOf": [{"type": "string"}, {"type": "array", "items": {}}],
                    "description": "Responses API input: a text or a list of messages.",
                },
                "reasoning": {
                    "type": "object",
                    "description": "How hard the model thinks before answering.",
                    "properties": {
                        "effort": {"type": "string", "enum": ["low", "medium", "high"]},
                    },
                },
            },
        },
        {
            "title": "Chat Completions",
            "required": ["messages"],
            "properties": {
                "messages": {
                    "type": "array",
                    "description": "The conversation, oldest message first.",
                    "items": {"type": "object"},
                },
                "max_tokens": {
                    "type": "integer",
                    "description": "The most tokens to generate.",
                },
                "temperature": {
                    "type": "number",
                    "default": 1,
                    "minimum": 0,
                    "maximum": 2,
                    "description": "Sampling temperature:   higher is more random.",
                },
                "reasoning_effort": {
                    "type": "string",
                    "enum": ["low", "medium", "high"],
                    "default": "medium",
                    "description": "Constrains effort on reasoning.",
                },
            },
        },
    ],
}
CHAT_INPUT = {
    "type": "object",
    "properties": {
        "messages": {"type": "array", "items": {"type": "object"}},
        "max_tokens": {"type": "integer", "default": 256},
    },
    "required": ["messages"],
}


class WorkersAIServer(ScriptedServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: tuple[str, ...] = DEFAULT_TOKENS
        self.catalogue: list[dict] = list(DEFAULT_CATALOGUE)
        # /ai/models/schema's results by model; a catalogue model not here gets CHAT_INPUT.
        self.schemas: dict[str, dict] = {
            DEFAULT_MODEL: {"input": SEED_INPUT, "output": CHAT_OUTPUT},
            GPT_OSS_120B: {"input": GPT_OSS_INPUT, "output": CHAT_OUTPUT},
        }
        self.token_status = "active"
        self.models: list[str] = list(KNOWN_MODELS)
        # The default answers of the 2026 models: None keeps each dialect's reference texts.
        self.reasoning_pieces: tuple[str, ...] | None = None
        self.answer_pieces: tuple[str, ...] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    @property
    def gateway_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gateway/v1"

    @property
    def run_requests(self) -> list[Recorded]:
        """The requests to /ai/run/{model} and the gateway's workers-ai/{model}: native bodies
        only, never those to /ai/v1/chat/completions."""
        return [
            r
            for r in self.requests
            if ("/ai/run/" in r.path or "/workers-ai/" in r.path) and not _is_v1(r.path)
        ]

    @property
    def v1_requests(self) -> list[Recorded]:
        """The requests to /ai/v1/chat/completions (directly or through the gateway)."""
        return [r for r in self.requests if _is_v1(r.path)]

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
                entry
                for entry in self.catalogue
                if entry["task"]["name"] == query.get("task", entry["task"]["name"])
            ]
            size, page = int(query.get("per_page", 20)), int(query.get("page", 1))
            return Reply.json(envelope(models[(page - 1) * size : page * size]))
        if parts.path == f"/client/v4/accounts/{ACCOUNT}/ai/models/schema":
            return self._schema(query.get("model", ""))
        return Reply.error(404, 7003, "Could not route to " + parts.path)

    def _schema(self, model: str) -> Reply:
        """A model's input and output schemas; a model the catalogue does not have is 5007
        with HTTP 400, as /ai/run refuses it (Cloudflare's error table: "No such model")."""
        if self.replies:
            return self.replies.popleft()
        if model in self.schemas:
            return Reply.json(envelope(self.schemas[model]))
        if any(entry["name"] == model for entry in self.catalogue):
            return Reply.json(envelope({"input": CHAT_INPUT, "output": CHAT_OUTPUT}))
        return Reply.error(400, 5007, f"No such model {model} or task")

    def answer(self, path: str, headers: Any, body: Any) -> Reply:
        """Check account, token and model as Workers AI does, then play the next scripted reply,
        or else answer in the model's own dialect."""
        prefix = f"/client/v4/accounts/{ACCOUNT}/ai/run/"
        gateway = re.fullmatch(rf"/gateway/v1/{ACCOUNT}/[^/]+/workers-ai/(.+)", path)
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return Reply.error(401, 10000, "Authentication error")
        if path == V1_PATH or V1_GATEWAY.fullmatch(path):
            return self.answer_v1(body)
        if path.startswith(prefix):
            model = path[len(prefix) :]
        elif gateway:
            model = gateway.group(1)
        else:
            return Reply.error(404, 7003, "Could not route to " + path)
        refused = self._refused(model)
        if refused is not None:
            return refused
        if self.replies:
            return self.replies.popleft()
        stream = isinstance(body, dict) and bool(body.get("stream"))
        if model in m.MODELS_2026:
            return self._answer_2026(model, body, stream)
        if stream:
            return Reply.stream(sse(*token_events(self.tokens, DEFAULT_USAGE)))
        return Reply.json(envelope({"response": "".join(self.tokens), "usage": DEFAULT_USAGE}))

    def answer_v1(self, body: Any) -> Reply:
        """/ai/v1/chat/completions: `model` in the body; chunks or a bare chat.completion."""
        model = body.get("model") if isinstance(body, dict) else None
        if not isinstance(model, str) or not model:
            return Reply.error(400, 5007, "No such model or task")
        refused = self._refused(model)
        if refused is not None:
            return refused
        if self.replies:
            return self.replies.popleft()
        stream = bool(body.get("stream"))
        if model in m.GPT_OSS_MODELS:
            reasoning, answer = self._texts(m.GPT_OSS_REASONING, m.GPT_OSS_ANSWER)
            if stream:
                return Reply.stream(m.stream_body(m.gpt_oss_chunks(reasoning, answer, model=model)))
            completion = m.chat_completion_body("".join(reasoning), "".join(answer), model=model)
            return Reply.json(json.dumps(completion).encode())
        if stream:
            chunks = m.llama_v1_chunks(self.tokens, DEFAULT_USAGE, model=model)
            return Reply.stream(m.stream_body(chunks))
        completion = m.chat_completion_body(None, "".join(self.tokens), DEFAULT_USAGE, model=model)
        return Reply.json(json.dumps(completion).encode())

    def _refused(self, model: str) -> Reply | None:
        if model == RETIRED_MODEL:
            return Reply.error(400, 5028, RETIRED_MESSAGE)
        if model not in self.models:
            return Reply.error(400, 5007, f"No such model {model} or task")
        return None

    def _texts(
        self, reasoning: tuple[str, ...], answer: tuple[str, ...]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """`reasoning` and `answer` unless a test set its own."""
        return (
            reasoning if self.reasoning_pieces is None else self.reasoning_pieces,
            answer if self.answer_pieces is None else self.answer_pieces,
        )

    def _answer_2026(self, model: str, body: Any, stream: bool) -> Reply:
        """A 2026 model's default answer on /ai/run, in its dialect (reference §2, §3)."""
        if model in m.GPT_OSS_MODELS:
            if stream:  # no streaming on /ai/run: JSON with an empty result
                return Reply.json(m.empty_result())
            if isinstance(body, dict) and "input" in body and "messages" not in body:
                reasoning, answer = self._texts((m.RESPONSES_REASONING,), (m.RESPONSES_TEXT,))
                return Reply.json(envelope(m.responses_body("".join(reasoning), "".join(answer))))
            reasoning, answer = self._texts(m.GPT_OSS_REASONING, m.GPT_OSS_ANSWER)
            completion = m.chat_completion_body("".join(reasoning), "".join(answer), model=model)
            return Reply.json(envelope(completion))
        if model in REASONING_FIELDS:
            field = REASONING_FIELDS[model]
            reasoning, answer = self._texts(m.REASONING, m.ANSWER)
            if stream:
                chunks = m.reasoning_chunks(reasoning, answer, model=model, field=field)
                return Reply.stream(m.stream_body(chunks))
            completion = m.chat_completion_body(
                "".join(reasoning),
                "".join(answer),
                m.reasoning_usage(reasoning, answer),
                model=model,
                field=field,
            )
            return Reply.json(envelope(completion))
        if model == R1_DISTILL:
            reasoning, answer = self._texts(m.THINK_REASONING, m.THINK_ANSWER)
            if stream:
                return Reply.stream(m.stream_body(m.think_events(reasoning, answer)))
            text = "".join(m.think_text(reasoning, answer))
            return Reply.json(envelope({"response": text, "usage": m.THINK_USAGE}))
        if model == LLAMA4_SCOUT:
            _, answer = self._texts((), m.SCOUT_TOKENS)
            if stream:
                return Reply.stream(m.stream_body(m.scout_events(answer)))
            return Reply.json(envelope(m.scout_result(answer)))
        raise AssertionError(f"no default answer for {model}")


def _is_v1(path: str) -> bool:
    """Whether `path` is an /ai/v1/chat/completions request (any account, any gateway)."""
    return path.endswith("/v1/chat/completions") and (
        "/ai/v1/" in path or "/workers-ai/v1/" in path
    )
