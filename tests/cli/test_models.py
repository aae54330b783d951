"""`wai models`: Cloudflare's paged catalogue (cached for a day) and a local server's /models,
as a table or JSON; `wai models show MODEL`: one model's facts and input parameters."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.conftest import Run, wai
from tests.servers.openai_compat import MODELS, OpenAIServer, llama_meta, llama_props
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_CATALOGUE,
    DEFAULT_MODEL,
    GLM_53_FLASH,
    GPT_OSS_120B,
    GPT_OSS_DESCRIPTION,
    GPT_OSS_INPUT,
    LLAMA4_SCOUT,
    RETIRING_DATE,
    RETIRING_MODEL,
    SEED_INPUT,
    TOKEN,
    WorkersAIServer,
    catalogue_entry,
)

SEARCH = f"/client/v4/accounts/{ACCOUNT}/ai/models/search"
PAGE_1 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=1"
PAGE_2 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=2"
PAGE_3 = f"{SEARCH}?task=Text%20Generation&per_page=50&page=3"
SCHEMA = f"/client/v4/accounts/{ACCOUNT}/ai/models/schema"
LLAMA = "@cf/meta/llama-3.1-8b-instruct"

# The MODEL column is as wide as the longest id (the default model's, 41 characters); RETIRES
# as wide as a date when a listed model has one.
HEADER = (
    "   MODEL                                      CONTEXT  REASONING  TOOLS  RETIRES     "
    "DESCRIPTION\n"
)
DEFAULT_ROW = (
    "*  @hf/thebloke/mistral-7b-instruct-v0.1-awq     4096  -          -      -           "
    "Mistral 7B Instruct v0.1, AWQ-quantised.\n"
)
LLAMA_ROW = (
    "   @cf/meta/llama-3.1-8b-instruct                7968  -          -      -           "
    "Meta's Llama 3.1 8B Instruct.\n"
)
GPT_OSS_ROW = (
    f"   {GPT_OSS_120B:<41}   128000  yes        yes    -           {GPT_OSS_DESCRIPTION}\n"
)
SCOUT_ROW = (
    f"   {LLAMA4_SCOUT:<41}   131000  -          yes    -           "
    "Meta's Llama 4 Scout is a 17 billion parameter model with 16 experts.\n"
)
RETIRING_ROW = (
    f"   {RETIRING_MODEL:<41}     7968  -          -      2027-03-31  Meta Llama 3 8B Instruct.\n"
)
GLM_ROW = (  # the catalogue says 1310720: clamped
    f"   {GLM_53_FLASH:<41}  1048576  yes        yes    -           "
    "GLM-5.3-Flash, a fast reasoning model from Z.ai.\n"
)


def numbered_row(number: int) -> str:
    """The row of `@cf/test/model-NN`: no facts, so a right-aligned `-` and `-` in each column."""
    name = f"@cf/test/model-{number:02d}"
    return f"   {name:<41}        -  -          -      -           Test model {number}.\n"


FULL_TABLE = (
    HEADER
    + DEFAULT_ROW
    + LLAMA_ROW
    + "".join(numbered_row(i) for i in range(1, 55))
    + GPT_OSS_ROW
    + SCOUT_ROW
    + RETIRING_ROW
    + GLM_ROW
)
INSTRUCT_TABLE = HEADER + DEFAULT_ROW + LLAMA_ROW + SCOUT_ROW + RETIRING_ROW  # `-S instruct`

CONNECTION_REFUSED = "[Errno 111] Connection refused"
RETIRES_AT = 73  # where RETIRES starts when MODEL is 41 wide


def without_dates(table: str) -> str:
    """`table` (MODEL 41 wide) as printed when no model in it has a date: RETIRES is only as wide
    as its title (7), not as a date (10)."""
    lines = table.splitlines(keepends=True)
    return "".join(line[: RETIRES_AT + 7] + line[RETIRES_AT + 10 :] for line in lines)


def write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def local_config(path: Path, base_url: str, extra: str = "") -> None:
    write_config(path, f'[backends.local]\ntype = "openai"\nbase_url = "{base_url}"\n{extra}')


def assert_run(run: Run, exit_code: int, stdout: str = "", stderr: str = "") -> None:
    assert (run.exit_code, run.stdout, run.stderr) == (exit_code, stdout, stderr)


def gets(server: WorkersAIServer | OpenAIServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests]


def json_entry(
    id: str, description: str, window: int | None, default: bool, **facts: Any
) -> dict[str, Any]:
    return {
        "id": id,
        "context_window": window,
        "description": description,
        "reasoning": None,
        "function_calling": None,
        "deprecation": None,
        "prices": [],
        **facts,
        "default": default,
    }


def cache_path(isolated: Path, backend: str = "cloudflare") -> Path:
    return isolated / "cache" / f"models-{backend}.json"


def cached_entry(id: str, description: str = "", window: int | None = None) -> dict[str, Any]:
    """A model as the cache file holds it (ModelInfo's fields)."""
    return {
        "id": id,
        "description": description,
        "context_window": window,
        "reasons": None,
        "function_calling": None,
        "deprecation": None,
        "prices": [],
    }


def write_cache(isolated: Path, age: timedelta, models: list[dict[str, Any]]) -> Path:
    """A cache file of Cloudflare's catalogue fetched `age` ago."""
    path = cache_path(isolated)
    path.parent.mkdir(parents=True, exist_ok=True)
    fetched = (datetime.now(UTC) - age).isoformat(timespec="seconds")
    document = {"format": "wai.models/1", "fetched": fetched, "backend": "cloudflare"}
    path.write_text(json.dumps({**document, "models": models}))
    return path


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
    assert_run(run, 0, stdout=without_dates(expected))
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]


def test_a_catalogue_of_three_pages_is_read_whole(server: WorkersAIServer) -> None:
    more = [catalogue_entry(f"@cf/more/m-{i:02d}", f"More {i}.") for i in range(42)]
    server.catalogue = [*DEFAULT_CATALOGUE, *more]  # 102 models: pages of 50, 50 and 2
    run = wai("models")
    more_rows = "".join(
        f"   @cf/more/m-{i:02d}{' ' * 28}        -  -          -      -           More {i}.\n"
        for i in range(42)
    )
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
        stdout=INSTRUCT_TABLE.replace("*", " ", 1).replace("   @cf/meta/l", "*  @cf/meta/l", 1),
    )


def test_wai_model_in_the_environment_is_the_one_marked(server: WorkersAIServer) -> None:
    run = wai("models", "--search", "instruct", env={"WAI_MODEL": LLAMA})
    assert_run(
        run,
        0,
        stdout=INSTRUCT_TABLE.replace("*", " ", 1).replace("   @cf/meta/l", "*  @cf/meta/l", 1),
    )


def test_search_keeps_the_models_whose_id_matches(server: WorkersAIServer) -> None:
    run = wai("models", "--search", "llama-3.1")
    assert_run(
        run,
        0,
        stdout="   MODEL                           CONTEXT  REASONING  TOOLS  RETIRES  "
        "DESCRIPTION\n"
        "   @cf/meta/llama-3.1-8b-instruct     7968  -          -      -        "
        "Meta's Llama 3.1 8B Instruct.\n",
    )
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]


def test_search_ignores_case_and_looks_at_descriptions(server: WorkersAIServer) -> None:
    # "QUANTISED" is only in the default model's description.
    run = wai("models", "-S", "QUANTISED")
    assert_run(run, 0, stdout=without_dates(HEADER + DEFAULT_ROW))


def test_search_with_no_match_is_a_notice(server: WorkersAIServer) -> None:
    assert_run(
        wai("models", "--search", "gpt-5"), 0, stderr="wai: no models match 'gpt-5' on cloudflare\n"
    )


def test_search_does_not_warn_about_the_default_it_filtered_out(server: WorkersAIServer) -> None:
    run = wai("models", "--search", "model-54")
    assert_run(
        run,
        0,
        stdout="   MODEL              CONTEXT  REASONING  TOOLS  RETIRES  DESCRIPTION\n"
        "   @cf/test/model-54        -  -          -      -        Test model 54.\n",
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
            for i in range(1, 55)
        ),
        json_entry(
            GPT_OSS_120B,
            GPT_OSS_DESCRIPTION,
            128000,
            False,
            reasoning=True,
            function_calling=True,
            prices=["0.35 USD per M input tokens", "0.75 USD per M output tokens"],
        ),
        json_entry(
            LLAMA4_SCOUT,
            "Meta's Llama 4 Scout is a 17 billion parameter model with 16 experts.",
            131000,
            False,
            function_calling=True,
            prices=["0.27 USD per M input tokens", "0.85 USD per M output tokens"],
        ),
        json_entry(
            RETIRING_MODEL, "Meta Llama 3 8B Instruct.", 7968, False, deprecation=RETIRING_DATE
        ),
        json_entry(
            GLM_53_FLASH,
            "GLM-5.3-Flash, a fast reasoning model from Z.ai.",
            1048576,
            False,
            reasoning=True,
            function_calling=True,
        ),
    ]
    assert run.stdout.startswith(
        "[\n"
        "  {\n"
        '    "id": "@hf/thebloke/mistral-7b-instruct-v0.1-awq",\n'
        '    "context_window": 4096,\n'
        '    "description": "Mistral 7B Instruct v0.1, AWQ-quantised.",\n'
        '    "reasoning": null,\n'
        '    "function_calling": null,\n'
        '    "deprecation": null,\n'
        '    "prices": [],\n'
        '    "default": true\n'
        "  },\n"
    )
    assert run.stdout.endswith("  }\n]\n")
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]


def test_json_with_search(server: WorkersAIServer) -> None:
    run = wai("models", "--json", "--search", "glm-5")
    assert_run(
        run,
        0,
        stdout="[\n"
        "  {\n"
        '    "id": "@cf/zai-org/glm-5.3-flash",\n'
        '    "context_window": 1048576,\n'
        '    "description": "GLM-5.3-Flash, a fast reasoning model from Z.ai.",\n'
        '    "reasoning": true,\n'
        '    "function_calling": true,\n'
        '    "deprecation": null,\n'
        '    "prices": [],\n'
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
        stdout="   MODEL                           CONTEXT  REASONING  TOOLS  RETIRES  "
        "DESCRIPTION\n"
        "   @cf/meta/llama-3.1-8b-instruct     7968  -          -      -        "
        "Meta's Llama 3.1 8B Instruct.\n"
        "   @cf/qwen/qwq-32b                  24000  -          -      -        "
        "QwQ, the reasoning model of Qwen.\n",
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
        stdout=without_dates(HEADER)
        + "*  @hf/thebloke/mistral-7b-instruct-v0.1-awq     4096  -          -      -        "
        "Mistral 7B, quantised with AWQ.\n",
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

LOCAL_HEADER = "   MODEL                         CONTEXT  REASONING  TOOLS  RETIRES  DESCRIPTION\n"
QWEN_ROW = (
    "   qwen2.5-0.5b-instruct-q4_k_m        -  -          -      -        owned by llamacpp\n"
)
SMOL_ROW = (
    "   smollm2-135m-instruct-q8_0          -  -          -      -        owned by llamacpp\n"
)


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


# --- the cache of Cloudflare's catalogue ------------------------------------------------------


def gpt_oss_cached() -> dict[str, Any]:
    return {
        **cached_entry(GPT_OSS_120B, GPT_OSS_DESCRIPTION, 128000),
        "reasons": True,
        "function_calling": True,
        "prices": ["0.35 USD per M input tokens", "0.75 USD per M output tokens"],
    }


def ignored(path: Path, why: str) -> str:
    return (
        f"wai: warning: ignored the model cache {path}: {why}; "
        "it is rewritten at the next `wai models`\n"
    )


def test_the_fetched_catalogue_is_cached_with_every_fact(
    server: WorkersAIServer, isolated: Path
) -> None:
    assert_run(wai("models"), 0, stdout=FULL_TABLE)
    document = json.loads(cache_path(isolated).read_text())
    fetched = datetime.fromisoformat(document.pop("fetched"))
    assert timedelta(0) <= datetime.now(UTC) - fetched < timedelta(minutes=1)
    assert fetched.utcoffset() == timedelta(0)
    models = document.pop("models")
    assert document == {"format": "wai.models/1", "backend": "cloudflare"}
    assert len(models) == 60
    assert models[:3] == [
        cached_entry(DEFAULT_MODEL, "Mistral 7B Instruct v0.1, AWQ-quantised.", 4096),
        cached_entry(LLAMA, "Meta's Llama 3.1 8B Instruct.", 7968),
        cached_entry("@cf/test/model-01", "Test model 1."),
    ]
    assert models[-4:] == [
        gpt_oss_cached(),
        {
            **cached_entry(
                LLAMA4_SCOUT,
                "Meta's Llama 4 Scout is a 17 billion parameter model with 16 experts.",
                131000,
            ),
            "function_calling": True,
            "prices": ["0.27 USD per M input tokens", "0.85 USD per M output tokens"],
        },
        {
            **cached_entry(RETIRING_MODEL, "Meta Llama 3 8B Instruct.", 7968),
            "deprecation": RETIRING_DATE,
        },
        {
            **cached_entry(
                GLM_53_FLASH, "GLM-5.3-Flash, a fast reasoning model from Z.ai.", 1048576
            ),
            "reasons": True,
            "function_calling": True,
        },
    ]


def test_a_fresh_cache_answers_without_a_request(server: WorkersAIServer) -> None:
    assert_run(wai("models"), 0, stdout=FULL_TABLE)
    assert_run(wai("models", "-S", "instruct"), 0, stdout=INSTRUCT_TABLE)
    assert json.loads(wai("models", "--json").stdout)[0] == json_entry(
        DEFAULT_MODEL, "Mistral 7B Instruct v0.1, AWQ-quantised.", 4096, True
    )
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]


def test_refresh_fetches_the_catalogue_again_and_rewrites_the_cache(
    server: WorkersAIServer, isolated: Path
) -> None:
    assert_run(wai("models"), 0, stdout=FULL_TABLE)
    server.catalogue = [catalogue_entry(DEFAULT_MODEL, "Mistral, now alone.", 4096)]
    assert_run(wai("models"), 0, stdout=FULL_TABLE)  # the cache, still fresh
    run = wai("models", "--refresh")
    assert_run(
        run,
        0,
        stdout=without_dates(HEADER)
        + "*  @hf/thebloke/mistral-7b-instruct-v0.1-awq     4096  -          -      -        "
        "Mistral, now alone.\n",
    )
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2), ("GET", PAGE_1)]
    cached = json.loads(cache_path(isolated).read_text())["models"]
    assert cached == [cached_entry(DEFAULT_MODEL, "Mistral, now alone.", 4096)]


def test_a_cache_younger_than_a_day_is_used(server: WorkersAIServer, isolated: Path) -> None:
    write_cache(isolated, timedelta(hours=23), [cached_entry(DEFAULT_MODEL, "Cached.", 2048)])
    run = wai("models")
    assert_run(
        run,
        0,
        stdout=without_dates(HEADER)
        + "*  @hf/thebloke/mistral-7b-instruct-v0.1-awq     2048  -          -      -        "
        "Cached.\n",
    )
    assert server.requests == []


def test_a_cache_older_than_a_day_is_fetched_again(server: WorkersAIServer, isolated: Path) -> None:
    path = write_cache(
        isolated, timedelta(hours=25), [cached_entry(DEFAULT_MODEL, "Cached.", 2048)]
    )
    assert_run(wai("models"), 0, stdout=FULL_TABLE)
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]
    assert len(json.loads(path.read_text())["models"]) == 60


BROKEN_CACHES = {
    "not JSON": ('{"format": ', "Expecting value: line 1 column 12 (char 11)"),
    "not a cache": ("[]", "it is not a wai.models/1 document"),
    "a bad window": (
        json.dumps(
            {
                "format": "wai.models/1",
                "fetched": datetime.now(UTC).isoformat(),
                "models": [{"id": DEFAULT_MODEL, "context_window": "4096"}],
            }
        ),
        f"the context_window of {DEFAULT_MODEL} is '4096'",
    ),
}


@pytest.mark.parametrize("broken", BROKEN_CACHES.values(), ids=BROKEN_CACHES.keys())
def test_a_broken_cache_is_a_warning_and_is_rewritten(
    server: WorkersAIServer, isolated: Path, broken: tuple[str, str]
) -> None:
    contents, why = broken
    path = cache_path(isolated)
    path.parent.mkdir(parents=True)
    path.write_text(contents)
    assert_run(wai("models"), 0, stdout=FULL_TABLE, stderr=ignored(path, why))
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)]
    assert len(json.loads(path.read_text())["models"]) == 60
    assert_run(wai("models", "-S", "QUANTISED"), 0, stdout=without_dates(HEADER + DEFAULT_ROW))
    assert len(server.requests) == 2


def test_refresh_does_not_read_a_broken_cache(server: WorkersAIServer, isolated: Path) -> None:
    path = cache_path(isolated)
    path.parent.mkdir(parents=True)
    path.write_text("{")
    assert_run(wai("models", "--refresh"), 0, stdout=FULL_TABLE)
    assert len(json.loads(path.read_text())["models"]) == 60


def test_a_failed_fetch_leaves_the_cache_alone(server: WorkersAIServer, isolated: Path) -> None:
    path = write_cache(
        isolated, timedelta(hours=25), [cached_entry(DEFAULT_MODEL, "Cached.", 2048)]
    )
    before = path.read_text()
    run = wai("models", env={"CLOUDFLARE_API_TOKEN": "not-the-token-q7Rt"})
    assert run.exit_code == 3
    assert path.read_text() == before


def test_a_local_server_is_asked_every_time_and_its_list_cached(
    openai_server: OpenAIServer, config_file: Path, isolated: Path
) -> None:
    local_config(config_file, openai_server.base_url)
    for _ in range(2):  # a local server's models come and go: no cached answer
        assert_run(
            wai("models", "-b", "local"), 0, stdout=LOCAL_HEADER + marked(QWEN_ROW) + SMOL_ROW
        )
    assert openai_server.calls == [("GET", "/v1/models")] * 2
    document = json.loads(cache_path(isolated, "local").read_text())
    assert document["backend"] == "local"
    assert document["models"] == [
        cached_entry(MODELS[0], "owned by llamacpp"),
        cached_entry(MODELS[1], "owned by llamacpp"),
    ]


# --- llama.cpp's context window ---------------------------------------------------------------


def qwen_row(window: int) -> str:
    return f"*  {MODELS[0]}  {window:>7}  -          -      -        owned by llamacpp\n"


def test_llama_cpp_meta_gives_the_trained_context(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    openai_server.models = [MODELS[0]]
    openai_server.meta = llama_meta(32768)
    local_config(config_file, openai_server.base_url)
    assert_run(wai("models", "-b", "local"), 0, stdout=LOCAL_HEADER + qwen_row(32768))
    # /props answered 404 (an older llama.cpp): the trained context stays, nothing is said
    assert openai_server.calls == [("GET", "/v1/models"), ("GET", "/props")]


def test_llama_cpp_props_give_the_serving_context(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    openai_server.models = [MODELS[0]]
    openai_server.meta = llama_meta(32768)
    openai_server.props = llama_props(4096)
    local_config(config_file, openai_server.base_url)
    assert_run(wai("models", "-b", "local"), 0, stdout=LOCAL_HEADER + qwen_row(4096))
    run = wai("models", "-b", "local", "--json")
    assert json.loads(run.stdout) == [json_entry(MODELS[0], "owned by llamacpp", 4096, True)]


def test_several_llama_cpp_models_keep_their_trained_contexts(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    openai_server.meta = llama_meta(32768)
    openai_server.props = llama_props(4096)  # whose n_ctx? with two models, nobody's
    local_config(config_file, openai_server.base_url)
    run = wai("models", "-b", "local", "--json")
    assert json.loads(run.stdout) == [
        json_entry(MODELS[0], "owned by llamacpp", 32768, True),
        json_entry(MODELS[1], "owned by llamacpp", 32768, False),
    ]
    assert openai_server.calls == [("GET", "/v1/models")]


# --- wai models show --------------------------------------------------------------------------

GPT_OSS_SHOW = (
    f"model             {GPT_OSS_120B}\n"
    f"description       {GPT_OSS_DESCRIPTION}\n"
    "context window    128000 tokens\n"
    "reasoning         yes\n"
    "function calling  yes\n"
    "prices            0.35 USD per M input tokens\n"
    "                  0.75 USD per M output tokens\n"
    "retires           -\n"
    "\n"
    "PARAMETER         TYPE          RANGE            DEFAULT  DESCRIPTION\n"
    "input             string|array  -                -        "
    "Responses API input: a text or a list of messages.\n"
    "reasoning         object        -                -        "
    "How hard the model thinks before answering.\n"
    "messages          array         -                -        "
    "The conversation, oldest message first.\n"
    "max_tokens        integer       -                -        The most tokens to generate.\n"
    "temperature       number        0 to 2           1        "
    "Sampling temperature: higher is more random.\n"
    "reasoning_effort  string        low|medium|high  medium   Constrains effort on reasoning.\n"
)

SEED_SHOW = (
    f"model             {DEFAULT_MODEL}\n"
    "description       Mistral 7B Instruct v0.1, AWQ-quantised.\n"
    "context window    4096 tokens\n"
    "reasoning         -\n"
    "function calling  -\n"
    "prices            -\n"
    "retires           -\n"
    "\n"
    "PARAMETER           TYPE     RANGE            DEFAULT  DESCRIPTION\n"
    "prompt              string   -                -\n"
    "lora                string   -                -\n"
    "response_format     object   -                -\n"
    "raw                 boolean  -                false\n"
    "stream              boolean  -                false\n"
    "max_tokens          integer  -                256\n"
    "temperature         number   0 to 5           0.6\n"
    "top_p               number   0.001 to 1       -\n"
    "top_k               integer  1 to 50          -\n"
    "seed                integer  1 to 9999999999  -\n"
    "repetition_penalty  number   0 to 2           -\n"
    "frequency_penalty   number   -2 to 2          -\n"
    "presence_penalty    number   -2 to 2          -\n"
    "messages            array    -                -\n"
    "functions           array    -                -\n"
    "tools               array    -                -\n"
)


def schema_get(model: str) -> tuple[str, str]:
    return ("GET", f"{SCHEMA}?model={model.replace('@', '%40').replace('/', '%2F')}")


def test_show_prints_the_facts_and_the_parameters_of_every_branch(
    server: WorkersAIServer,
) -> None:
    assert_run(wai("models", "show", GPT_OSS_120B), 0, stdout=GPT_OSS_SHOW)
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2), schema_get(GPT_OSS_120B)]
    assert server.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"


def test_show_of_the_seed_model_lists_both_branches_once(server: WorkersAIServer) -> None:
    assert_run(wai("models", "show", DEFAULT_MODEL), 0, stdout=SEED_SHOW)


def test_show_says_when_a_model_retires(server: WorkersAIServer) -> None:
    run = wai("models", "show", RETIRING_MODEL)
    assert run.exit_code == 0
    assert run.stdout.splitlines()[2:8] == [
        "context window    7968 tokens",
        "reasoning         -",
        "function calling  -",
        "prices            -",
        f"retires           {RETIRING_DATE}",
        "",
    ]


def test_show_reads_the_facts_from_a_fresh_cache(server: WorkersAIServer) -> None:
    assert_run(wai("models"), 0, stdout=FULL_TABLE)
    assert_run(wai("models", "show", GPT_OSS_120B), 0, stdout=GPT_OSS_SHOW)
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2), schema_get(GPT_OSS_120B)]


def test_show_as_json_is_the_model_and_its_input_schema(server: WorkersAIServer) -> None:
    run = wai("models", "show", GPT_OSS_120B, "--json")
    assert run.exit_code == 0
    assert run.stderr == ""
    assert json.loads(run.stdout) == {
        "model": json_entry(
            GPT_OSS_120B,
            GPT_OSS_DESCRIPTION,
            128000,
            False,
            reasoning=True,
            function_calling=True,
            prices=["0.35 USD per M input tokens", "0.75 USD per M output tokens"],
        ),
        "input": GPT_OSS_INPUT,
    }
    seed = json.loads(wai("models", "--json", "show", DEFAULT_MODEL).stdout)
    assert seed["model"]["default"] is True
    assert seed["input"] == SEED_INPUT


def test_show_of_an_unknown_model_is_a_usage_error(server: WorkersAIServer) -> None:
    assert_run(wai("models"), 0, stdout=FULL_TABLE)
    run = wai("models", "show", "@cf/nope/never")
    assert_run(
        run,
        2,
        stderr="wai: error: unknown model '@cf/nope/never' on cloudflare\n"
        "hint: `wai models` lists them\n",
    )
    # not in the cached catalogue: perhaps newer than it, so the catalogue was fetched again
    assert gets(server) == [("GET", PAGE_1), ("GET", PAGE_2)] * 2


def test_show_of_a_model_added_since_the_cache_was_written(
    server: WorkersAIServer, isolated: Path
) -> None:
    write_cache(isolated, timedelta(hours=1), [cached_entry(DEFAULT_MODEL, "Cached.", 2048)])
    run = wai("models", "show", GPT_OSS_120B)
    assert_run(run, 0, stdout=GPT_OSS_SHOW)
    assert len(json.loads(cache_path(isolated).read_text())["models"]) == 60


def test_show_of_a_model_without_a_schema_is_the_backend_error(
    server: WorkersAIServer, isolated: Path
) -> None:
    new = "@cf/new/model"
    write_cache(isolated, timedelta(hours=1), [cached_entry(new, "New.")])
    run = wai("models", "show", new)
    assert_run(
        run,
        1,
        stderr=f"wai: error: Cloudflare has no schema for the model {new}: "
        f"No such model {new} or task\n"
        "hint: `wai models` lists the current models\n",
    )
    assert gets(server) == [schema_get(new)]


def test_show_of_a_local_model_is_what_models_says(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    local_config(config_file, openai_server.base_url)
    run = wai("models", "show", MODELS[1], "-b", "local")
    assert_run(
        run,
        0,
        stdout=f"model             {MODELS[1]}\n"
        "description       owned by llamacpp\n"
        "context window    -\n"
        "reasoning         -\n"
        "function calling  -\n"
        "prices            -\n"
        "retires           -\n"
        "\n"
        "input parameters: this backend has no schema endpoint (only /models)\n",
    )
    assert openai_server.calls == [("GET", "/v1/models")]
    as_json = json.loads(wai("models", "-b", "local", "show", MODELS[0], "--json").stdout)
    assert as_json == {
        "model": json_entry(MODELS[0], "owned by llamacpp", None, True),
        "input": None,
    }


def test_show_of_a_model_a_local_server_lacks(
    openai_server: OpenAIServer, config_file: Path
) -> None:
    local_config(config_file, openai_server.base_url)
    assert_run(
        wai("models", "show", "llama-3-8b", "-b", "local"),
        2,
        stderr="wai: error: unknown model 'llama-3-8b' on local\n"
        "hint: `wai models -b local` lists them\n",
    )
