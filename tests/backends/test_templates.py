"""The raw prompts that continue an answer, byte for byte, in each template wai knows; and the
conversations a template cannot hold, which are sent as messages instead (None)."""

from __future__ import annotations

import pytest

from wai.backends.templates import continuation_prompt
from wai.settings.models import KNOWN_MODELS, SEED_MODEL, model_facts

SYSTEM = {"role": "system", "content": "Be brief."}
HISTORY = [
    {"role": "user", "content": "Say hello"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "In French?"},
    {"role": "assistant", "content": "Bonjour, le"},
]


def test_mistral_folds_the_system_message_into_the_first_question() -> None:
    prompt = continuation_prompt("mistral-instruct", [SYSTEM, *HISTORY])
    assert prompt == (
        "<s>[INST] Be brief.\n\nSay hello [/INST]Hello!</s>[INST] In French? [/INST]Bonjour, le"
    )


def test_mistral_without_a_system_message_keeps_the_answer_as_it_is() -> None:
    messages = [{"role": "user", "content": "Count"}, {"role": "assistant", "content": "1, 2, "}]
    assert continuation_prompt("mistral-instruct", messages) == "<s>[INST] Count [/INST]1, 2, "


def test_llama_3_1_writes_its_system_header_and_trims_each_message() -> None:
    prompt = continuation_prompt("llama-3.1", [SYSTEM, *HISTORY])
    assert prompt == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
        "Be brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nSay hello<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nIn French?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nBonjour, le"
    )


def test_llama_3_1_has_the_dates_even_without_a_system_message() -> None:
    prompt = continuation_prompt("llama-3.1", HISTORY[2:])
    assert prompt == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nIn French?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nBonjour, le"
    )


@pytest.mark.parametrize(
    ("template", "messages"),
    [
        pytest.param(None, HISTORY, id="no-template"),
        pytest.param("chatml", HISTORY, id="unknown-template"),
        pytest.param("mistral-instruct", HISTORY[:3], id="not-ending-with-an-answer"),
        pytest.param("mistral-instruct", HISTORY[1:], id="not-starting-with-a-question"),
        pytest.param(
            "mistral-instruct",
            [HISTORY[0], HISTORY[0], HISTORY[1]],
            id="roles-not-alternating",
        ),
        pytest.param(
            "llama-3.1",
            [HISTORY[0], SYSTEM, HISTORY[1]],
            id="a-system-message-in-the-middle",
        ),
    ],
)
def test_what_a_template_cannot_hold_is_none(template: str | None, messages: list) -> None:
    assert continuation_prompt(template, messages) is None


def test_the_model_table_names_the_templates() -> None:
    assert model_facts(SEED_MODEL).template == "mistral-instruct"
    assert model_facts("@cf/meta/llama-3.3-70b-instruct-fp8-fast").template == "llama-3.1"
    named = {facts.template for facts in KNOWN_MODELS.values()} - {None}
    assert named == {"mistral-instruct", "llama-3.1"}
