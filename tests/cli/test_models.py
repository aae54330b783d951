"""`wai models`: Cloudflare's paged catalogue and a local server's /models, as a table or JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pexpect

from tests.conftest import Run, wai
from tests.servers.openai_compat import MODELS, OpenAIServer
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_CATALOGUE,
    DEFAULT_MODEL,
    TOKEN,
    WorkersAIServer,
    catalogue_entry,
)

SEARCH = f"/client/v4/accounts/{ACCOUNT}/ai/models/search"
PAGE_1 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=1"
PAGE_2 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=2"
PAGE_3 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=3"
LLAMA = "@cf/meta/llama-3.1-8b-instruct"

# The MODEL column is as wide as the longest id (the default model's, 41 characters).
HEADER = "   MODEL                                      CONTEXT  DESCRIPTION\n"
DEFAULT_ROW = (
    "*  @hf/thebloke/mistral-7b-instruct-v0.1-awq     4096  Mistral 7B Instruct v0.1, "
    "AWQ-quantised.\n"
)
LLAMA_ROW = "   @cf/meta/llama-3.1-8b-instruct                7968  Meta's Llama 3.1 8B Instruct.\n"


def numbered_row(number: int) -> str:
    """The row of `@cf/test/model-NN`: no context window, so a right-aligned `-`."""
    name = f"@cf/test/model-{number:02d}"
    return f"   {name}{' ' * (41 - len(name))}        -  Test model {number}.\n"


FULL_TABLE = HEADER + DEFAULT_ROW + LLAMA_ROW + "".join(numbered_row(i) for i in range(1, 59))

CONNECTION_REFUSED = "[Errno 111] Connection refused"


def write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def local_config(path: Path, base_url: str, extra: str = "") -> None:
    write_config(path, f'[backends.local]\ntype = "openai"\nbase_url = "{base_url}"\n{extra}')


def assert_run(run: Run, exit_code: int, stdout: str = "", stderr: str = "") -> None:
    assert (run.exit_code, run.stdout, run.stderr) == (exit_code, stdout, stderr)


def gets(server: WorkersAIServer | OpenAIServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests]


def json_entry(id: str, description: str, window: int | None, default: bool) -> dict[str, Any]:
    return {"id": id, "context_window": window, "description": description, "default": default}


# --- Cloudflare -------------------------------------------------------------------------------


def test_the_catalogue_is_one_table_across_both_pages(server: WorkersAIServer) -> None:
    run = wai("models")
    assert_run(run, 0, stdout=FULL_TABLE)
    assert len(run.stdout.splitlines()) == 1 + 60
    assert run.stdout.count("\n*  ") == 1
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]
    for request in server.requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_on_a_narrow_terminal_long_lines_end_in_an_ellipsis(server: WorkersAIServer) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "wai", "models"],
        env={**os.environ, "COLUMNS": "", "LINES": ""},
        dimensions=(24, 60),
        encoding="utf-8",
        timeout=30,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    lines = FULL_TABLE.splitlines()
    assert all(len(line) > 60 for line in lines)
    assert child.before.replace("\r\n", "\n") == "".join(line[:59] + "…\n" for line in lines)
    assert TOKEN not in child.before


def test_a_catalogue_of_exactly_one_page_asks_for_the_empty_next_one(
    server: WorkersAIServer,
) -> None:
    server.catalogue = DEFAULT_CATALOGUE[:50]
    run = wai("models")
    expected = HEADER + DEFAULT_ROW + LLAMA_ROW + "".join(numbered_row(i) for i in range(1, 49))
    assert_run(run, 0, stdout=expected)
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]


def test_a_catalogue_of_three_pages_is_read_whole(server: WorkersAIServer) -> None:
    more = [catalogue_entry(f"@cf/more/m-{i:02d}", f"More {i}.") for i in range(42)]
    server.catalogue = [*DEFAULT_CATALOGUE, *more]  # 102 models: pages of 50, 50 and 2
    run = wai("models")
    more_rows = "".join(f"   @cf/more/m-{i:02d}{' ' * 28}        -  More {i}.\n" for i in range(42))
    assert_run(run, 0, stdout=FULL_TABLE + more_rows)
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2), ("GET", PAGE_3)]


def test_a_model_set_in_the_config_is_the_one_marked(
    server: WorkersAIServer, config_file: Path
) -> None:
    write_config(config_file, f'model = "{LLAMA}"\n')
    run = wai("models", "--search", "instruct")
    assert_run(
        run,
        0,
        stdout=HEADER + DEFAULT_ROW.replace("*", " ", 1) + LLAMA_ROW.replace(" ", "*", 1),
    )


def test_wai_model_in_the_environment_is_the_one_marked(server: WorkersAIServer) -> None:
    run = wai("models", "--search", "instruct", env={"WAI_MODEL": LLAMA})
    assert_run(
        run, 0, stdout=HEADER + DEFAULT_ROW.replace("*", " ", 1) + LLAMA_ROW.replace(" ", "*", 1)
    )


def test_search_keeps_the_models_whose_id_matches(server: WorkersAIServer) -> None:
    run = wai("models", "--search", "llama")
    assert_run(
        run,
        0,
        stdout="   MODEL                           CONTEXT  DESCRIPTION\n"
        "   @cf/meta/llama-3.1-8b-instruct     7968  Meta's Llama 3.1 8B Instruct.\n",
    )
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]


def test_search_ignores_case_and_looks_at_descriptions(server: WorkersAIServer) -> None:
    # "QUANTISED" is only in the default model's description.
    run = wai("models", "-S", "QUANTISED")
    assert_run(run, 0, stdout=HEADER + DEFAULT_ROW)


def test_search_with_no_match_is_a_notice(server: WorkersAIServer) -> None:
    assert_run(
        wai("models", "--search", "gpt-5"), 0, stderr="wai: no models match 'gpt-5' on cloudflare\n"
    )


def test_search_does_not_warn_about_the_default_it_filtered_out(server: WorkersAIServer) -> None:
    run = wai("models", "--search", "model-58")
    assert_run(
        run,
        0,
        stdout="   MODEL              CONTEXT  DESCRIPTION\n"
        "   @cf/test/model-58        -  Test model 58.\n",
    )


def test_json_is_the_whole_list_with_the_default_flagged(server: WorkersAIServer) -> None:
    run = wai("models", "--json")
    assert run.exit_code == 0
    assert run.stderr == ""
    assert json.loads(run.stdout) == [
        json_entry(DEFAULT_MODEL, "Mistral 7B Instruct v0.1, AWQ-quantised.", 4096, True),
        json_entry(LLAMA, "Meta's Llama 3.1 8B Instruct.", 7968, False),
        *(
            json_entry(f"@cf/test/model-{i:02d}", f"Test model {i}.", None, False)
            for i in range(1, 59)
        ),
    ]
    assert run.stdout.startswith(
        "[\n"
        "  {\n"
        '    "id": "@hf/thebloke/mistral-7b-instruct-v0.1-awq",\n'
        '    "context_window": 4096,\n'
        '    "description": "Mistral 7B Instruct v0.1, AWQ-quantised.",\n'
        '    "default": true\n'
        "  },\n"
    )
    assert run.stdout.endswith("  }\n]\n")
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]


def test_json_with_search(server: WorkersAIServer) -> None:
    run = wai("models", "--json", "--search", "llama")
    assert_run(
        run,
        0,
        stdout="[\n"
        "  {\n"
        '    "id": "@cf/meta/llama-3.1-8b-instruct",\n'
        '    "context_window": 7968,\n'
        '    "description": "Meta\'s Llama 3.1 8B Instruct.",\n'
        '    "default": false\n'
        "  }\n"
        "]\n",
    )


def test_json_with_no_match_is_an_empty_list(server: WorkersAIServer) -> None:
    assert_run(wai("models", "--json", "--search", "gpt-5"), 0, stdout="[]\n")


def test_a_catalogue_without_the_configured_model_says_so(server: WorkersAIServer) -> None:
    server.catalogue = [
        catalogue_entry(LLAMA, "Meta's Llama 3.1 8B Instruct.", 7968),
        catalogue_entry("@cf/qwen/qwq-32b", "QwQ, the reasoning model of Qwen.", 24000),
    ]
    run = wai("models")
    assert_run(
        run,
        0,
        stdout="   MODEL                           CONTEXT  DESCRIPTION\n"
        "   @cf/meta/llama-3.1-8b-instruct     7968  Meta's Llama 3.1 8B Instruct.\n"
        "   @cf/qwen/qwq-32b                  24000  QwQ, the reasoning model of Qwen.\n",
        stderr=f"wai: the configured model {DEFAULT_MODEL} is not in this list\n",
    )
    assert gets(server) == [("GET", PAGE_1)]


def test_descriptions_are_kept_on_one_line(server: WorkersAIServer) -> None:
    server.catalogue = [
        catalogue_entry(DEFAULT_MODEL, "  Mistral 7B,\n  quantised\twith AWQ.  ", 4096),
    ]
    run = wai("models")
    assert_run(
        run,
        0,
        stdout="   MODEL                                      CONTEXT  DESCRIPTION\n"
        "*  @hf/thebloke/mistral-7b-instruct-v0.1-awq     4096  Mistral 7B, quantised with AWQ.\n",
    )


def test_a_bad_token_is_exit_3_with_the_token_message(server: WorkersAIServer) -> None:
    bad = "not-the-token-q7Rt"
    run = wai("models", env={"CLOUDFLARE_API_TOKEN": bad})
    assert_run(
        run,
        3,
        stderr="wai: error: Cloudflare refused the API token: Authentication error\n"
        "hint: check CLOUDFLARE_API_TOKEN; the token needs Workers AI Read and Edit "
        "permissions (https://dash.cloudflare.com/profile/api-tokens)\n",
    )
    run.assert_secret_absent(bad)
    assert gets(server) == [("GET", PAGE_1)]


def test_without_credentials_nothing_is_sent(server: WorkersAIServer) -> None:
    run = wai("models", env={"CLOUDFLARE_ACCOUNT_ID": "", "CLOUDFLARE_API_TOKEN": ""})
    assert_run(
        run,
        3,
        stderr="wai: error: no Cloudflare account id is configured\n"
        "hint: run `wai login`, or export CLOUDFLARE_ACCOUNT_ID=...\n",
    )
    assert server.requests == []


def test_the_cloudflare_api_down_is_exit_4(closed_port: int) -> None:
    env = {
        "CLOUDFLARE_API_BASE_URL": f"http://127.0.0.1:{closed_port}/client/v4",
        "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
        "CLOUDFLARE_API_TOKEN": TOKEN,
    }
    run = wai("models", env=env)
    assert_run(
        run,
        4,
        stderr=f"wai: error: could not connect to 127.0.0.1:{closed_port}: {CONNECTION_REFUSED}\n"
        "hint: check your network connection and the backend's base_url\n",
    )


def test_an_unknown_backend_is_a_usage_error(server: WorkersAIServer) -> None:
    run = wai("models", "-b", "nope")
    assert_run(
        run,
        2,
        stderr="wai: error: unknown backend 'nope' "
        "(known: cloudflare, llamacpp, lmstudio, ollama, vllm)\n"
        "hint: add a [backends.nope] table with `wai config set backends.nope.type ...`\n",
    )
    assert server.requests == []


# --- a local OpenAI-compatible server ---------------------------------------------------------

LOCAL_HEADER = "   MODEL                         CONTEXT  DESCRIPTION\n"
QWEN_ROW = "   qwen2.5-0.5b-instruct-q4_k_m        -  owned by llamacpp\n"
SMOL_ROW = "   smollm2-135m-instruct-q8_0          -  owned by llamacpp\n"


def marked(row: str) -> str:
    return "*" + row[1:]


def test_a_local_server_lists_its_models_the_first_one_marked(
    openai_server: OpenAIServer, config_file: Path, server: WorkersAIServer
) -> None:
    local_config(config_file, openai_server.base_url)
    run = wai("models", "-b", "local")
    assert_run(run, 0, stdout=LOCAL_HEADER + marked(QWEN_ROW) + SMOL_ROW)
    assert openai_server.calls == [("GET", "/v1/models")]
    assert server.requests == []  # nothing went to Cloudflare
    assert "Authorization" not in openai_server.requests[0].headers


def test_a_local_server_with_a_configured_model_marks_that_one(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    local_config(config_file, openai_server.base_url, f'model = "{MODELS[1]}"\n')
    run = wai("models", "--backend", "local")
    assert_run(run, 0, stdout=LOCAL_HEADER + QWEN_ROW + marked(SMOL_ROW))


def test_a_local_default_backend_needs_no_flag(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    write_config(
        config_file,
        f'backend = "local"\nmodel = "{MODELS[1]}"\n\n'
        f'[backends.local]\ntype = "openai"\nbase_url = "{openai_server.base_url}"\n',
    )
    run = wai("models")
    assert_run(run, 0, stdout=LOCAL_HEADER + QWEN_ROW + marked(SMOL_ROW))


def test_a_local_model_the_server_does_not_have_is_a_notice(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    local_config(config_file, openai_server.base_url, 'model = "llama-3-8b"\n')
    run = wai("models", "-b", "local")
    assert_run(
        run,
        0,
        stdout=LOCAL_HEADER + QWEN_ROW + SMOL_ROW,
        stderr="wai: the configured model llama-3-8b is not in this list\n",
    )


def test_a_local_server_as_json(openai_server: OpenAIServer, config_file: Path) -> None:
    local_config(config_file, openai_server.base_url)
    run = wai("models", "-b", "local", "--json")
    assert run.exit_code == 0
    assert run.stderr == ""
    assert json.loads(run.stdout) == [
        json_entry(MODELS[0], "owned by llamacpp", None, True),
        json_entry(MODELS[1], "owned by llamacpp", None, False),
    ]


def test_a_local_server_without_models_is_a_notice(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    openai_server.models = []
    local_config(config_file, openai_server.base_url)
    assert_run(wai("models", "-b", "local"), 0, stderr="wai: no models on local\n")


def test_a_local_api_key_is_sent_and_never_shown(
    config_file: Path,
) -> None:
    key = "sk-local-key-8HfQ2x"
    instance = OpenAIServer(api_key=key).start()
    try:
        local_config(config_file, instance.base_url, f'api_key = "{key}"\n')
        run = wai("models", "-b", "local")
        assert_run(run, 0, stdout=LOCAL_HEADER + marked(QWEN_ROW) + SMOL_ROW)
        assert instance.requests[0].headers["Authorization"] == f"Bearer {key}"
        local_config(config_file, instance.base_url, 'api_key = "wrong"\n')
        refused = wai("models", "-b", "local")
        assert refused.exit_code == 3
        assert refused.stdout == ""
        assert refused.stderr.startswith(
            f"wai: error: the local server at {instance.base_url} answered HTTP 401: "
        )
        run.assert_secret_absent(key)
        refused.assert_secret_absent(key)
    finally:
        instance.stop()
    assert instance.errors == []


def test_a_local_server_that_is_down_is_exit_4(config_file: Path, closed_port: int) -> None:
    base_url = f"http://127.0.0.1:{closed_port}/v1"
    local_config(config_file, base_url)
    run = wai("models", "-b", "local")
    assert_run(
        run,
        4,
        stderr=f"wai: error: could not connect to the local server at {base_url}: "
        f"{CONNECTION_REFUSED}\n"
        "hint: start the server, or check backends.local.base_url\n",
    )


def test_a_preset_that_is_down_says_how_to_start_it(config_file: Path, closed_port: int) -> None:
    base_url = f"http://127.0.0.1:{closed_port}/v1"
    write_config(config_file, f'[backends.ollama]\nbase_url = "{base_url}"\n')
    run = wai("models", "-b", "ollama")
    assert_run(
        run,
        4,
        stderr=f"wai: error: could not connect to the ollama server at {base_url}: "
        f"{CONNECTION_REFUSED}\n"
        "hint: start it with: ollama serve (and `ollama pull MODEL` once)\n",
    )
