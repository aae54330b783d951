"""An OpenAI-compatible server on 127.0.0.1, answering what llama.cpp, vLLM and Ollama send.

`GET /v1/models` lists the loaded models (with llama.cpp's `meta` when `meta` is set, and
llama.cpp's `GET /props` when `props` is); `POST /v1/chat/completions` (messages) and
`POST /v1/completions` (a prompt) answer as `chat.completion.chunk` / `text_completion` events
ending with `data: [DONE]` (with a final usage chunk, `choices: []`, when
`stream_options.include_usage` is true), or as one JSON object when not streaming. It checks an
optional API key (401), the model (404) and the request's shape (400) the way those servers do,
and plays scripted replies (error objects, an error event mid-stream, a cut stream, an empty 200)
in order. Every request is recorded.

With `reasoning` set it thinks aloud as llama.cpp does (`delta.reasoning_content` chunks before the
content, `message.reasoning_content`) or, with `reasoning_field = "reasoning"`, as Ollama does
(`delta.reasoning`, `message.reasoning`), and its usage counts them in
`completion_tokens_details.reasoning_tokens`. Inline `<think>…</think>` (llama.cpp with
`--reasoning-format none`) is just `tokens`: see `inline_think_tokens`.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from typing import Any

from tests.servers.scripted import Recorded, Reply, ScriptedServer, sse

MODELS = ("qwen2.5-0.5b-instruct-q4_k_m", "smollm2-135m-instruct-q8_0")
OWNER = "llamacpp"
CREATED = 1_717_171_717
DEFAULT_TOKENS = ("Hello", ",", " world", "!")
DEFAULT_USAGE = {"prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25}
CHAT_PATH = "/v1/chat/completions"
COMPLETIONS_PATH = "/v1/completions"
MODELS_PATH = "/v1/models"
PROPS_PATH = "/props"  # llama.cpp's, at the server's root


def error_body(
    message: str, type: str = "invalid_request_error", code: int | str | None = None
) -> bytes:
    """OpenAI's error object: `{"error": {"message", "type", "param", "code"}}`."""
    return json.dumps(
        {"error": {"message": message, "type": type, "param": None, "code": code}}
    ).encode()


def error_reply(
    status: int,
    message: str,
    type: str = "invalid_request_error",
    code: int | str | None = None,
    **kwargs: Any,
) -> Reply:
    return Reply.json(error_body(message, type, code), status=status, **kwargs)


def chat_chunk(
    content: str | None = None,
    finish_reason: str | None = None,
    *,
    role: bool = False,
    model: str = MODELS[0],
    reasoning: str | None = None,
    reasoning_field: str = "reasoning_content",
) -> dict[str, Any]:
    """A `chat.completion.chunk`; `role=True` is llama.cpp's first chunk (role, content null).
    `reasoning` is a piece of thinking: llama.cpp's delta is `{"reasoning_content": piece}`,
    Ollama's (`reasoning_field="reasoning"`) `{"role": "assistant", "content": "", "reasoning":
    piece}`."""
    delta: dict[str, Any] = {"role": "assistant", "content": None} if role else {}
    if reasoning is not None:
        if reasoning_field == "reasoning":
            delta.update({"role": "assistant", "content": ""})
        delta[reasoning_field] = reasoning
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-7Fq2",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "b4820-6e1531ad",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def text_chunk(
    text: str, finish_reason: str | None = None, *, model: str = MODELS[0]
) -> dict[str, Any]:
    """A streamed `text_completion` event of /v1/completions."""
    return {
        "id": "cmpl-3Kd9",
        "object": "text_completion",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}],
    }


def usage_chunk(usage: dict[str, Any], *, model: str = MODELS[0]) -> dict[str, Any]:
    """The last chunk asked for with `stream_options.include_usage`: no choices, the usage."""
    return {
        "id": "chatcmpl-7Fq2",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "choices": [],
        "usage": usage,
    }


def chat_events(
    tokens: Sequence[str],
    usage: dict[str, Any] | None = None,
    finish_reason: str | None = "stop",
    *,
    model: str = MODELS[0],
    reasoning: Sequence[str] = (),
    reasoning_field: str = "reasoning_content",
) -> list[dict[str, Any]]:
    """A chat answer's events: the role, one per reasoning piece, one per token, the finish
    reason, then the usage."""
    events = [chat_chunk(role=True, model=model)]
    events += [
        chat_chunk(reasoning=piece, reasoning_field=reasoning_field, model=model)
        for piece in reasoning
    ]
    events += [chat_chunk(token, model=model) for token in tokens]
    if finish_reason is not None:
        events.append(chat_chunk(finish_reason=finish_reason, model=model))
    if usage is not None:
        events.append(usage_chunk(usage, model=model))
    return events


def text_events(
    tokens: Sequence[str],
    usage: dict[str, int] | None = None,
    finish_reason: str | None = "stop",
    *,
    model: str = MODELS[0],
) -> list[dict[str, Any]]:
    """A /v1/completions answer's events: one per token, the finish reason, then the usage."""
    events = [text_chunk(token, model=model) for token in tokens]
    if finish_reason is not None:
        events.append(text_chunk("", finish_reason, model=model))
    if usage is not None:
        events.append({**usage_chunk(usage, model=model), "object": "text_completion"})
    return events


def chat_completion(
    content: str,
    usage: dict[str, Any] | None = None,
    finish_reason: str = "stop",
    *,
    model: str = MODELS[0],
    reasoning: str | None = None,
    reasoning_field: str = "reasoning_content",
) -> bytes:
    """A whole (not streamed) `chat.completion`; `reasoning` goes in `message[reasoning_field]`
    after `content` (llama.cpp: "reasoning_content", Ollama: "reasoning")."""
    message = {"role": "assistant", "content": content}
    if reasoning is not None:
        message[reasoning_field] = reasoning
    document: dict[str, Any] = {
        "id": "chatcmpl-7Fq2",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage is not None:
        document["usage"] = usage
    return json.dumps(document).encode()


def inline_think_tokens(
    reasoning: Sequence[str], answer: Sequence[str], *, opening: bool = True
) -> tuple[str, ...]:
    """Tokens with the thinking inline in `content`, as llama.cpp sends it with
    `--reasoning-format none`: `<think>`, the reasoning, `</think>`, a blank line, the answer
    (`opening=False` leaves out `<think>`, as DeepSeek R1 distills do)."""
    return (
        *(("<think>",) if opening else ()),
        *reasoning,
        "</think>",
        "\n\n",
        *answer,
    )


def text_completion(
    text: str,
    usage: dict[str, int] | None = None,
    finish_reason: str = "stop",
    *,
    model: str = MODELS[0],
) -> bytes:
    """A whole (not streamed) `text_completion`."""
    document: dict[str, Any] = {
        "id": "cmpl-3Kd9",
        "object": "text_completion",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}],
    }
    if usage is not None:
        document["usage"] = usage
    return json.dumps(document).encode()


def error_event(message: str, type: str = "server_error", code: int | None = 500) -> bytes:
    """An error sent as an SSE event in the middle of a stream (vLLM, Ollama)."""
    return b"data: " + error_body(message, type, code) + b"\n\n"


def models_document(
    models: Sequence[str], owner: str = OWNER, meta: dict[str, Any] | None = None
) -> bytes:
    """The /v1/models list; `meta` is what llama.cpp adds to each entry (`n_ctx_train`, ...)."""
    entries = [
        {"id": model, "object": "model", "created": CREATED, "owned_by": owner} for model in models
    ]
    if meta is not None:
        entries = [{**entry, "meta": meta} for entry in entries]
    return json.dumps({"object": "list", "data": entries}).encode()


def llama_meta(n_ctx_train: int) -> dict[str, Any]:
    """llama.cpp's `meta` of a /v1/models entry."""
    return {
        "vocab_type": 2,
        "n_vocab": 151936,
        "n_ctx_train": n_ctx_train,
        "n_embd": 896,
        "n_params": 494032768,
        "size": 531068928,
    }


def llama_props(n_ctx: int) -> dict[str, Any]:
    """A part of llama.cpp's `GET /props`: the context the server was started with (-c)."""
    return {
        "default_generation_settings": {"n_ctx": n_ctx, "params": {"temperature": 0.8}},
        "total_slots": 1,
        "model_path": "/models/qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "build_info": "b4820-6e1531ad",
    }


class OpenAIServer(ScriptedServer):
    """Scripted replies in `replies` answer /chat/completions and /completions, those in
    `model_replies` answer /models; each only after the API key check (and, for the former,
    the model and shape checks) passed."""

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.models: list[str] = list(MODELS)
        self.tokens: tuple[str, ...] = DEFAULT_TOKENS
        self.usage: dict[str, int] = dict(DEFAULT_USAGE)
        self.reasoning: tuple[str, ...] = ()  # thinking sent before `tokens` on /chat/completions
        self.reasoning_field = "reasoning_content"  # llama.cpp; "reasoning" is Ollama's
        self.reasoning_tokens: int | None = None  # usage's count of them; None: len(reasoning)
        self.model_not_found = "model '{model}' not found"  # vLLM: "The model `{model}` ..."
        self.model_replies: deque[Reply] = deque()
        self.meta: dict[str, Any] | None = None  # llama.cpp's `meta` in each /v1/models entry
        self.props: dict[str, Any] | None = None  # llama.cpp's GET /props; None: 404

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def generation_requests(self) -> list[Recorded]:
        """The POSTs to /chat/completions and /completions, in order."""
        return [r for r in self.requests if r.path in (CHAT_PATH, COMPLETIONS_PATH)]

    @property
    def last_body(self) -> Any:
        return self.generation_requests[-1].body

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(method, path) of every request, in order."""
        return [(r.method, r.path) for r in self.requests]

    def _refused(self, headers: Any) -> Reply | None:
        if self.api_key is None or headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return error_reply(401, "Invalid API Key", code="invalid_api_key")

    def answer_get(self, path: str, headers: Any) -> Reply:
        refused = self._refused(headers)
        if refused is not None:
            return refused
        if path == PROPS_PATH and self.props is not None:
            return Reply.json(json.dumps(self.props).encode())
        if path != MODELS_PATH:
            return error_reply(404, "File Not Found", "not_found_error", 404)
        if self.model_replies:
            return self.model_replies.popleft()
        return Reply.json(models_document(self.models, meta=self.meta))

    def answer(self, path: str, headers: Any, body: Any) -> Reply:
        """Check the key, the route, the model and the body's shape, then play the next
        scripted reply, or else answer with `tokens` and `usage`."""
        refused = self._refused(headers)
        if refused is not None:
            return refused
        if path not in (CHAT_PATH, COMPLETIONS_PATH):
            return error_reply(404, "File Not Found", "not_found_error", 404)
        if not isinstance(body, dict):
            return error_reply(400, "the request body is not a JSON object")
        model = body.get("model")
        if model not in self.models:
            message = self.model_not_found.format(model=model)
            return error_reply(404, message, code="model_not_found")
        problem = _shape_problem(path, body)
        if problem is not None:
            return error_reply(400, problem)
        if self.replies:
            return self.replies.popleft()
        if path == COMPLETIONS_PATH:
            if body.get("stream"):
                text_usage = self.usage if _include_usage(body) else None
                return Reply.stream(sse(*text_events(self.tokens, text_usage, model=model)))
            return Reply.json(text_completion("".join(self.tokens), self.usage, model=model))
        usage: dict[str, Any] = self.usage
        if self.reasoning:
            count = len(self.reasoning) if self.reasoning_tokens is None else self.reasoning_tokens
            usage = {**usage, "completion_tokens_details": {"reasoning_tokens": count}}
        if body.get("stream"):
            events = chat_events(
                self.tokens,
                usage if _include_usage(body) else None,
                model=model,
                reasoning=self.reasoning,
                reasoning_field=self.reasoning_field,
            )
            return Reply.stream(sse(*events))
        reasoning = "".join(self.reasoning) if self.reasoning else None
        return Reply.json(
            chat_completion(
                "".join(self.tokens),
                usage,
                model=model,
                reasoning=reasoning,
                reasoning_field=self.reasoning_field,
            )
        )


def _include_usage(body: dict[str, Any]) -> bool:
    return (body.get("stream_options") or {}).get("include_usage") is True


def _shape_problem(path: str, body: dict[str, Any]) -> str | None:
    """What vLLM's request validation would refuse in `body`, if anything."""
    if path == CHAT_PATH:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty list"
        for message in messages:
            if not isinstance(message, dict) or set(message) != {"role", "content"}:
                return f"a message must have exactly 'role' and 'content': {message!r}"
            if message["role"] not in ("system", "user", "assistant"):
                return f"unknown role {message['role']!r}"
            if not isinstance(message["content"], str):
                return "'content' must be a string"
        if "prompt" in body:
            return "'prompt' is not a chat completions parameter"
    else:
        if not isinstance(body.get("prompt"), str):
            return "'prompt' must be a string"
        if "messages" in body:
            return "'messages' is not a completions parameter"
    if "stream" in body and not isinstance(body["stream"], bool):
        return "'stream' must be a boolean"
    if body.get("continue_final_message") is True:  # vLLM's checks of a continued answer
        if body.get("add_generation_prompt", True) is not False:
            return "Cannot set both `continue_final_message` and `add_generation_prompt` to True."
        if (body.get("messages") or [{}])[-1].get("role") != "assistant":
            return "continue_final_message is set but the final message is not the assistant's"
    if "stream_options" in body and body.get("stream") is not True:
        return "Stream options can only be defined when `stream=True`."
    return None
