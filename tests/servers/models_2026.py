"""Fixture builders for the Workers AI text models of 2026, shaped as
reference/workers-ai-models-2026.md shows them (sections 2, 3 and 7).

Streams are lists of event dicts; `stream_body(events)` turns them into the SSE bytes Cloudflare
sends (compact JSON, a blank line after each event, `data: [DONE]`). Whole answers are dicts: wrap
them in the `result` envelope for `/ai/run` (`workers_ai.envelope`), or send them bare for
`/ai/v1/chat/completions`. Texts and usage are parameters; the defaults are the reference's values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tests.servers.scripted import sse

GPT_OSS_120B = "@cf/openai/gpt-oss-120b"
GPT_OSS_20B = "@cf/openai/gpt-oss-20b"
QWEN3_30B = "@cf/qwen/qwen3-30b-a3b-fp8"
GLM_47_FLASH = "@cf/zai-org/glm-4.7-flash"
NEMOTRON_3 = "@cf/nvidia/nemotron-3-120b-a12b"
R1_DISTILL = "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b"
LLAMA4_SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
LLAMA_31_8B = "@cf/meta/llama-3.1-8b-instruct"  # the §2d recording with all-zero usage (retired)

GPT_OSS_MODELS = (GPT_OSS_120B, GPT_OSS_20B)
MODELS_2026 = (
    GPT_OSS_120B,
    GPT_OSS_20B,
    QWEN3_30B,
    GLM_47_FLASH,
    NEMOTRON_3,
    R1_DISTILL,
    LLAMA4_SCOUT,
)

# §2a: Llama 4 Scout's native events.
SCOUT_TOKENS = ("Hello", "!", " I am Llama 4 Scout")
SCOUT_USAGE = {"prompt_tokens": 42, "completion_tokens": 23, "total_tokens": 65}
SCOUT_PADDING = ("abdefghij", "abdef", "abdefghijklmnoprstuvxyz123")

# §2b: an OpenAI chunk stream on /ai/run (GLM, Qwen3, Nemotron …).
CHUNK_ID = "chatcmpl-edc8f3a91b6c4d2e8f07a5b3c1d9e246"
CHUNK_CREATED = 1751570976
REASONING = ("Okay", ", the")
ANSWER = ("A **cow** is",)
REASONING_PROMPT_TOKENS = 13
REASONING_COMPLETION_START = 3  # the first reasoning chunk's cumulative completion_tokens

# §2c: reasoning inline in `response`, closed by `</think>` (DeepSeek R1 distill).
THINK_REASONING = ("Okay, the user wants a number.",)
THINK_ANSWER = ("42",)
THINK_USAGE = {"prompt_tokens": 9, "completion_tokens": 31, "total_tokens": 40}
THINK_PADDING = ("abdefghijkl", "abd", "abdefgh")
THINK_OPEN = "<think>\n"
THINK_CLOSE = "\n</think>\n\n"

# §2d: gpt-oss on /ai/v1/chat/completions (recorded), and llama-3.1-8b's variant.
GPT_OSS_ID = "id-1778260814069"
GPT_OSS_CREATED = 1778260814
GPT_OSS_REASONING = ("Let me", " think", " step by step")
GPT_OSS_ANSWER = ("The answer", " is", " 42")
GPT_OSS_STREAM_USAGE = {"prompt_tokens": 136, "completion_tokens": 37, "total_tokens": 173}
GPT_OSS_STOP_REASONS = {"stop": 200002, "tool_calls": 200012}  # harmony <|return|>, <|call|>
LLAMA_TOKENS = ("Hello", ",", " world", "!")
LLAMA_USAGE = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}

# §3: whole answers.
EMPTY_RESULT = b'{"result": {}, "success": true, "errors": [], "messages": []}'
COMPLETION_ID = "chatcmpl-r3"
COMPLETION_CREATED = 1751560708
COMPLETION_REASONING = "Let me think step by step"
COMPLETION_CONTENT = "The answer is 42"
COMPLETION_USAGE = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
RESPONSES_ID = "resp_68925e3f1c6c8190a2b7e4d05f3c9a17"
RESPONSES_CREATED = 1754400000
RESPONSES_REASONING = "User wants a greeting."
RESPONSES_TEXT = "Hello!"
RESPONSES_USAGE = {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}


def compact(event: str | dict[str, Any]) -> str:
    """An event as Cloudflare writes it: JSON without spaces, UTF-8 as is."""
    if isinstance(event, str):
        return event
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def stream_body(events: Sequence[str | dict[str, Any]], *, done: bool = True) -> bytes:
    """The SSE bytes of `events` (compact JSON), ending with `data: [DONE]` unless not `done`."""
    return sse(*(compact(event) for event in events), done=done)


def _usage(prompt: int, completion: int) -> dict[str, int]:
    """§2b's usage, keys in its order: prompt, total, completion."""
    return {
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens": completion,
    }


# §2a ---------------------------------------------------------------------------------------------


def scout_events(
    tokens: Sequence[str | int] = SCOUT_TOKENS,
    usage: dict[str, int] | None = SCOUT_USAGE,
    *,
    finish_reason: str | None = None,
) -> list[dict[str, Any]]:
    """Llama 4 Scout: `{"response", "tool_calls": [], "p"}` per token (`p` is random-length
    padding), then `{"response": "", "tool_calls": [], "p", "usage"}`; a `finish_reason` is put
    top-level on that last event. A token may be a number, as Cloudflare sometimes sends."""
    events: list[dict[str, Any]] = [
        {"response": token, "tool_calls": [], "p": SCOUT_PADDING[index % len(SCOUT_PADDING)]}
        for index, token in enumerate(tokens)
    ]
    last: dict[str, Any] = {"response": "", "tool_calls": [], "p": "abdefgh"}
    if finish_reason is not None:
        last["finish_reason"] = finish_reason
    if usage is not None:
        last["usage"] = usage
    events.append(last)
    return events


def scout_result(
    tokens: Sequence[str] = SCOUT_TOKENS, usage: dict[str, int] | None = SCOUT_USAGE
) -> dict[str, Any]:
    """Llama 4 Scout's whole answer (`result` of a `stream: false` request)."""
    result: dict[str, Any] = {"response": "".join(tokens), "tool_calls": []}
    if usage is not None:
        result["usage"] = usage
    return result


# §2b ---------------------------------------------------------------------------------------------


def reasoning_chunks(
    reasoning: Sequence[str] = REASONING,
    answer: Sequence[str] = ANSWER,
    *,
    model: str = GLM_47_FLASH,
    field: str = "reasoning_content",
    prompt_tokens: int = REASONING_PROMPT_TOKENS,
    completion_start: int = REASONING_COMPLETION_START,
    completion_final: int | None = None,
    finish_reason: str | None = "stop",
) -> list[dict[str, Any]]:
    """An OpenAI chunk stream as GLM/Qwen3 send it on /ai/run: a role chunk
    (`{"role": "assistant", "content": ""}`, completion 0), one chunk per reasoning piece in
    `delta[field]` (`"reasoning_content"`, or `"reasoning"` for Nemotron), one per answer piece in
    `delta.content`, a `delta: {}` chunk with `finish_reason` (none if None), then the
    usage-only chunk with `choices: []`. Every chunk carries cumulative usage: the pieces count
    `completion_start`, +1, +2 …; the last chunk counts `completion_final` (default: as the
    piece before it)."""

    def chunk(choices: list[dict[str, Any]], completion: int) -> dict[str, Any]:
        return {
            "id": CHUNK_ID,
            "object": "chat.completion.chunk",
            "created": CHUNK_CREATED,
            "model": model,
            "choices": choices,
            "usage": _usage(prompt_tokens, completion),
        }

    def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

    events = [chunk(choice({"role": "assistant", "content": ""}), 0)]
    completion = 0
    pieces = [(field, piece) for piece in reasoning] + [("content", piece) for piece in answer]
    for index, (key, piece) in enumerate(pieces):
        completion = completion_start + index
        events.append(chunk(choice({key: piece}), completion))
    if finish_reason is not None:
        events.append(chunk(choice({}, finish_reason), completion))
    events.append(chunk([], completion if completion_final is None else completion_final))
    return events


def budget_spent_chunks(
    reasoning: Sequence[str] = REASONING, **kwargs: Any
) -> list[dict[str, Any]]:
    """A reasoning model that spent max_tokens thinking: reasoning chunks, no content, and
    `finish_reason: "length"` (keyword arguments as `reasoning_chunks`)."""
    return reasoning_chunks(reasoning, (), finish_reason="length", **kwargs)


def reasoning_usage(
    reasoning: Sequence[str] = REASONING,
    answer: Sequence[str] = ANSWER,
    *,
    prompt_tokens: int = REASONING_PROMPT_TOKENS,
    completion_start: int = REASONING_COMPLETION_START,
) -> dict[str, int]:
    """The last usage `reasoning_chunks` sends, as `{"prompt_tokens", "completion_tokens",
    "total_tokens"}` (for the matching whole answer)."""
    count = len(reasoning) + len(answer)
    completion = completion_start + count - 1 if count else 0
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }


# §2c ---------------------------------------------------------------------------------------------


def native_events(
    pieces: Sequence[str], usage: dict[str, int] | None = THINK_USAGE
) -> list[dict[str, Any]]:
    """Native events `{"response": piece, "p": padding}` (padding as in §2c), then
    `{"response": "", "usage": usage}` unless usage is None."""
    events: list[dict[str, Any]] = [
        {"response": piece, "p": THINK_PADDING[index % len(THINK_PADDING)]}
        for index, piece in enumerate(pieces)
    ]
    if usage is not None:
        events.append({"response": "", "usage": usage})
    return events


def think_text(
    reasoning: Sequence[str] = THINK_REASONING,
    answer: Sequence[str] = THINK_ANSWER,
    *,
    opening: bool = False,
) -> list[str]:
    """The pieces of an inline-thinking answer: the reasoning with `\\n</think>\\n\\n` added to its
    last piece (and `<think>\\n` before its first one if `opening`), then the answer."""
    thought = list(reasoning) or [""]
    if opening:
        thought[0] = THINK_OPEN + thought[0]
    thought[-1] = thought[-1] + THINK_CLOSE
    return thought + list(answer)


def think_events(
    reasoning: Sequence[str] = THINK_REASONING,
    answer: Sequence[str] = THINK_ANSWER,
    usage: dict[str, int] | None = THINK_USAGE,
    *,
    opening: bool = False,
) -> list[dict[str, Any]]:
    """DeepSeek R1 distill's stream: reasoning, `\\n</think>\\n\\n`, the answer in `response`
    events, with no opening `<think>` unless `opening` (then `<think>\\n` starts the text)."""
    return native_events(think_text(reasoning, answer, opening=opening), usage)


# §2d ---------------------------------------------------------------------------------------------


def _v1_head(model: str) -> dict[str, Any]:
    """The recorded key order of a streamed chunk: id, created, model, object."""
    return {
        "id": GPT_OSS_ID,
        "created": GPT_OSS_CREATED,
        "model": model,
        "object": "chat.completion.chunk",
    }


def _v1_role(model: str) -> dict[str, Any]:
    delta = {"role": "assistant", "content": ""}
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
    return {**_v1_head(model), "choices": [choice]}


def _v1_final(model: str, finish_reason: str, usage: dict[str, Any]) -> dict[str, Any]:
    """A final chunk; its key order is id, object, created, model, choices, usage."""
    return {
        "id": GPT_OSS_ID,
        "object": "chat.completion.chunk",
        "created": GPT_OSS_CREATED,
        "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": finish_reason}],
        "usage": usage,
    }


def _two_finals(
    model: str, finish_reason: str, usage: dict[str, int], second: dict[str, int], cached: int
) -> list[dict[str, Any]]:
    first_usage = {
        "prompt_tokens": usage["prompt_tokens"],
        "total_tokens": usage["total_tokens"],
        "completion_tokens": usage["completion_tokens"],
    }
    second_usage = {
        "prompt_tokens": second["prompt_tokens"],
        "completion_tokens": second["completion_tokens"],
        "total_tokens": second["total_tokens"],
        "prompt_tokens_details": {"cached_tokens": cached},
    }
    return [
        _v1_final(model, finish_reason, first_usage),
        _v1_final(model, finish_reason, second_usage),
    ]


def gpt_oss_chunks(
    reasoning: Sequence[str] = GPT_OSS_REASONING,
    answer: Sequence[str] = GPT_OSS_ANSWER,
    usage: dict[str, int] = GPT_OSS_STREAM_USAGE,
    *,
    model: str = GPT_OSS_20B,
    finish_reason: str = "stop",
    stop_reason: int | None = None,
    cached_tokens: int = 0,
) -> list[dict[str, Any]]:
    """gpt-oss on /ai/v1/chat/completions: a role chunk, `delta.reasoning_content` chunks,
    `delta.content` chunks (each with `"token_ids": null`), a `delta: {}` chunk with
    `stop_reason` (default 200002 for "stop", 200012 for "tool_calls"), then TWO final chunks
    with `finish_reason` and `usage`, the second's in another key order with
    `prompt_tokens_details: {"cached_tokens": cached_tokens}`."""
    events = [_v1_role(model)]
    pieces = [("reasoning_content", piece) for piece in reasoning]
    pieces += [("content", piece) for piece in answer]
    for key, piece in pieces:
        choice = {
            "index": 0,
            "delta": {key: piece},
            "logprobs": None,
            "finish_reason": None,
            "token_ids": None,
        }
        events.append({**_v1_head(model), "choices": [choice]})
    stop = GPT_OSS_STOP_REASONS.get(finish_reason) if stop_reason is None else stop_reason
    stop_choice = {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": None,
        "stop_reason": stop,
        "token_ids": None,
    }
    events.append({**_v1_head(model), "choices": [stop_choice]})
    return events + _two_finals(model, finish_reason, usage, usage, cached_tokens)


def llama_v1_chunks(
    tokens: Sequence[str] = LLAMA_TOKENS,
    usage: dict[str, int] = LLAMA_USAGE,
    *,
    model: str = LLAMA_31_8B,
    finish_reason: str = "stop",
) -> list[dict[str, Any]]:
    """llama-3.1-8b on /ai/v1/chat/completions: a role chunk, content chunks with no
    `finish_reason` key, then two final chunks, the second with all-zero usage (plus
    `prompt_tokens_details`)."""
    events = [_v1_role(model)]
    for token in tokens:
        choice = {"index": 0, "delta": {"content": token}, "logprobs": None}
        events.append({**_v1_head(model), "choices": [choice]})
    zero = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    return events + _two_finals(model, finish_reason, usage, zero, 0)


# §3 ----------------------------------------------------------------------------------------------


def empty_result() -> bytes:
    """gpt-oss's answer to `stream: true` on /ai/run (sent as application/json)."""
    return EMPTY_RESULT


def chat_completion_body(
    reasoning: str | None = COMPLETION_REASONING,
    content: str | None = COMPLETION_CONTENT,
    usage: dict[str, int] | None = COMPLETION_USAGE,
    *,
    model: str = GPT_OSS_120B,
    field: str = "reasoning_content",
    finish_reason: str = "stop",
    stop_reason: int | None = None,
) -> dict[str, Any]:
    """A `chat.completion`: `message` is `{"role": "assistant", field: reasoning, "content",
    "tool_calls": []}` (no reasoning key if `reasoning` is None; `field` may be "reasoning"),
    with `logprobs: null`, `finish_reason` and `stop_reason`."""
    message: dict[str, Any] = {"role": "assistant"}
    if reasoning is not None:
        message[field] = reasoning
    message["content"] = content
    message["tool_calls"] = []
    body: dict[str, Any] = {
        "id": COMPLETION_ID,
        "object": "chat.completion",
        "created": COMPLETION_CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason,
                "stop_reason": stop_reason,
            }
        ],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def responses_body(
    reasoning: str | None = RESPONSES_REASONING,
    text: str | None = RESPONSES_TEXT,
    usage: dict[str, int] | None = RESPONSES_USAGE,
    *,
    incomplete: str | None = None,
) -> dict[str, Any]:
    """A Responses API body: `output` holds a reasoning item (`content: [{"type":
    "reasoning_text"}]`, none if `reasoning` is None) and a message item (`output_text`; none,
    nor `output_text`, if `text` is None). With `incomplete` ("max_output_tokens",
    "content_filter") the status is "incomplete" and `incomplete_details.reason` says why."""
    status = "completed" if incomplete is None else "incomplete"
    body: dict[str, Any] = {
        "id": RESPONSES_ID,
        "object": "response",
        "created_at": RESPONSES_CREATED,
        "status": status,
    }
    if incomplete is not None:
        body["incomplete_details"] = {"reason": incomplete}
    output: list[dict[str, Any]] = []
    if reasoning is not None:
        output.append(
            {
                "type": "reasoning",
                "id": "rs_68925e3f4d0481909b1c2e7f6a5d3c28",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": reasoning}],
            }
        )
    if text is not None:
        output.append(
            {
                "type": "message",
                "id": "msg_68925e41a8e48190bd5f07c3e9a12b64",
                "role": "assistant",
                "status": status,
                "content": [{"type": "output_text", "text": text}],
            }
        )
    body["output"] = output
    if text is not None:
        body["output_text"] = text
    if usage is not None:
        body["usage"] = usage
    return body


def responses_incomplete_body(
    reasoning: str | None = RESPONSES_REASONING,
    text: str | None = None,
    usage: dict[str, int] | None = RESPONSES_USAGE,
) -> dict[str, Any]:
    """A Responses body cut by `max_output_tokens` (by default: reasoning only, no message)."""
    return responses_body(reasoning, text, usage, incomplete="max_output_tokens")
