"""`/set KEY` with no value and `/unset KEY`: a parameter or body field chosen for the
conversation is removed from the next request and from the session file at once; a name that is
not set, or whose value comes from the config or wai's default, says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers.workers_ai import WorkersAIServer
from tests.test_repl import Chat, body, chat, said, saved, sessions_dir, today
from wai.settings import Overrides

__all__ = ["chat", "sessions_dir"]  # fixtures

USAGE = (
    "wai: error: usage: /unset KEY, with KEY one of max_tokens, temperature, top_p, top_k, "
    "seed, repetition_penalty, frequency_penalty, presence_penalty, lora, or any other field "
    "of the request body\nhint: /set lists the ones in use\n"
)


def test_unset_removes_a_body_field_from_the_next_request_and_the_file_at_once(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat.type('/set stop ["END"]', "/set top_p 0.5", "hi")
    chat.output()
    name = f"{today()}-hi"
    assert saved(sessions_dir)[name]["params"] == {"stop": ["END"], "top_p": 0.5}

    chat.type("/unset stop")
    assert chat.output() == ("", "wai: stop unset\n")
    assert saved(sessions_dir)[name]["params"] == {"top_p": 0.5}  # before the next turn
    chat.type("/set top_p")
    assert chat.output() == ("", "wai: top_p unset\n")
    assert saved(sessions_dir)[name]["params"] == {}

    chat.type("/set", "again")
    assert chat.output() == ("max_tokens = 1024\n" + "Hello, world!", "")
    assert server.last_body == body(
        said("user", "hi"), said("assistant", "Hello, world!"), said("user", "again")
    )


def test_unset_of_a_flag_s_parameter_drops_it_for_this_conversation(
    server: WorkersAIServer, sessions_dir: Path
) -> None:
    chat = Chat(Overrides(params={"temperature": 0.3, "max_tokens": 50}))
    chat.type("/unset temperature", "/unset max_tokens")
    assert chat.output() == (
        "",
        "wai: temperature unset\nwai: max_tokens unset; 1024 from now on\n",
    )
    chat.type("hi")
    assert server.last_body == body(said("user", "hi"))
    assert saved(sessions_dir)[f"{today()}-hi"]["params"] == {}


def test_unset_falls_back_to_the_config_and_cannot_remove_it(
    server: WorkersAIServer, config_file: Path, sessions_dir: Path
) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[params]\ntemperature = 0.5\n")
    chat = Chat()
    chat.type("/set temperature 0.2", "/unset temperature")
    assert chat.output() == (
        "",
        "wai: temperature = 0.2\nwai: temperature unset; 0.5 from now on\n",
    )
    chat.type("/unset temperature")
    assert chat.output() == (
        "",
        "wai: error: temperature = 0.5 comes from the config file, not from this conversation\n"
        "hint: `wai config unset params.temperature` removes it there; /set temperature VALUE "
        "overrides it here\n",
    )
    chat.type("hi")
    assert server.last_body == body(said("user", "hi"), temperature=0.5)
    assert config_file.read_text() == "[params]\ntemperature = 0.5\n"


@pytest.mark.parametrize("line", ["/unset", "/unset top_k seed"])
def test_unset_needs_one_name(
    chat: Chat, server: WorkersAIServer, sessions_dir: Path, line: str
) -> None:
    chat.type("/set top_k 5", line)
    assert chat.output() == ("", "wai: top_k = 5\n" + USAGE)
    chat.type("/set")
    assert chat.output() == ("max_tokens = 1024\ntop_k = 5\n", "")
    assert server.run_requests == []
    assert saved(sessions_dir) == {}
