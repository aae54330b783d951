"""The context window: the file keeps everything, the request what fits.

The estimate (window.py) follows the Llama 2 and Mistral tokenizers, erring high; 4 tokens go
around each message. The default model's window is 4096 tokens and the default max_tokens 1024.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

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
    """Text the estimate counts as exactly `count` tokens: three lower-case letters a token."""
    return "x" * (3 * count)


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
    """Ten exchanges; each message is 400 tokens, 404 with its overhead."""
    history = []
    for i in range(1, 11):
        history.append(user(f"u{i:02d} " + "q" * 1191))
        history.append(assistant(f"a{i:02d} " + "a" * 1191))
    return history


BRIEF = system("Be brief.")  # 4 tokens + 4


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

    # room for history: 4096 - 1024 (answer) - 8 (system) - 7 ("next?") = 3057 tokens: the 7
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
    write_session(isolated, "long", history)  # no system message: 3065 tokens of room

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
    new_system = system("Answer in French.")  # 7 tokens + 4

    run = wai("ask", "--session", "long", "-s", new_system["content"], "next?")

    assert run.stderr == notice(14)
    assert server.last_body == body(new_system, *history[-6:], user("next?"))
    assert saved_messages(isolated, "long")[0] == new_system


TOO_LONG = "x" * 20_000  # 6667 tokens + 4: more than the whole window


def test_a_newest_message_that_alone_does_not_fit_is_refused_before_sending(
    server: WorkersAIServer, isolated: Path
) -> None:
    data = write_session(isolated, "s", [user("hi"), assistant("hello")])

    run = wai("ask", "--session", "s", TOO_LONG)

    assert (run.exit_code, run.stdout) == (EXIT_USAGE, "")
    assert run.stderr == (
        f"wai: error: the prompt is too long for {DEFAULT_MODEL}: about 6671 tokens, and its "
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


PROMPT_3433 = tokens(3429)  # + 4: fits, but not with 1024 for the answer


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

    # 8192 - 1024 - 15 = 7153 tokens of room: 17 messages fit, the oldest an answer
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


class Sample(NamedTuple):
    text: str
    llama2: int
    mistral: int


# Real counts, without the beginning-of-sequence token: Llama 2's from the npm package
# llama-tokenizer-js 1.2.2 and Mistral 7B's (the default model's) from mistral-tokenizer-js 1.0.0,
# each of which bundles its model's vocabulary: `encode(text, false)`.
SAMPLES = {
    "english prose": Sample(
        (
            "The context window is the number of tokens a model can attend to at once: the "
            "system message, the conversation so far and the answer it is writing must all "
            "fit inside it. When a long chat outgrows the window, the oldest messages are "
            "left out of the request, although the session file on disk still keeps every "
            "one of them."
        ),
        69,
        69,
    ),
    "german prose": Sample(
        (
            "Das Kontextfenster ist die Anzahl der Token, die das Modell gleichzeitig "
            "verarbeiten kann. Wenn das Gespräch länger wird, werden die ältesten "
            "Nachrichten weggelassen, aber die Sitzungsdatei behält alle."
        ),
        54,
        60,
    ),
    "russian prose": Sample(
        (
            "Контекстное окно — это число токенов, которое модель может обработать за один "
            "раз: системное сообщение, весь разговор и ответ должны поместиться в него."
        ),
        48,
        55,
    ),
    "phone list": Sample(
        (
            "Alice Martin +1 415 555 0142\n"
            "Bob Chen +1 212 555 0199\n"
            "Carol Diaz +44 20 7946 0321\n"
            "Dan Evans +49 30 901820 77\n"
            "Erin Fox +33 1 42 68 53 00\n"
            "Frank Gray +81 3 3580 3311\n"
        ),
        116,
        117,
    ),
    "table of numbers": Sample(
        (
            "year,revenue,cost,margin\n"
            "2019,1048576,734003,0.2999\n"
            "2020,1182421,801337,0.3223\n"
            "2021,1310720,899145,0.3140\n"
            "2022,1468006,1002365,0.3172\n"
            "2023,1627389,1123570,0.3096\n"
        ),
        146,
        146,
    ),
    "hex dump": Sample(
        (
            "00000000  7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 00  "
            "|.ELF............|\n"
            "00000010  03 00 3e 00 01 00 00 00  40 10 00 00 00 00 00 00  "
            "|..>.....@.......|\n"
            "00000020  40 00 00 00 00 00 00 00  e8 3a 00 00 00 00 00 00  "
            "|@........:......|\n"
        ),
        197,
        197,
    ),
    "chinese": Sample(
        (
            "上下文窗口是模型一次能够处理的词元数量。系统消息、之前的对话以及模型正在生成的"
            "回答都必须放在窗口之内。当对话变得太长时，最早的消息会被省略，但会话文件仍然保"
            "存着全部内容。"
        ),
        108,
        86,
    ),
    "japanese": Sample(
        (
            "コンテキストウィンドウとは、モデルが一度に扱えるトークンの数です。システムメッ"
            "セージ、これまでの会話、そして生成中の回答は、すべてその中に収まらなければなり"
            "ません。会話が長くなると、古いメッセージから順に省かれます。"
        ),
        117,
        113,
    ),
    "korean": Sample(
        (
            "컨텍스트 창은 모델이 한 번에 처리할 수 있는 토큰의 수입니다. 대화가 길어지면 "
            "오래된 메시지부터 생략됩니다."
        ),
        98,
        68,
    ),
    "python code": Sample(
        (
            "def estimate_messages(messages: Sequence[Message]) -> int:\n"
            "    total = 0\n"
            "    for message in messages:\n"
            '        total += estimate_tokens(message["content"]) + MESSAGE_OVERHEAD\n'
            "    return total\n"
        ),
        54,
        53,
    ),
    "emoji": Sample(
        "Great job 🎉🎉 ship it 🚀 thanks 🙏😀👍 see you ❤\ufe0f 🔥🔥🔥",
        52,
        23,
    ),
}
HIGHEST = 1.6  # the estimate may be this many times the larger real count, no more
HIGHEST_FOR_ENGLISH = 1.35  # English prose, most of what is sent, wastes the least context


@pytest.mark.parametrize("name", SAMPLES)
def test_the_estimate_covers_real_counts_without_wasting_much(name: str) -> None:
    sample = SAMPLES[name]
    real = max(sample.llama2, sample.mistral)
    highest = HIGHEST_FOR_ENGLISH if name == "english prose" else HIGHEST
    assert real <= estimate_tokens(sample.text) <= real * highest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("abc", 1),  # a third of a token a lower-case letter, rounded up
        ("abcd", 2),
        ("x" * 3000, 1000),
        ("x" * 3001, 1001),
        ("ABCD", 3),  # three quarters a capital
        ("camelCase", 5),  # 8/3 + 3/4, and 2/3 where the case changes
        ("3.14", 5),  # the space before the text, each digit, the point
        ("a 1", 3),  # a space before a digit is a token of its own
        ("x = 1", 4),  # one before punctuation goes with it
        ("\n\n\n", 4),  # one before a line break does not (here the tokenizer's)
        ("    return x", 4),  # a run of spaces is one token
        ("7f45", 6),  # 1/2 more for each change between letter and digit
        ("é", 4),  # accented Latin 3, and 1 for the space before another script
        ("Привет", 4),  # Cyrillic 2/5 a letter, and the space
        ("日本語のテキスト", 12),  # ideographs 2, kana 1, and the space
        ("한국어", 10),  # Hangul 3, and the space
        ("😀", 5),  # outside the BMP 4, and the space
        ("❤\ufe0f", 6),  # 5/4 each, 2 more for the emoji selector, and the space
    ],
)
def test_estimate_tokens(text: str, expected: int) -> None:
    assert estimate_tokens(text) == expected


EVERY_KIND = st.text(st.sampled_from([*"0123456789\n\t\r aZé.(", "ж", "語", "の", "한", "😀"]))


@given(EVERY_KIND)
def test_every_digit_line_break_and_tab_is_a_token(text: str) -> None:
    # the tokenizers never merge these with anything, whatever is around them
    alone = sum(text.count(character) for character in "0123456789\n\t\r")
    assert estimate_tokens(text) >= alone


def test_estimate_messages_adds_the_overhead_of_each_message() -> None:
    assert estimate_messages([]) == 0
    assert estimate_messages([user("")]) == 4
    assert estimate_messages([system("Be brief."), user("next?"), assistant("")]) == 8 + 7 + 4


def test_the_estimate_of_long_history_is_as_its_docstring_says() -> None:
    assert {estimate_tokens(m["content"]) for m in long_history()} == {400}


def test_a_prompt_larger_than_the_window_is_not_told_to_lower_max_tokens() -> None:
    messages = [user(tokens(200))]  # 204 tokens, more than the whole window
    with pytest.raises(UsageError) as raised:
        fit_messages(messages, 128, 100, True, MODEL)
    assert raised.value.hint == "shorten the input"


# --- the budget of a model that reasons ---


def test_fill_gives_the_answer_all_the_room_left_up_to_max_tokens() -> None:
    messages = [system(tokens(96)), user(tokens(96))]  # 100 + 100 with their overheads
    assert fit_messages(messages, 50_000, 16_384, False, MODEL, 4096) == Fit(
        messages, 0, 16_384, 200
    )
    assert fit_messages(messages, 10_000, 16_384, False, MODEL, 4096) == Fit(
        messages, 0, 9_800, 200
    )
    assert fit_messages(messages, None, 16_384, False, MODEL, 4096) == Fit(messages, 0, 16_384, 200)


def test_fill_leaves_out_older_messages_only_below_its_floor() -> None:
    old = [user(tokens(96)), assistant(tokens(96))]  # 200 tokens of history
    newest = user(tokens(96))
    # 4,400 - 300 = 4,100 left: everything is sent, the answer gets 4,100
    assert fit_messages([*old, newest], 4_400, 16_384, False, MODEL, 4096) == Fit(
        [*old, newest], 0, 4_100, 300
    )
    # 4,300 - 300 = 4,000 left, under the floor: the history goes, the answer gets 4,096
    assert fit_messages([*old, newest], 4_300, 16_384, False, MODEL, 4096) == Fit(
        [newest], 2, 4_096, 100
    )


def test_a_reasoning_model_gets_the_room_of_its_window(server: WorkersAIServer) -> None:
    run = wai("ask", "--show-request", "-m", "@cf/qwen/qwen3-30b-a3b-fp8", "hi")
    assert run.exit_code == 0
    # 32,768 - 5 (the estimate for "hi") is more than the cap
    assert '"max_tokens": 16384' in run.stdout

    run = wai("ask", "--show-request", "-m", "@cf/qwen/qwq-32b", "-s", tokens(9_996), "hi")
    assert run.exit_code == 0
    # 24,000 - 10,000 (the system message) - 5 ("hi") = 13,995
    assert '"max_tokens": 13995' in run.stdout

    run = wai("ask", "--show-request", "-m", "@cf/qwen/qwq-32b", "--max-tokens", "300", "hi")
    assert '"max_tokens": 300' in run.stdout  # chosen: as given

    run = wai("ask", "--show-request", "hi")
    assert '"max_tokens": 1024' in run.stdout  # the seed model does not reason
