"""`wai ask --json-mode` and `--schema`: the request each backend gets (Workers AI's native models
the bare schema, its Chat Completions models and OpenAI-compatible servers OpenAI's envelope; never
streamed), and stdout: the checked answer as one line of JSON, or nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.conftest import wai, wai_process
from tests.servers import models_2026 as m
from tests.servers.openai_compat import MODELS, OpenAIServer, chat_completion
from tests.servers.workers_ai import (
    DEFAULT_MODEL,
    DEFAULT_USAGE,
    GLM_47_FLASH,
    Reply,
    WorkersAIServer,
    envelope,
)
from tests.test_startup import PROBE

INDIA = {"name": "India", "capital": "New Delhi", "languages": ["Hindi", "English"]}
INDIA_LINE = '{"name": "India", "capital": "New Delhi", "languages": ["Hindi", "English"]}\n'
COUNTRY_FIELDS = "name, capital, languages: the official languages"
COUNTRY_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "capital": {"type": "string"},
        "languages": {"type": "string", "description": "the official languages"},
    },
    "required": ["name", "capital", "languages"],
}
ARRAY_SCHEMA = {  # what the concise form can't write: an array of strings
    "title": "Country facts",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "capital": {"type": "string"},
        "languages": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "capital", "languages"],
}
GLM_MAX_TOKENS = 16_384  # a reasoning model's max_tokens when none is chosen


def native_answer(response: Any) -> Reply:
    """A native model's JSON-mode answer: `result.response` is the JSON object itself (or, as
    Cloudflare's client also takes it, a string of JSON)."""
    return Reply.json(envelope({"response": response, "usage": DEFAULT_USAGE}))


def glm_answer(content: str, reasoning: str = "The user wants JSON.") -> Reply:
    """A Chat Completions model's answer on /ai/run: the JSON text in `message.content`."""
    return Reply.json(envelope(m.chat_completion_body(reasoning, content, model=GLM_47_FLASH)))


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def session_file(isolated: Path, name: str) -> dict[str, Any]:
    return json.loads((isolated / "data" / "sessions" / f"{name}.json").read_text())


def last_answer(isolated: Path, name: str) -> str:
    [*_, question, answer] = session_file(isolated, name)["messages"]
    assert question["role"] == "user"
    assert answer["role"] == "assistant"
    return answer["content"]


def use_openai_server(config_file: Path, server: OpenAIServer) -> None:
    """A `[backends.local]` table pointing at `server`, the default backend."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "retry_backoff": 0,
        "backend": "local",
        "backends": {"local": {"type": "openai", "base_url": server.base_url}},
    }
    config_file.write_text(tomli_w.dumps(document))


# --- Workers AI: a native model takes the bare schema ---


def test_json_mode_on_a_native_model(server: WorkersAIServer) -> None:
    server.enqueue(native_answer(INDIA))
    run = wai("ask", "--json-mode", "Tell me about India.")
    assert (run.exit_code, run.stdout, run.stderr) == (0, INDIA_LINE, "")
    assert server.last_body == {
        "messages": user("Tell me about India."),
        "stream": False,
        "max_tokens": 1024,
        "response_format": {"type": "json_object"},
    }
    assert server.run_requests[-1].headers["Accept"] == "*/*"  # no event stream is asked for


def test_a_concise_schema_on_a_native_model_is_sent_bare(server: WorkersAIServer) -> None:
    server.enqueue(native_answer({"name": "India", "capital": "New Delhi", "languages": "Hindi"}))
    run = wai("ask", "--schema", COUNTRY_FIELDS, "Tell me about India.")
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout == '{"name": "India", "capital": "New Delhi", "languages": "Hindi"}\n'
    assert server.last_body == {
        "messages": user("Tell me about India."),
        "stream": False,
        "max_tokens": 1024,
        "response_format": {"type": "json_schema", "json_schema": COUNTRY_SCHEMA},
    }


def test_a_schema_file_on_a_native_model(server: WorkersAIServer, tmp_path: Path) -> None:
    path = tmp_path / "country.json"
    path.write_text(json.dumps(ARRAY_SCHEMA, indent=2))
    server.enqueue(native_answer(INDIA))
    run = wai("ask", "--schema", f"@{path}", "-s", "Extract data about a country.", "India?")
    assert (run.exit_code, run.stdout, run.stderr) == (0, INDIA_LINE, "")
    assert server.last_body == {
        "messages": [
            {"role": "system", "content": "Extract data about a country."},
            {"role": "user", "content": "India?"},
        ],
        "stream": False,
        "max_tokens": 1024,
        "response_format": {"type": "json_schema", "json_schema": ARRAY_SCHEMA},
    }


def test_a_written_schema_on_a_native_model(server: WorkersAIServer) -> None:
    server.enqueue(native_answer(INDIA))
    run = wai("ask", "--schema", json.dumps(ARRAY_SCHEMA), "India?")
    assert (run.exit_code, run.stdout) == (0, INDIA_LINE)
    assert server.last_body["response_format"] == {
        "type": "json_schema",
        "json_schema": ARRAY_SCHEMA,
    }


def test_a_native_answer_as_a_string_of_json_is_reserialised(server: WorkersAIServer) -> None:
    server.enqueue(native_answer('\n{\n  "city":   "Zürich",\n  "rank": 1\n}\n'))
    run = wai("ask", "--schema", "city, rank int", "the best city?")
    assert (run.exit_code, run.stdout, run.stderr) == (0, '{"city": "Zürich", "rank": 1}\n', "")


def test_no_stream_and_usage_change_nothing_on_stdout(server: WorkersAIServer) -> None:
    server.enqueue(native_answer(INDIA))
    run = wai("ask", "--json-mode", "--no-stream", "-u", "India?")
    assert (run.exit_code, run.stdout) == (0, INDIA_LINE)
    assert run.stderr == "wai: usage: 12 prompt + 4 completion = 16 tokens\n"


# --- Workers AI: a Chat Completions model takes OpenAI's envelope ---


def test_a_schema_on_a_chat_completions_model_is_sent_in_the_envelope(
    server: WorkersAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "country.json"
    path.write_text(json.dumps(ARRAY_SCHEMA))
    server.enqueue(glm_answer(json.dumps(INDIA, indent=2)))
    run = wai("ask", "-m", GLM_47_FLASH, "--schema", f"@{path}", "India?")
    assert (run.exit_code, run.stdout, run.stderr) == (0, INDIA_LINE, "")
    assert server.last_body == {
        "messages": user("India?"),
        "stream": False,
        "max_tokens": GLM_MAX_TOKENS,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "country_facts", "schema": ARRAY_SCHEMA, "strict": True},
        },
    }
    assert server.v1_requests == []  # not streamed: /ai/run, not the OpenAI-compatible endpoint


def test_json_mode_on_a_chat_completions_model(server: WorkersAIServer) -> None:
    server.enqueue(glm_answer('{"answer": 42}'))
    run = wai("ask", "-m", GLM_47_FLASH, "--json-mode", "the answer?")
    assert (run.exit_code, run.stdout, run.stderr) == (0, '{"answer": 42}\n', "")
    assert server.last_body == {
        "messages": user("the answer?"),
        "stream": False,
        "max_tokens": GLM_MAX_TOKENS,
        "response_format": {"type": "json_object"},
    }


def test_a_concise_schema_is_named_answer(server: WorkersAIServer) -> None:
    server.enqueue(glm_answer('{"n": 3}'))
    run = wai("ask", "-m", GLM_47_FLASH, "--schema", "n int", "three?")
    assert (run.exit_code, run.stdout) == (0, '{"n": 3}\n')
    assert server.last_body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": {
                "type": "object",
                "properties": {"n": {"type": "integer"}},
                "required": ["n"],
            },
            "strict": True,
        },
    }


# --- stdout: one JSON document, exactly ---


def test_stdout_is_the_json_alone_in_a_real_process(server: WorkersAIServer) -> None:
    server.enqueue(native_answer({"city": "Zürich", "note": "a\nb"}))
    completed = wai_process("ask", "--schema", "city\nnote", "hi")
    assert completed.returncode == 0
    assert completed.stdout == '{"city": "Zürich", "note": "a\\nb"}\n'.encode()
    assert completed.stderr == b""


def test_markdown_is_not_applied(server: WorkersAIServer) -> None:
    server.enqueue(native_answer({"text": "**bold** and `code`"}))
    run = wai("ask", "--json-mode", "--markdown", "hi")
    assert (run.exit_code, run.stdout) == (0, '{"text": "**bold** and `code`"}\n')


def test_with_json_the_document_holds_the_answers_text(server: WorkersAIServer) -> None:
    server.enqueue(native_answer(INDIA))
    run = wai("ask", "--json-mode", "--json", "--session", "india", "India?")
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout.endswith("\n")
    assert run.stdout.count("\n") == 1
    assert json.loads(run.stdout) == {
        "response": json.dumps(INDIA, ensure_ascii=False),  # the text, as the session keeps it
        "reasoning": None,
        "model": DEFAULT_MODEL,
        "backend": "cloudflare",
        "usage": DEFAULT_USAGE,
        "finish_reason": "stop",
        "session": "india",
    }


def test_with_json_a_failed_check_prints_nothing(server: WorkersAIServer) -> None:
    run = wai("ask", "--json-mode", "--json", "--session", "hello", "hi")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.startswith("wai: error: the answer is not valid JSON: ")


# --- the answer's check: a failure prints nothing, and the session keeps the answer ---


def test_an_answer_that_is_not_json_fails(server: WorkersAIServer, isolated: Path) -> None:
    # The server's default answer: "Hello, world!"
    run = wai("ask", "--json-mode", "--session", "greeting", "hi")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        "wai: error: the answer is not valid JSON: Expecting value: line 1 column 1 (char 0)\n"
        "hint: ask again; the raw answer is kept: `wai sessions show greeting`\n"
    )
    assert last_answer(isolated, "greeting") == "Hello, world!"
    assert server.last_body["stream"] is False


def test_a_one_shots_hint_names_its_session(server: WorkersAIServer, isolated: Path) -> None:
    run = wai("ask", "--json-mode", "say hello")
    assert run.exit_code == 1
    [path] = (isolated / "data" / "sessions").glob("*.json")
    assert path.stem.endswith("-say-hello")
    hint = f"hint: ask again; the raw answer is kept: `wai sessions show {path.stem}`\n"
    assert run.stderr.endswith(hint)
    assert last_answer(isolated, path.stem) == "Hello, world!"


def test_an_answer_that_does_not_match_fails(server: WorkersAIServer, isolated: Path) -> None:
    server.enqueue(native_answer({"name": "Ada", "age": "36"}))
    run = wai("ask", "--schema", "name, age int", "--session", "ada", "who?")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        "wai: error: the answer does not match the schema: '36' is not of type 'integer' "
        "(at $.age)\n"
        "hint: ask again; the raw answer is kept: `wai sessions show ada`\n"
    )
    assert last_answer(isolated, "ada") == '{"name": "Ada", "age": "36"}'


def test_a_missing_field_fails(server: WorkersAIServer, isolated: Path) -> None:
    server.enqueue(glm_answer('{"name": "Ada"}'))
    run = wai("ask", "-m", GLM_47_FLASH, "--schema", "name, age int", "--session", "ada", "who?")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.startswith(
        "wai: error: the answer does not match the schema: 'age' is a required property (at $)\n"
    )
    assert last_answer(isolated, "ada") == '{"name": "Ada"}'


def test_without_a_session_the_hint_says_so(server: WorkersAIServer, isolated: Path) -> None:
    run = wai("ask", "--json-mode", "--no-save", "hi")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.endswith("hint: ask again (the raw answer was not saved)\n")
    assert not (isolated / "data" / "sessions").exists()


def test_json_mode_failing_on_the_server_is_an_error(server: WorkersAIServer) -> None:
    # Cloudflare documents the text only, not its status or code: these are a guess.
    server.enqueue(Reply.error(400, 5006, "JSON Mode couldn't be met"))
    run = wai("ask", "--json-mode", "hi")
    assert (run.exit_code, run.stdout) == (1, "")
    assert "JSON Mode couldn't be met" in run.stderr


# --- usage errors: nothing is sent ---


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ["--json-mode", "--schema", "name"],
            "wai: error: --json-mode and --schema cannot be used together "
            "(--schema asks for JSON already)\n",
        ),
        (
            ["--raw", "--json-mode"],
            "wai: error: --json-mode cannot be used with --raw: JSON mode needs messages\n",
        ),
        (
            ["--raw", "--schema", "name"],
            "wai: error: --schema cannot be used with --raw: JSON mode needs messages\n",
        ),
        (
            ["--schema", "@missing.json"],
            "wai: error: cannot read the schema file missing.json: No such file or directory\n",
        ),
        (
            ["--schema", '{"type": "object"'],
            "wai: error: --schema is not valid JSON: Expecting ',' delimiter: line 1 column 18 "
            "(char 17)\n"
            'hint: give a JSON schema (\'{"type": "object", ...}\'), @FILE, or fields '
            "('name, age int')\n",
        ),
        (
            ["--schema", '{"type": "objet"}'],
            "wai: error: --schema is not a valid JSON schema: 'objet' is not valid under any of "
            "the given schemas (at $.type)\n",
        ),
        (
            ["--schema", "name, age integer"],
            "wai: error: --schema field 2 ('age integer'): unknown type 'integer' "
            "(use str, int, float, bool)\n",
        ),
        (
            ["--schema", "name,,age"],
            "wai: error: --schema field 2 is empty\nhint: separate fields with single commas\n",
        ),
        (
            ["--schema", " "],
            "wai: error: --schema is empty\n"
            'hint: give a JSON schema (\'{"type": "object", ...}\'), @FILE, or fields '
            "('name, age int')\n",
        ),
    ],
)
def test_usage_errors(server: WorkersAIServer, args: list[str], stderr: str) -> None:
    run = wai("ask", *args, "hi")
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", stderr)
    assert server.requests == []


def test_a_missing_file_is_named_as_given(server: WorkersAIServer, tmp_path: Path) -> None:
    run = wai("ask", "--schema", f"@{tmp_path}/nope/schema.json", "hi")
    assert run.exit_code == 2
    assert run.stderr == (
        f"wai: error: cannot read the schema file {tmp_path}/nope/schema.json: "
        "No such file or directory\n"
    )


# --- --show-request ---


def test_show_request_shows_json_mode_unstreamed(server: WorkersAIServer) -> None:
    run = wai("ask", "--show-request", "--schema", "n int", "hi")
    assert run.exit_code == 0
    body = (
        '{"messages": [{"role": "user", "content": "hi"}], "stream": false, "max_tokens": 1024, '
        '"response_format": {"type": "json_schema", "json_schema": {"type": "object", '
        '"properties": {"n": {"type": "integer"}}, "required": ["n"]}}}'
    )
    assert run.stdout.endswith(f"  -H 'Content-Type: application/json' \\\n  -d '{body}'\n")
    assert "text/event-stream" not in run.stdout
    assert server.requests == []


# --- an OpenAI-compatible server takes OpenAI's shape as it is ---


def test_json_mode_on_an_openai_compatible_server(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_openai_server(config_file, openai_server)
    openai_server.enqueue(Reply.json(chat_completion('{"ok": true}')))
    run = wai("ask", "--json-mode", "ok?")
    assert (run.exit_code, run.stdout, run.stderr) == (0, '{"ok": true}\n', "")
    assert openai_server.last_body == {
        "model": MODELS[0],
        "messages": user("ok?"),
        "stream": False,
        "max_tokens": 1024,
        "response_format": {"type": "json_object"},
    }


def test_a_schema_on_an_openai_compatible_server(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    use_openai_server(config_file, openai_server)
    openai_server.enqueue(Reply.json(chat_completion(json.dumps(INDIA))))
    run = wai("ask", "--schema", json.dumps(ARRAY_SCHEMA), "India?")
    assert (run.exit_code, run.stdout, run.stderr) == (0, INDIA_LINE, "")
    assert openai_server.last_body == {
        "model": MODELS[0],
        "messages": user("India?"),
        "stream": False,
        "max_tokens": 1024,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "country_facts", "schema": ARRAY_SCHEMA, "strict": True},
        },
    }


def test_an_answer_cut_at_max_tokens_says_so(
    openai_server: OpenAIServer, config_file: Path, isolated: Path
) -> None:
    use_openai_server(config_file, openai_server)
    openai_server.enqueue(Reply.json(chat_completion('{"name": "Ad', finish_reason="length")))
    run = wai("ask", "--schema", "name", "--max-tokens", "5", "--session", "cut", "who?")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        "wai: the answer was cut at max_tokens (5); raise --max-tokens\n"
        "wai: error: the answer is not valid JSON: Unterminated string starting at: "
        "line 1 column 10 (char 9)\n"
        "hint: ask again; the raw answer is kept: `wai sessions show cut`\n"
    )
    assert last_answer(isolated, "cut") == '{"name": "Ad'


# --- start-up ---


def loads_jsonschema(*args: str) -> bool:
    """Whether `wai ARGS` imported jsonschema (tests/test_startup.py's probe)."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE % json.dumps(["jsonschema"]), *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    marker = completed.stderr.rsplit("LOADED ", 1)
    assert len(marker) == 2, completed.stderr
    return bool(json.loads(marker[1]))


def test_jsonschema_loads_only_to_check_a_schema_or_an_answer(server: WorkersAIServer) -> None:
    assert not loads_jsonschema("ask", "--help")
    assert not loads_jsonschema("ask", "--plain", "hi")
    assert not loads_jsonschema("ask", "--json-mode", "--no-save", "hi")  # fails: not JSON
    assert not loads_jsonschema("ask", "--schema", "name", "--show-request", "hi")  # no check
    # a written schema is checked before it is sent
    assert loads_jsonschema("ask", "--schema", '{"type": "object"}', "--show-request", "hi")
