"""What wai knows of a model before asking any server: its context window, whether it reasons,
and how its answers arrive. Ids are Workers AI's; a model not listed is known for nothing."""

from __future__ import annotations

from typing import NamedTuple


class ModelFacts(NamedTuple):
    context_window: int | None = None
    reasons: bool = False  # it thinks before it answers, spending output tokens on it
    streams_on_run: bool = True  # False: /ai/run answers a streamed request with JSON
    thinking_opened: bool = False  # its chat template opens `<think>`: the text starts inside
    chat_completions: bool = False  # it takes OpenAI's Chat Completions body (not the 2024 one)
    # Its chat template, for a raw prompt wai writes itself (see wai.backends.templates); None:
    # not known exactly, so wai never writes one for it.
    template: str | None = None


UNKNOWN = ModelFacts()
SEED_MODEL = "@hf/thebloke/mistral-7b-instruct-v0.1-awq"

# From Cloudflare's model pages and changelog (2026). The catalogue's own context_window for the
# GLM 5 family is larger than what its gateway accepts: the smaller figure is kept.
KNOWN_MODELS: dict[str, ModelFacts] = {
    SEED_MODEL: ModelFacts(4096, template="mistral-instruct"),
    "@cf/openai/gpt-oss-120b": ModelFacts(
        128_000, reasons=True, streams_on_run=False, chat_completions=True
    ),
    "@cf/openai/gpt-oss-20b": ModelFacts(
        128_000, reasons=True, streams_on_run=False, chat_completions=True
    ),
    "@cf/qwen/qwen3-30b-a3b-fp8": ModelFacts(32_768, reasons=True, chat_completions=True),
    "@cf/qwen/qwq-32b": ModelFacts(24_000, reasons=True, thinking_opened=True),
    "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b": ModelFacts(
        80_000, reasons=True, thinking_opened=True
    ),
    "@cf/zai-org/glm-4.7-flash": ModelFacts(131_072, reasons=True, chat_completions=True),
    "@cf/zai-org/glm-5.2": ModelFacts(256_000, reasons=True, chat_completions=True),
    "@cf/moonshotai/kimi-k2.6": ModelFacts(reasons=True, chat_completions=True),
    "@cf/moonshotai/kimi-k2.7-code": ModelFacts(reasons=True, chat_completions=True),
    "@cf/nvidia/nemotron-3-120b-a12b": ModelFacts(256_000, reasons=True, chat_completions=True),
    "@cf/deepseek-ai/deepseek-v4-pro-0813": ModelFacts(1_048_576, reasons=True),
    "@cf/deepseek-ai/deepseek-v4-flash-0731": ModelFacts(1_048_576, reasons=True),
    # Gemma 4 reasons only when asked to.
    "@cf/google/gemma-4-26b-a4b-it": ModelFacts(256_000, chat_completions=True),
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast": ModelFacts(24_000, template="llama-3.1"),
    "@cf/meta/llama-4-scout-17b-16e-instruct": ModelFacts(131_000),
    "@cf/mistralai/mistral-small-3.1-24b-instruct": ModelFacts(128_000),
    "@cf/qwen/qwen3.8-27b": ModelFacts(262_144, chat_completions=True),
}


def model_facts(model: str) -> ModelFacts:
    return KNOWN_MODELS.get(model, UNKNOWN)
