"""events_from_response on every answer shape today's models send (reference
workers-ai-models-2026.md §2 and §3), and the `<think>` splitter it uses."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.servers.models_2026 import chat_completion_body
from tests.servers.workers_ai import envelope, sse
from wai.backends.answers import AnswerWithoutText, events_from_response
from wai.backends.base import Event, Finish, ReasoningDelta, TextDelta, Usage
from wai.backends.thinking import ThinkSplitter
from wai.errors import BackendError

SSE = "text/event-stream"
JSON = "application/json"


def error_factory(
    status: int | None, code: int | None, message: str, retry_after: float | None
) -> BackendError:
    return BackendError(f"HTTP {status}, code {code}: {message}")


def events(body: bytes, content_type: str = SSE, *, thinking_opened: bool = False) -> list[Event]:
    response = httpx.Response(
        200, headers={"content-type": content_type}, stream=httpx.ByteStream(body)
    )
    return list(events_from_response(response, error_factory, thinking_opened=thinking_opened))


def chunk(delta: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A `chat.completion.chunk`; `delta` makes its one choice, `fields` go beside `choices`."""
    body: dict[str, Any] = {
        "id": "chatcmpl-edc8",
        "object": "chat.completion.chunk",
        "created": 1751570976,
        "model": "@cf/qwen/qwen3-30b-a3b-fp8",
    }
    if delta is not None:
        body["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]
    return body | fields


def usage(prompt: int, completion: int, total: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "total_tokens": total, "completion_tokens": completion}


# §2b, streamed OpenAI chunks


def test_cloudflare_ai_fixture_gives_reasoning_then_text_and_the_last_cumulative_usage() -> None:
    body = sse(
        chunk({"role": "assistant", "content": ""}, usage=usage(13, 0, 13)),
        chunk({"reasoning_content": "Okay"}, usage=usage(13, 3, 16)),
        chunk({"reasoning_content": ", the"}, usage=usage(13, 4, 17)),
        chunk({"content": "A **cow** is"}, id="chatcmpl-7047", usage=usage(13, 448, 461)),
        chunk(id="chatcmpl-7047", choices=[], usage=usage(13, 1022, 1035)),
    )

    # The cumulative counts ride on every chunk: only the last is given, once, at the end.
    assert events(body) == [
        ReasoningDelta("Okay"),
        ReasoningDelta(", the"),
        TextDelta("A **cow** is"),
        Usage(13, 1022, 1035),
        Finish("stop"),
    ]


def test_nemotron_reasoning_field_and_a_chunk_with_reasoning_and_content() -> None:
    body = sse(
        chunk({"role": "assistant", "reasoning": "Let me"}),
        chunk({"reasoning": " see."}),
        chunk({"reasoning": " Done.", "content": "Yes"}),
        chunk({"content": ", it is."}),
        chunk({}, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        chunk(
            choices=[],
            usage={
                **usage(20, 9, 29),
                "completion_tokens_details": {"reasoning_tokens": 5},
                "neurons": 1.75,
            },
        ),
    )

    assert events(body) == [
        ReasoningDelta("Let me"),
        ReasoningDelta(" see."),
        ReasoningDelta(" Done."),
        TextDelta("Yes"),
        TextDelta(", it is."),
        Usage(20, 9, 29, reasoning_tokens=5),
        Finish("stop"),
    ]


def test_reasoning_content_wins_over_reasoning_when_a_server_sends_both() -> None:
    body = sse(chunk({"reasoning_content": "Hmm", "reasoning": "Hmm"}), chunk({"content": "ok"}))

    assert events(body) == [ReasoningDelta("Hmm"), TextDelta("ok"), Finish("stop")]


GPT_OSS_ID = {"id": "id-1778260814069", "created": 1778260814, "model": "@cf/openai/gpt-oss-20b"}


def gpt_oss_chunk(choice: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**GPT_OSS_ID, "object": "chat.completion.chunk", "choices": [choice], **fields}


def test_gpt_oss_recording_on_ai_v1_keeps_the_usage_of_the_first_of_two_final_chunks() -> None:
    tool_call = {
        "id": "chatcmpl-tool-ed71",
        "type": "function",
        "index": 0,
        "function": {"name": "get_weather", "arguments": ""},
    }
    arguments = {"index": 0, "function": {"arguments": '{"city":"Paris"}'}}
    body = sse(
        gpt_oss_chunk(
            {
                "index": 0,
                "delta": {"role": "assistant", "content": ""},
                "logprobs": None,
                "finish_reason": None,
            }
        ),
        gpt_oss_chunk(
            {
                "index": 0,
                "delta": {"reasoning_content": "We"},
                "logprobs": None,
                "finish_reason": None,
                "token_ids": None,
            }
        ),
        gpt_oss_chunk(
            {
                "index": 0,
                "delta": {"tool_calls": [tool_call]},
                "logprobs": None,
                "finish_reason": None,
                "token_ids": None,
            }
        ),
        gpt_oss_chunk(
            {
                "index": 0,
                "delta": {"tool_calls": [arguments]},
                "logprobs": None,
                "finish_reason": None,
                "token_ids": None,
            }
        ),
        gpt_oss_chunk(
            {
                "index": 0,
                "delta": {},
                "logprobs": None,
                "finish_reason": None,
                "stop_reason": 200012,
                "token_ids": None,
            }
        ),
        gpt_oss_chunk(
            {"index": 0, "delta": {}, "finish_reason": "tool_calls"},
            usage={"prompt_tokens": 136, "total_tokens": 173, "completion_tokens": 37},
        ),
        gpt_oss_chunk(
            {"index": 0, "delta": {}, "finish_reason": "tool_calls"},
            usage={
                "prompt_tokens": 136,
                "completion_tokens": 37,
                "total_tokens": 173,
                "prompt_tokens_details": {"cached_tokens": 0},
            },
        ),
    )

    assert events(body) == [ReasoningDelta("We"), Usage(136, 37, 173), Finish("tool_calls")]


def test_an_all_zero_usage_after_a_real_one_is_skipped() -> None:
    # llama-3.1-8b on /ai/v1: content chunks without a finish_reason key, then two final chunks,
    # the second with all-zero usage.
    content = [{"index": 0, "delta": {"content": text}} for text in ("Hi", " there")]
    body = sse(
        *(gpt_oss_chunk(choice) for choice in content),
        gpt_oss_chunk({"index": 0, "delta": {}, "finish_reason": "stop"}, usage=usage(8, 2, 10)),
        gpt_oss_chunk(
            {"index": 0, "delta": {}, "finish_reason": "stop"},
            usage={**usage(0, 0, 0), "prompt_tokens_details": {"cached_tokens": 0}},
        ),
    )

    assert events(body) == [TextDelta("Hi"), TextDelta(" there"), Usage(8, 2, 10), Finish("stop")]


def test_an_all_zero_usage_that_is_the_only_one_is_kept() -> None:
    body = sse(chunk({"content": "Hi"}), chunk(choices=[], usage=usage(0, 0, 0)))

    assert events(body) == [TextDelta("Hi"), Usage(0, 0, 0), Finish("stop")]


@pytest.mark.parametrize(
    ("sent", "finish"),
    [
        ("model_length", "length"),
        ("length", "length"),
        ("stop", "stop"),
        ("tool_calls", "tool_calls"),
        ("error", "error"),
    ],
)
def test_finish_reasons_model_length_is_length_others_pass(sent: str, finish: str) -> None:
    body = sse({"choices": [{"delta": {"content": " world"}, "finish_reason": sent}]})

    assert events(body) == [TextDelta(" world"), Finish(finish)]


def test_a_native_event_with_model_length_finishes_with_length() -> None:
    body = sse({"response": "cut", "p": "ab"}, {"response": "", "finish_reason": "model_length"})

    assert events(body) == [TextDelta("cut"), Finish("length")]


def test_a_local_server_s_inline_think_in_content_is_reasoning() -> None:
    body = sse(
        chunk({"role": "assistant", "content": "<think>"}),
        chunk({"content": "Short."}),
        chunk({"content": "</think>\n\n"}),
        chunk({"content": "Answer."}),
    )

    assert events(body) == [ReasoningDelta("Short."), TextDelta("Answer."), Finish("stop")]


# §2a and §2c, native streams


def test_llama_4_scout_native_stream_ignores_tool_calls_and_padding() -> None:
    body = (
        b'data: {"response":"Hello","tool_calls":[],"p":"abdefghij"}\n\n'
        b'data: {"response":"!","tool_calls":[],"p":"abdef"}\n\n'
        b'data: {"tool_calls":[],"p":"abdefgh"}\n\n'
        b'data: {"response":" I am Llama 4 Scout","tool_calls":[],'
        b'"p":"abdefghijklmnoprstuvxyz123"}\n\n'
        b'data: {"response":"","tool_calls":[],"p":"abdefgh","usage":{"prompt_tokens":42,'
        b'"completion_tokens":23,"total_tokens":65}}\n\n'
        b"data: [DONE]\n\n"
    )

    assert events(body) == [
        TextDelta("Hello"),
        TextDelta("!"),
        TextDelta(" I am Llama 4 Scout"),
        Usage(42, 23, 65),
        Finish("stop"),
    ]


R1_DISTILL_STREAM = (
    b'data: {"response":"Okay, the user wants a number.\\n</think>\\n\\n","p":"abdefghijkl"}\n\n'
    b'data: {"response":"42","p":"abd"}\n\n'
    b'data: {"response":"","usage":{"prompt_tokens":9,"completion_tokens":31,'
    b'"total_tokens":40}}\n\n'
    b"data: [DONE]\n\n"
)


def test_r1_distill_reasoning_without_its_opening_tag() -> None:
    assert events(R1_DISTILL_STREAM, thinking_opened=True) == [
        ReasoningDelta("Okay, the user wants a number.\n"),
        TextDelta("42"),
        Usage(9, 31, 40),
        Finish("stop"),
    ]


def test_without_thinking_opened_a_bare_closing_tag_is_answer_text() -> None:
    assert events(R1_DISTILL_STREAM) == [
        TextDelta("Okay, the user wants a number.\n</think>\n\n"),
        TextDelta("42"),
        Usage(9, 31, 40),
        Finish("stop"),
    ]


@pytest.mark.parametrize("thinking_opened", [False, True])
def test_an_explicit_think_tag_split_across_events(thinking_opened: bool) -> None:
    body = sse(
        {"response": "\n<thi", "p": "a"},
        {"response": "nk>\nFirst", "p": "ab"},
        {"response": " this.</th", "p": "abc"},
        {"response": "ink>", "p": "a"},
        {"response": "\n\n", "p": "a"},
        {"response": "Then ", "p": "ab"},
        {"response": "that.", "p": "abc"},
    )

    assert events(body, thinking_opened=thinking_opened) == [
        ReasoningDelta("\nFirst"),
        ReasoningDelta(" this."),
        TextDelta("Then "),
        TextDelta("that."),
        Finish("stop"),
    ]


def test_a_stream_that_ends_inside_the_reasoning_keeps_it_reasoning() -> None:
    body = sse({"response": "<think>Still"}, {"response": " going </thi"})

    assert events(body) == [
        ReasoningDelta("Still"),
        ReasoningDelta(" going "),
        ReasoningDelta("</thi"),
        Finish("stop"),
    ]


def test_a_held_start_that_never_became_a_tag_is_answer_text_at_the_end() -> None:
    assert events(sse({"response": "  "}, {"response": "<th"})) == [
        TextDelta("  <th"),
        Finish("stop"),
    ]


def test_a_numeric_native_response_in_a_stream_is_text() -> None:
    body = sse({"response": 4}, {"response": 2.5}, {"response": "!"})

    assert events(body) == [TextDelta("4"), TextDelta("2.5"), TextDelta("!"), Finish("stop")]


# §3, JSON bodies

CHAT_COMPLETION = chat_completion_body()  # §3's body, as tests/servers checks it


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(envelope(CHAT_COMPLETION), id="ai-run-envelope"),
        pytest.param(json.dumps(CHAT_COMPLETION).encode(), id="ai-v1-bare"),
    ],
)
def test_chat_completion_body_with_reasoning_content(body: bytes) -> None:
    assert events(body, JSON) == [
        ReasoningDelta("Let me think step by step"),
        TextDelta("The answer is 42"),
        Usage(1, 2, 3),
        Finish("stop"),
    ]


def test_chat_completion_body_with_reasoning_and_null_content_is_no_error() -> None:
    message = {"role": "assistant", "reasoning": "Counting the budget", "content": None}
    choice = {"index": 0, "message": message, "finish_reason": "length"}
    body = {**CHAT_COMPLETION, "choices": [choice]}

    assert events(envelope(body), JSON) == [
        ReasoningDelta("Counting the budget"),
        Usage(1, 2, 3),
        Finish("length"),
    ]


def test_chat_completion_body_with_only_a_tool_call_is_no_error() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    body = {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}

    assert events(envelope(body), JSON) == [Finish("tool_calls")]


RESPONSES_BODY = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1754400000,
    "status": "completed",
    "output": [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [],
            "content": [{"type": "reasoning_text", "text": "User wants a greeting."}],
        },
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Hello!"}],
        },
    ],
    "output_text": "Hello!",
    "usage": {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42},
}


def test_responses_body() -> None:
    assert events(envelope(RESPONSES_BODY), JSON) == [
        ReasoningDelta("User wants a greeting."),
        TextDelta("Hello!"),
        Usage(12, 30, 42),
        Finish("stop"),
    ]


def test_responses_body_with_a_summary_and_output_text_only() -> None:
    reasoning = {
        "type": "reasoning",
        "summary": [
            {"type": "summary_text", "text": "Greet back."},
            {"type": "summary_text", "text": "Keep it short."},
        ],
    }
    body = {
        "object": "response",
        "output": [reasoning],
        "output_text": "Hi!",
        "usage": {
            "input_tokens": 12,
            "output_tokens": 30,
            "total_tokens": 42,
            "output_tokens_details": {"reasoning_tokens": 25},
        },
    }

    assert events(json.dumps(body).encode(), JSON) == [
        ReasoningDelta("Greet back.\n\nKeep it short."),
        TextDelta("Hi!"),
        Usage(12, 30, 42, reasoning_tokens=25),
        Finish("stop"),
    ]


def test_responses_body_cut_at_max_output_tokens_finishes_with_length() -> None:
    body = {
        **RESPONSES_BODY,
        "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [RESPONSES_BODY["output"][0]],
        "output_text": None,
        "usage": {
            "input_tokens": 12,
            "output_tokens": 256,
            "total_tokens": 268,
            "output_tokens_details": {"reasoning_tokens": 256},
        },
    }

    assert events(envelope(body), JSON) == [
        ReasoningDelta("User wants a greeting."),
        Usage(12, 256, 268, reasoning_tokens=256),
        Finish("length"),
    ]


def test_gpt_oss_empty_result_to_a_streamed_request_is_an_answer_without_text() -> None:
    body = b'{"result": {}, "success": true, "errors": [], "messages": []}'

    with pytest.raises(AnswerWithoutText) as raised:
        events(body, JSON)

    assert raised.value.message == "the backend's answer holds no text"
    assert isinstance(raised.value, BackendError)


@pytest.mark.parametrize(
    "result",
    [
        pytest.param({"response": None}, id="null-response"),
        pytest.param({"response": "", "usage": usage(3, 0, 3)}, id="empty-response"),
        pytest.param({"choices": []}, id="no-choices"),
        pytest.param({"choices": [{"message": {"content": None}}]}, id="null-content"),
        pytest.param({"object": "response", "output": []}, id="empty-output"),
    ],
)
def test_other_json_answers_without_text_are_answers_without_text(result: dict) -> None:
    with pytest.raises(AnswerWithoutText):
        events(envelope(result), JSON)


@pytest.mark.parametrize(
    "body", [b"[1, 2]", b'"text"', b'{"result": null, "success": true, "errors": []}']
)
def test_a_body_that_is_no_answer_at_all_has_no_result(body: bytes) -> None:
    with pytest.raises(BackendError) as raised:
        events(body, JSON)

    assert type(raised.value) is BackendError
    assert raised.value.message == "the backend's answer has no result"


@pytest.mark.parametrize(("value", "text"), [(42, "42"), (3.25, "3.25"), (0, "0")])
def test_a_numeric_json_response_is_text(value: float, text: str) -> None:
    assert events(envelope({"response": value}), JSON) == [TextDelta(text), Finish("stop")]


def test_a_json_mode_object_response_is_its_json_text() -> None:
    country = {"name": "India", "capital": "New Delhi", "languages": ["Hindi", "English"]}
    body = envelope({"response": country, "usage": usage(30, 20, 50)})

    assert events(body, JSON, thinking_opened=True) == [
        TextDelta(json.dumps(country, ensure_ascii=False)),
        Usage(30, 20, 50),
        Finish("stop"),
    ]


def test_a_json_native_answer_with_inline_thinking() -> None:
    result = {"response": "Just 42.\n</think>\n\n42", "usage": usage(9, 8, 17)}

    assert events(envelope(result), JSON, thinking_opened=True) == [
        ReasoningDelta("Just 42.\n"),
        TextDelta("42"),
        Usage(9, 8, 17),
        Finish("stop"),
    ]


# ThinkSplitter


def split(pieces: list[str], *, opened: bool = False) -> tuple[str, str]:
    """The reasoning and answer of `pieces` fed in turn, then flushed."""
    splitter = ThinkSplitter(opened=opened)
    results = [splitter.feed(piece) for piece in pieces]
    results.append(splitter.flush())
    return "".join(r for r, _ in results), "".join(a for _, a in results)


SPLIT_CASES = [
    ("<think>abc</think>\n\nanswer", False, ("abc", "answer")),
    (" \n<think>a</thin b</think> \n x </think>", False, ("a</thin b", "x </think>")),
    ("plain text, no tags", False, ("", "plain text, no tags")),
    ("  leading space stays", False, ("", "  leading space stays")),
    ("<thinking>x</thinking>", False, ("", "<thinking>x</thinking>")),
    ("<th is not a tag", False, ("", "<th is not a tag")),
    ("<th", False, ("", "<th")),
    ("\n\n", False, ("", "\n\n")),
    ("<think>never closed </thi", False, ("never closed </thi", "")),
    ("<think><b>bold</b></think><think>again", False, ("<b>bold</b>", "<think>again")),
    ("reason\n</think>\n\n42", True, ("reason\n", "42")),
    ("\n<think>r</think>a", True, ("r", "a")),
    ("still thinking", True, ("still thinking", "")),
    ("</think>at once", True, ("", "at once")),
    ("<thx", True, ("<thx", "")),
    ("<th", True, ("<th", "")),
]


@pytest.mark.parametrize(("text", "opened", "expected"), SPLIT_CASES)
def test_every_split_point_gives_the_same_reasoning_and_answer(
    text: str, opened: bool, expected: tuple[str, str]
) -> None:
    assert split([text], opened=opened) == expected
    assert split(list(text), opened=opened) == expected
    for cut in range(1, len(text)):
        assert split([text[:cut], text[cut:]], opened=opened) == expected, cut
        for second in range(cut + 1, len(text)):
            pieces = [text[:cut], text[cut:second], text[second:]]
            assert split(pieces, opened=opened) == expected, (cut, second)


def test_text_without_tags_passes_untouched_from_its_first_piece() -> None:
    splitter = ThinkSplitter()
    piece = "Hello"

    assert splitter.feed(piece) == ("", "Hello")
    assert splitter.answering
    later = " world </think>"
    assert splitter.feed(later)[1] is later
    assert splitter.flush() == ("", "")


def test_only_a_possible_tag_is_held() -> None:
    splitter = ThinkSplitter()

    assert splitter.feed(" <thi") == ("", "")
    assert splitter.feed("nk>Some") == ("Some", "")
    assert splitter.feed(" a<b") == (" a<b", "")  # `<b` cannot begin `</think>`
    assert splitter.feed(" c</th") == (" c", "")
    assert not splitter.answering
    assert splitter.feed("ink>") == ("", "")
    assert splitter.feed("\n \n") == ("", "")
    assert not splitter.answering
    assert splitter.feed("\nDone") == ("", "Done")
    assert splitter.answering


def test_a_closing_tag_in_the_answer_after_the_thinking_stays_answer_text() -> None:
    splitter = ThinkSplitter(opened=True)

    assert splitter.feed("why</think>because") == ("why", "because")
    assert splitter.feed(" </think> is a tag") == ("", " </think> is a tag")
    assert splitter.flush() == ("", "")
