"""The loopback servers themselves: plain HTTP requests, the exact bytes they answer."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers import models_2026 as m
from tests.servers.openai_compat import OpenAIServer, inline_think_tokens
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_MODEL,
    DEFAULT_USAGE,
    GLM_47_FLASH,
    GPT_OSS_20B,
    GPT_OSS_120B,
    LLAMA4_SCOUT,
    NEMOTRON_3,
    QWEN3_30B,
    R1_DISTILL,
    RETIRED_MODEL,
    TOKEN,
    Reply,
    WorkersAIServer,
    envelope,
    sse,
    token_events,
)

RUN = f"/client/v4/accounts/{ACCOUNT}/ai/run/"
V1 = f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"
GATEWAY_V1 = f"/gateway/v1/{ACCOUNT}/my-gateway/workers-ai/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "Why is the sky blue?"}]


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.content_type = response.getheader("Content-Type")
        self.body = response.read()

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[Any]:
        """The `data:` payloads, decoded ("[DONE]" stays a string); the body must be well-formed."""
        assert self.body.endswith(b"\n\n")
        events = []
        for block in self.body[:-2].split(b"\n\n"):
            assert block.startswith(b"data: ") and b"\n" not in block
            data = block[len(b"data: ") :].decode()
            events.append(data if data == "[DONE]" else json.loads(data))
        return events


def post(port: int, path: str, body: Any, token: str | None = TOKEN) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request("POST", path, json.dumps(body), headers)
        return Answer(connection.getresponse())
    finally:
        connection.close()


def deltas(events: list[Any], key: str) -> str:
    return "".join(
        event["choices"][0]["delta"].get(key) or ""
        for event in events
        if isinstance(event, dict) and event.get("choices")
    )


@pytest.fixture
def bare() -> Iterator[WorkersAIServer]:
    """A Workers AI server whose /ai/run bodies are not checked against the native schema."""
    instance = WorkersAIServer().start()
    try:
        yield instance
    finally:
        instance.stop()
    assert instance.errors == []


# Workers AI: /ai/run ------------------------------------------------------------------------------


def test_the_seed_model_answers_as_before(server: WorkersAIServer) -> None:
    streamed = post(server.port, RUN + DEFAULT_MODEL, {"messages": MESSAGES, "stream": True})
    whole = post(server.port, RUN + DEFAULT_MODEL, {"messages": MESSAGES})

    assert streamed.content_type == "text/event-stream"
    assert streamed.body == sse(*token_events(("Hello", ",", " world", "!"), DEFAULT_USAGE))
    assert whole.body == envelope({"response": "Hello, world!", "usage": DEFAULT_USAGE})


@pytest.mark.parametrize("model", [GPT_OSS_120B, GPT_OSS_20B])
def test_gpt_oss_answers_stream_true_with_an_empty_json_result(
    server: WorkersAIServer, model: str
) -> None:
    answer = post(server.port, RUN + model, {"messages": MESSAGES, "stream": True})

    assert (answer.status, answer.content_type) == (200, "application/json")
    assert answer.body == b'{"result": {}, "success": true, "errors": [], "messages": []}'


def test_gpt_oss_answers_stream_false_with_a_chat_completion_in_the_envelope(
    server: WorkersAIServer,
) -> None:
    answer = post(server.port, RUN + GPT_OSS_120B, {"messages": MESSAGES, "stream": False})

    assert answer.content_type == "application/json"
    assert answer.json() == {
        "result": {
            "id": "chatcmpl-r3",
            "object": "chat.completion",
            "created": 1751560708,
            "model": GPT_OSS_120B,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "reasoning_content": "Let me think step by step",
                        "content": "The answer is 42",
                        "tool_calls": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                    "stop_reason": None,
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        },
        "success": True,
        "errors": [],
        "messages": [],
    }


def test_gpt_oss_answers_a_responses_body_with_a_responses_body(bare: WorkersAIServer) -> None:
    answer = post(bare.port, RUN + GPT_OSS_120B, {"input": "Say hello", "stream": False})

    result = answer.json()["result"]
    assert [item["type"] for item in result["output"]] == ["reasoning", "message"]
    assert result["output"][0]["content"] == [
        {"type": "reasoning_text", "text": "User wants a greeting."}
    ]
    assert result["output"][1]["content"] == [{"type": "output_text", "text": "Hello!"}]
    assert result["output_text"] == "Hello!"
    assert result["usage"] == {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}


def test_glm_streams_reasoning_content_then_content_with_cumulative_usage(
    server: WorkersAIServer,
) -> None:
    answer = post(server.port, RUN + GLM_47_FLASH, {"messages": MESSAGES, "stream": True})

    assert answer.content_type == "text/event-stream"
    assert answer.body.startswith(
        b'data: {"id":"chatcmpl-edc8f3a91b6c4d2e8f07a5b3c1d9e246","object":"chat.completion.chunk",'
        b'"created":1751570976,"model":"@cf/zai-org/glm-4.7-flash","choices":[{"index":0,'
        b'"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],'
        b'"usage":{"prompt_tokens":13,"total_tokens":13,"completion_tokens":0}}\n\n'
    )
    events = answer.events()
    assert deltas(events, "reasoning_content") == "Okay, the"
    assert deltas(events, "content") == "A **cow** is"
    assert events[-1] == "[DONE]"
    assert events[-2]["choices"] == []
    assert events[-3]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    completions = [event["usage"]["completion_tokens"] for event in events[:-1]]
    assert completions == [0, 3, 4, 5, 5, 5]


def test_qwen3_answers_stream_false_with_a_chat_completion_in_the_envelope(
    server: WorkersAIServer,
) -> None:
    result = post(server.port, RUN + QWEN3_30B, {"messages": MESSAGES}).json()["result"]

    assert result["choices"][0]["message"]["reasoning_content"] == "Okay, the"
    assert result["choices"][0]["message"]["content"] == "A **cow** is"
    assert result["usage"] == {"prompt_tokens": 13, "completion_tokens": 5, "total_tokens": 18}


def test_nemotron_streams_delta_reasoning(server: WorkersAIServer) -> None:
    server.reasoning_pieces = ("Think", "ing")
    server.answer_pieces = ("Done", ".")

    events = post(server.port, RUN + NEMOTRON_3, {"messages": MESSAGES, "stream": True}).events()

    assert deltas(events, "reasoning") == "Thinking"
    assert deltas(events, "reasoning_content") == ""
    assert deltas(events, "content") == "Done."
    assert events[1]["model"] == NEMOTRON_3


def test_the_r1_distill_streams_reasoning_closed_by_think_without_opening_it(
    server: WorkersAIServer,
) -> None:
    answer = post(server.port, RUN + R1_DISTILL, {"messages": MESSAGES, "stream": True})

    assert answer.body == (
        b'data: {"response":"Okay, the user wants a number.\\n</think>\\n\\n",'
        b'"p":"abdefghijkl"}\n\n'
        b'data: {"response":"42","p":"abd"}\n\n'
        b'data: {"response":"","usage":{"prompt_tokens":9,"completion_tokens":31,'
        b'"total_tokens":40}}\n\n'
        b"data: [DONE]\n\n"
    )


def test_llama_4_scout_streams_tool_calls_and_padding_on_every_event(
    server: WorkersAIServer,
) -> None:
    answer = post(server.port, RUN + LLAMA4_SCOUT, {"messages": MESSAGES, "stream": True})

    assert answer.body == (
        b'data: {"response":"Hello","tool_calls":[],"p":"abdefghij"}\n\n'
        b'data: {"response":"!","tool_calls":[],"p":"abdef"}\n\n'
        b'data: {"response":" I am Llama 4 Scout","tool_calls":[],"p":"abdefghijklmnoprstuvxyz123"}'
        b"\n\n"
        b'data: {"response":"","tool_calls":[],"p":"abdefgh","usage":{"prompt_tokens":42,'
        b'"completion_tokens":23,"total_tokens":65}}\n\n'
        b"data: [DONE]\n\n"
    )


def test_a_scripted_reply_comes_before_a_models_own_answer(server: WorkersAIServer) -> None:
    server.enqueue(Reply.stream(m.stream_body(m.budget_spent_chunks(model=GLM_47_FLASH))))

    events = post(server.port, RUN + GLM_47_FLASH, {"messages": MESSAGES, "stream": True}).events()

    assert deltas(events, "content") == ""
    assert events[-3]["choices"][0]["finish_reason"] == "length"


# Workers AI: /ai/v1/chat/completions ----------------------------------------------------------


def test_v1_streams_gpt_oss_reasoning_content_and_two_final_usage_chunks(
    server: WorkersAIServer,
) -> None:
    body = {"model": GPT_OSS_20B, "messages": MESSAGES, "stream": True}

    answer = post(server.port, V1, body)

    assert (answer.status, answer.content_type) == (200, "text/event-stream")
    assert answer.body.endswith(b"\n\ndata: [DONE]\n\n")
    events = answer.events()
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert deltas(events, "reasoning_content") == "Let me think step by step"
    assert deltas(events, "content") == "The answer is 42"
    assert events[-4]["choices"][0]["stop_reason"] == 200002
    first, second = events[-3:-1]
    assert (
        first["choices"]
        == second["choices"]
        == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    )
    assert first["usage"] == {"prompt_tokens": 136, "total_tokens": 173, "completion_tokens": 37}
    assert second["usage"] == {
        "prompt_tokens": 136,
        "completion_tokens": 37,
        "total_tokens": 173,
        "prompt_tokens_details": {"cached_tokens": 0},
    }


def test_v1_through_the_gateway_streams_other_models_with_a_zero_second_usage(
    server: WorkersAIServer,
) -> None:
    body = {"model": DEFAULT_MODEL, "messages": MESSAGES, "stream": True}

    events = post(server.port, GATEWAY_V1, body).events()

    assert deltas(events, "content") == "Hello, world!"
    assert all("finish_reason" not in event["choices"][0] for event in events[1:-3])
    assert events[-3]["usage"]["completion_tokens"] == 4
    assert events[-2]["usage"] == {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "prompt_tokens_details": {"cached_tokens": 0},
    }


def test_v1_answers_stream_false_with_a_bare_chat_completion(server: WorkersAIServer) -> None:
    answer = post(server.port, V1, {"model": LLAMA4_SCOUT, "messages": MESSAGES})

    document = answer.json()
    assert "result" not in document
    assert document["object"] == "chat.completion"
    assert document["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello, world!",
        "tool_calls": [],
    }


def test_v1_checks_the_token_and_the_model(server: WorkersAIServer) -> None:
    no_token = post(server.port, V1, {"model": GPT_OSS_20B, "messages": MESSAGES}, token=None)
    unknown = post(server.port, V1, {"model": "@cf/nobody/none", "messages": MESSAGES})
    missing = post(server.port, GATEWAY_V1, {"messages": MESSAGES})
    retired = post(server.port, V1, {"model": RETIRED_MODEL, "messages": MESSAGES})

    assert no_token.status == 401
    assert no_token.json()["errors"] == [{"code": 10000, "message": "Authentication error"}]
    assert (unknown.status, missing.status) == (400, 400)
    assert unknown.json() == {
        "result": None,
        "success": False,
        "errors": [{"code": 5007, "message": "No such model @cf/nobody/none or task"}],
        "messages": [],
    }
    assert missing.json()["errors"][0]["code"] == 5007
    assert retired.json()["errors"][0]["code"] == 5028


def test_run_requests_leave_out_v1_requests(server: WorkersAIServer) -> None:
    post(server.port, V1, {"model": GPT_OSS_20B, "messages": MESSAGES, "stream": True})
    post(server.port, RUN + GPT_OSS_20B, {"messages": MESSAGES, "stream": True})
    post(server.port, GATEWAY_V1, {"model": GPT_OSS_20B, "messages": MESSAGES})
    post(server.port, f"/gateway/v1/{ACCOUNT}/gw/workers-ai/{LLAMA4_SCOUT}", {"prompt": "Hi"})

    assert [r.path for r in server.run_requests] == [
        RUN + GPT_OSS_20B,
        f"/gateway/v1/{ACCOUNT}/gw/workers-ai/{LLAMA4_SCOUT}",
    ]
    assert [r.path for r in server.v1_requests] == [V1, GATEWAY_V1]


def test_a_scripted_reply_comes_first_on_v1_too(server: WorkersAIServer) -> None:
    server.enqueue(Reply.error(429, 3040, "Capacity temporarily exceeded, please try again."))

    answer = post(server.port, V1, {"model": GPT_OSS_120B, "messages": MESSAGES})

    assert answer.status == 429
    assert answer.json()["errors"][0]["code"] == 3040


# The builders ----------------------------------------------------------------------------------


def test_think_events_can_open_the_tag() -> None:
    events = m.think_events(["Hmm", "."], ["Yes"], opening=True)

    assert [event["response"] for event in events] == ["<think>\nHmm", ".\n</think>\n\n", "Yes", ""]


def test_llama_v1_chunks_have_no_token_ids_and_gpt_oss_chunks_do() -> None:
    llama = m.llama_v1_chunks(["a"])
    gpt_oss = m.gpt_oss_chunks(["r"], ["a"])

    assert llama[1]["choices"][0] == {"index": 0, "delta": {"content": "a"}, "logprobs": None}
    assert gpt_oss[1]["choices"][0]["token_ids"] is None
    assert list(gpt_oss[1]) == ["id", "created", "model", "object", "choices"]
    assert list(gpt_oss[-1]) == ["id", "object", "created", "model", "choices", "usage"]


def test_responses_incomplete_body_has_only_the_reasoning() -> None:
    body = m.responses_incomplete_body("Thinking a lot")

    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert [item["type"] for item in body["output"]] == ["reasoning"]
    assert "output_text" not in body


def test_chat_completion_body_can_use_the_reasoning_key() -> None:
    body = m.chat_completion_body("why", None, field="reasoning")

    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "reasoning": "why",
        "content": None,
        "tool_calls": [],
    }


# OpenAI-compatible server --------------------------------------------------------------------


def chat(server: OpenAIServer, **extra: Any) -> Answer:
    body = {"model": server.models[0], "messages": MESSAGES, **extra}
    return post(server.port, "/v1/chat/completions", body, token=None)


def test_the_openai_server_sends_no_reasoning_by_default(openai_server: OpenAIServer) -> None:
    events = chat(openai_server, stream=True, stream_options={"include_usage": True}).events()
    whole = chat(openai_server).json()

    assert "reasoning_content" not in json.dumps(events) + json.dumps(whole)
    assert events[-2]["usage"] == {"prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25}


def test_the_openai_server_thinks_as_llama_cpp(openai_server: OpenAIServer) -> None:
    openai_server.reasoning = ("Let me", " see.")

    events = chat(openai_server, stream=True, stream_options={"include_usage": True}).events()
    whole = chat(openai_server).json()

    assert events[1]["choices"][0]["delta"] == {"reasoning_content": "Let me"}
    assert deltas(events, "reasoning_content") == "Let me see."
    assert deltas(events, "content") == "Hello, world!"
    assert events[-2]["usage"]["completion_tokens_details"] == {"reasoning_tokens": 2}
    assert whole["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello, world!",
        "reasoning_content": "Let me see.",
    }
    assert whole["usage"]["completion_tokens_details"] == {"reasoning_tokens": 2}


def test_the_openai_server_thinks_as_ollama(openai_server: OpenAIServer) -> None:
    openai_server.reasoning = ("Hmm",)
    openai_server.reasoning_field = "reasoning"
    openai_server.reasoning_tokens = 7

    events = chat(openai_server, stream=True).events()
    whole = chat(openai_server).json()

    assert events[1]["choices"][0]["delta"] == {
        "role": "assistant",
        "content": "",
        "reasoning": "Hmm",
    }
    assert whole["choices"][0]["message"]["reasoning"] == "Hmm"
    assert whole["usage"]["completion_tokens_details"] == {"reasoning_tokens": 7}


def test_the_openai_server_sends_inline_thinking_as_tokens(openai_server: OpenAIServer) -> None:
    openai_server.tokens = inline_think_tokens(["Hmm"], ["Hi"])

    events = chat(openai_server, stream=True).events()

    assert deltas(events, "content") == "<think>Hmm</think>\n\nHi"
