"""Fixtures for the backend tests: an OpenAI-compatible server (llama.cpp, vLLM, Ollama)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.openai_compat import OpenAIServer


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A running OpenAI-compatible server on 127.0.0.1; it writes no config: point wai at it
    with `[backends.NAME] type = "openai"` and `base_url = openai_server.base_url`."""
    instance = OpenAIServer().start()
    try:
        yield instance
    finally:
        instance.stop()
    assert instance.errors == []
