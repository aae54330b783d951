"""The context window (SPEC §3, §4): the file keeps everything, the request what fits.

The estimate: 3.5 UTF-8 bytes a token, rounded up, and 4 tokens around each message; the default
model's window is 4096 tokens and the default max_tokens 1024.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import wai
from tests.servers.workers_ai import DEFAULT_MODEL, WorkersAIServer
from wai.conversation.window import (
    MIN_ANSWER_TOKENS,
    Fit,
    estimate_messages,
    estimate_tokens,
    fit_messages,
)
from wai.errors import EXIT_USAGE, UsageError

ANSWER = "Hello, world!"
MODEL = "test-model"


def user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def assistant(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


def system(content: str) -> dict[str, str]:
    return {"role": "system", "content": content}


def tokens(count: int) -> str:
    """Text the estimate counts as exactly `count` tokens (`count` even)."""
    assert count % 2 == 0
    return "x" * (count // 2 * 7)


def body(*messages: dict[str, str], max_tokens: int = 1024) -> dict[str, Any]:
    return {"messages": list(messages), "stream": True, "max_tokens": max_tokens}


def session_path(isolated: Path, name: str) -> Path:
    return isolated / "data" / "sessions" / f"{name}.json"


def write_session(isolated: Path, name: str, messages: list[dict[str, str]]) -> bytes:
    path = session_path(isolated, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(
        {
            "format": "wai.session/1",
            "name": name,
            "created": "2026-01-01T00:00:00.000Z",
            "updated": "2026-01-01T00:00:00.000Z",
            "backend": "cloudflare",
            "model": DEFAULT_MODEL,
            "params": {},
            "messages": messages,
        },
        indent=2,
    ).encode()
    path.write_bytes(data)
    return data


def saved_messages(isolated: Path, name: str) -> list[dict[str, str]]:
    document = json.loads(session_path(isolated, name).read_text())
    return [{"role": m["role"], "content": m["content"]} for m in document["messages"]]


def notice(left_out: int, window: int = 4096) -> str:
    plural = "message" if left_out == 1 else "messages"
    return f"wai: {left_out} older {plural} left out to fit the {window}-token context window\n"


def long_history() -> list[dict[str, str]]:
    """Ten exchanges; each message is 1400 bytes: 400 tokens, 404 with its overhead."""
    history = []
    for i in range(1, 11):
        history.append(user(f"u{i:02d} ".ljust(1400, "q")))
        history.append(assistant(f"a{i:02d} ".ljust(1400, "a")))
    return history


BRIEF = system("Be brief.")  # 9 bytes: 3 tokens + 4


def config(config_file: Path, text: str) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(text)


# --- end to end ---


def test_long_history_keeps_the_system_message_and_the_newest_messages(
    server: WorkersAIServer, isolated: Path
) -> None:
    history = long_history()
    write_session(isolated, "long", [BRIEF, *history])

    run = wai("ask", "--session", "long", "next?")

    # room for history: 4096 - 1024 (answer) - 7 (system) - 6 ("next?") = 3059 tokens: the 7
    # newest messages (7 x 404 = 2828) fit; the oldest of them is an answer, so it goes too
    assert (run.exit_code, run.stdout) == (0, ANSWER)
    assert run.stderr == notice(14)
    assert server.last_body == body(BRIEF, *history[-6:], user("next?"))
    assert history[-6]["content"].startswith("u08 ")
    # the file keeps everything
    assert saved_messages(isolated, "long") == [
        BRIEF,
        *history,
        user("next?"),
        assistant(ANSWER),
    ]


def test_the_kept_history_never_starts_with_an_answer(
    server: WorkersAIServer, isolated: Path
) -> None:
    history = long_history()
    write_session(isolated, "long", history)  # no system message: 3066 tokens of room

    run = wai("ask", "--session", "long", "next?")

    assert run.exit_code == 0
    assert run.stderr == notice(14)
    assert server.last_body == body(*history[-6:], user("next?"))
    assert server.last_body["messages"][0]["role"] == "user"


def test_one_message_left_out(server: WorkersAIServer, isolated: Path) -> None:
    history = [user(tokens(4000)), user("short"), assistant("short")]
    write_session(isolated, "s", history)

    run = wai("ask", "--session", "s", "next?")

    assert run.exit_code == 0
    assert run.stderr == notice(1)
    assert server.last_body == body(*history[1:], user("next?"))


def test_history_that_fits_is_sent_whole_without_a_notice(
    server: WorkersAIServer, isolated: Path
) -> None:
    history = long_history()[-6:]  # 6 x 404 = 2424 tokens: all fit
    write_session(isolated, "s", [BRIEF, *history])

    run = wai("ask", "--session", "s", "next?")

    assert (run.exit_code, run.stderr) == (0, "")
    assert server.last_body == body(BRIEF, *history, user("next?"))


def test_a_system_message_set_now_is_kept_when_history_is_trimmed(
    server: WorkersAIServer, isolated: Path
) -> None:
    history = long_history()
    write_session(isolated, "long", history)
    new_system = system("Answer in French.")  # 17 bytes: 5 tokens + 4

    run = wai("ask", "--session", "long", "-s", new_system["content"], "next?")

    assert run.stderr == notice(14)
    assert server.last_body == body(new_system, *history[-6:], user("next?"))
    assert saved_messages(isolated, "long")[0] == new_system


TOO_LONG = "x" * 20_000  # 5715 tokens + 4: more than the whole window


def test_a_newest_message_that_alone_does_not_fit_is_refused_before_sending(
    server: WorkersAIServer, isolated: Path
) -> None:
    data = write_session(isolated, "s", [user("hi"), assistant("hello")])

    run = wai("ask", "--session", "s", TOO_LONG)

    assert (run.exit_code, run.stdout) == (EXIT_USAGE, "")
    assert run.stderr == (
        f"wai: error: the prompt is too long for {DEFAULT_MODEL}: about 5719 tokens, and its "
        "context window of 4096 tokens must also hold the 256 tokens of the answer\n"
        "hint: shorten the input\n"
    )
    assert server.requests == []
    assert session_path(isolated, "s").read_bytes() == data


def test_a_piped_one_shot_too_long_is_refused_and_saves_nothing(
    server: WorkersAIServer, isolated: Path
) -> None:
    run = wai("ask", "summarize", input=TOO_LONG)

    assert run.exit_code == EXIT_USAGE
    assert run.stderr.startswith(f"wai: error: the prompt is too long for {DEFAULT_MODEL}: ")
    assert server.requests == []
    sessions = isolated / "data" / "sessions"
    assert not sessions.exists() or list(sessions.glob("*.json")) == []


PROMPT_3433 = "x" * 12_000  # 3429 tokens + 4: fits, but not with 1024 for the answer


def test_max_tokens_not_chosen_shrinks_to_fit_the_prompt(
    server: WorkersAIServer, isolated: Path
) -> None:
    write_session(isolated, "s", [user("hi"), assistant("hello")])

    run = wai("ask", "--session", "s", PROMPT_3433)

    assert run.exit_code == 0
    assert run.stderr == notice(2)
    assert server.last_body == body(user(PROMPT_3433), max_tokens=4096 - 3433)


@pytest.mark.parametrize(
    ("args", "config_text"),
    [(["--max-tokens", "1024"], ""), ([], "[params]\nmax_tokens = 1024\n")],
    ids=["flag", "config"],
)
def test_max_tokens_chosen_is_never_shrunk(
    server: WorkersAIServer, config_file: Path, args: list[str], config_text: str
) -> None:
    config(config_file, config_text)

    run = wai("ask", *args, PROMPT_3433)

    assert (run.exit_code, run.stdout) == (EXIT_USAGE, "")
    assert run.stderr == (
        f"wai: error: the prompt is too long for {DEFAULT_MODEL}: about 3433 tokens, and its "
        "context window of 4096 tokens must also hold the 1024 tokens of the answer\n"
        "hint: shorten the input or lower --max-tokens\n"
    )
    assert server.requests == []


def test_context_window_from_the_config(
    server: WorkersAIServer, isolated: Path, config_file: Path
) -> None:
    config(config_file, "[backends.cloudflare]\ncontext_window = 8192\n")
    history = long_history()
    write_session(isolated, "long", [BRIEF, *history])

    run = wai("ask", "--session", "long", "next?")

    # 8192 - 1024 - 13 = 7155 tokens of room: 17 messages fit, the oldest an answer
    assert run.exit_code == 0
    assert run.stderr == notice(4, window=8192)
    assert server.last_body == body(BRIEF, *history[4:], user("next?"))

    # a prompt too long for 4096 tokens fits in 8192
    run = wai("ask", "--no-save", TOO_LONG)
    assert (run.exit_code, run.stderr) == (0, "")
    assert server.last_body == body(user(TOO_LONG))


# --- fit_messages ---


def test_no_window_keeps_everything() -> None:
    messages = [BRIEF, *long_history(), user("next?")]
    assert fit_messages(messages, None, 1024, False, MODEL) == Fit(
        messages, 0, 1024, estimate_messages(messages)
    )


def test_everything_fits() -> None:
    messages = [system(tokens(2)), user(tokens(4)), assistant(tokens(4)), user(tokens(2))]
    # 6 + 8 + 8 + 6 = 28 tokens
    assert fit_messages(messages, 128, 100, True, MODEL) == Fit(messages, 0, 100, 28)


def test_a_message_that_fits_exactly_is_kept() -> None:
    head, newest = system(tokens(2)), user(tokens(2))
    history = [user(tokens(4)), assistant(tokens(4))]
    messages = [head, *history, newest]

    # room 16: both kept
    assert fit_messages(messages, 128, 100, True, MODEL) == Fit(messages, 0, 100, 28)
    # room 15: the answer fits, its question does not, and an answer cannot start the history
    assert fit_messages(messages, 127, 100, True, MODEL) == Fit([head, newest], 2, 100, 12)


def test_the_kept_history_is_the_newest_run_of_messages() -> None:
    head, newest = system(tokens(2)), user(tokens(2))
    history = [
        user(tokens(4)),
        assistant(tokens(4)),
        user(tokens(4)),
        assistant(tokens(100)),  # too big: nothing older is kept, small as it is
        user(tokens(4)),
        assistant(tokens(4)),
    ]
    fit = fit_messages([head, *history, newest], 12 + 100 + 30, 100, True, MODEL)
    assert fit == Fit([head, *history[-2:], newest], 4, 100, 28)


def test_an_answer_left_at_the_start_is_dropped_and_its_room_given_back() -> None:
    newest = user(tokens(2))
    history = [user(tokens(40)), assistant(tokens(4)), user(tokens(4)), assistant(tokens(4))]
    fit = fit_messages([*history, newest], 6 + 100 + 30, 100, True, MODEL)
    assert fit == Fit([*history[2:], newest], 2, 100, 22)


def test_only_answers_fit_so_no_history_is_sent() -> None:
    newest = user(tokens(2))
    history = [user(tokens(40)), assistant(tokens(4)), assistant(tokens(4))]
    fit = fit_messages([*history, newest], 6 + 100 + 16, 100, True, MODEL)
    assert fit == Fit([newest], 3, 100, 6)


def test_a_first_message_that_is_not_a_system_message_is_history() -> None:
    messages = [user(tokens(40)), assistant(tokens(4)), user(tokens(2))]
    fit = fit_messages(messages, 6 + 100 + 10, 100, True, MODEL)
    assert fit == Fit([messages[-1]], 2, 100, 6)


def test_a_lone_message_is_the_newest() -> None:
    assert fit_messages([user("hi")], 4096, 1024, False, MODEL) == Fit([user("hi")], 0, 1024, 5)


def test_the_prompt_filling_the_window_with_the_answer_exactly_is_sent() -> None:
    messages = [system(tokens(10)), user(tokens(10))]  # 28 tokens
    assert fit_messages(messages, 128, 100, True, MODEL) == Fit(messages, 0, 100, 28)


def test_one_token_too_many_with_max_tokens_chosen() -> None:
    messages = [system(tokens(10)), user(tokens(10))]
    with pytest.raises(UsageError) as raised:
        fit_messages(messages, 127, 100, True, MODEL)
    assert raised.value.exit_code == EXIT_USAGE
    assert raised.value.message == (
        f"the prompt is too long for {MODEL}: about 28 tokens, and its context window of 127 "
        "tokens must also hold the 100 tokens of the answer"
    )
    assert raised.value.hint == "shorten the input or lower --max-tokens"


@pytest.mark.parametrize(
    ("window", "answer"),
    [(1028, 1000), (1027, 999), (400, 372), (284, 256)],
)
def test_max_tokens_not_chosen_shrinks(window: int, answer: int) -> None:
    messages = [user(tokens(24))]  # 28 tokens
    assert fit_messages(messages, window, 1000, False, MODEL) == Fit(messages, 0, answer, 28)


def test_max_tokens_not_chosen_shrinks_no_lower_than_the_minimum() -> None:
    messages = [user(tokens(24))]  # 28 tokens; 28 + 256 = 284
    with pytest.raises(UsageError) as raised:
        fit_messages(messages, 283, 1000, False, MODEL)
    assert raised.value.message == (
        f"the prompt is too long for {MODEL}: about 28 tokens, and its context window of 283 "
        f"tokens must also hold the {MIN_ANSWER_TOKENS} tokens of the answer"
    )
    assert raised.value.hint == "shorten the input"


def test_a_small_max_tokens_not_chosen_stays() -> None:
    messages = [user(tokens(24))]
    assert fit_messages(messages, 4096, 10, False, MODEL) == Fit(messages, 0, 10, 28)


roles = st.sampled_from(["user", "assistant"])
texts = st.text(max_size=400)


@settings(max_examples=300, deadline=None)
@given(
    head=st.lists(texts.map(system), max_size=1),
    history=st.lists(st.builds(lambda r, t: {"role": r, "content": t}, roles, texts), max_size=12),
    newest=texts.map(user),
    window=st.integers(1, 2000),
    max_tokens=st.integers(1, 1500),
    chosen=st.booleans(),
)
def test_fit_invariants(
    head: list[dict[str, str]],
    history: list[dict[str, str]],
    newest: dict[str, str],
    window: int,
    max_tokens: int,
    chosen: bool,
) -> None:
    fixed = estimate_messages([*head, newest])
    shrinks = not chosen and fixed + max_tokens > window
    answer = max(window - fixed, MIN_ANSWER_TOKENS) if shrinks else max_tokens
    try:
        fit = fit_messages([*head, *history, newest], window, max_tokens, chosen, MODEL)
    except UsageError:
        assert fixed + answer > window
        return
    assert fixed + answer <= window
    assert fit.max_tokens == answer
    assert fit.messages[: len(head)] == head
    assert fit.messages[-1] == newest
    kept = fit.messages[len(head) : -1]
    start = len(history) - len(kept)
    assert kept == history[start:]  # the newest messages, in order
    assert not kept or kept[0]["role"] == "user"
    assert fit.left_out == start
    assert fit.prompt_tokens == estimate_messages(fit.messages)
    assert fit.prompt_tokens + fit.max_tokens <= window
    for earlier in range(start):  # no longer run starting with a question would have fit
        if history[earlier]["role"] == "user":
            longer = estimate_messages([*head, *history[earlier:], newest])
            assert longer + answer > window


# --- estimate_tokens ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 1),
        ("abc", 1),
        ("abcd", 2),  # 4 bytes / 3.5, rounded up
        ("abcdefg", 2),
        ("abcdefgh", 3),
        ("x" * 3500, 1000),
        ("x" * 3501, 1001),
        ("é", 1),  # 2 bytes
        ("€€€", 3),  # 9 bytes
        ("😀", 2),  # 4 bytes
        ("日本語のテキスト", 7),  # 24 bytes
    ],
)
def test_estimate_tokens(text: str, expected: int) -> None:
    assert estimate_tokens(text) == expected


@given(st.text(), st.text())
def test_estimate_tokens_errs_high_and_adds_up(first: str, second: str) -> None:
    size = len(first.encode("utf-8"))
    assert estimate_tokens(first) >= size / 4  # English runs near 4 bytes a token
    both = estimate_tokens(first + second)
    assert both <= estimate_tokens(first) + estimate_tokens(second) <= both + 1


def test_estimate_messages_adds_the_overhead_of_each_message() -> None:
    assert estimate_messages([]) == 0
    assert estimate_messages([user("")]) == 4
    assert estimate_messages([system("Be brief."), user("next?"), assistant("")]) == 7 + 6 + 4


def test_a_prompt_larger_than_the_window_is_not_told_to_lower_max_tokens() -> None:
    messages = [user(tokens(200))]  # 204 tokens, more than the whole window
    with pytest.raises(UsageError) as raised:
        fit_messages(messages, 128, 100, True, MODEL)
    assert raised.value.hint == "shorten the input"
