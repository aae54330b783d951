"""`wai ask` with sessions end to end: saving, continuing, recording."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run, wai
from tests.servers.workers_ai import DEFAULT_MODEL, Reply, WorkersAIServer, sse, token_events

ANSWER = "Hello, world!"
USAGE = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}
INCOMPLETE_HINT = "hint: what arrived is kept above; ask again to get a whole answer"
OTHER_MODEL = "@cf/meta/llama-3.1-8b-instruct"  # the test server does not serve it


def user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def assistant(content: str = ANSWER) -> dict[str, str]:
    return {"role": "assistant", "content": content}


def system(content: str) -> dict[str, str]:
    return {"role": "system", "content": content}


def body(*messages: dict[str, str], max_tokens: int = 1024) -> dict[str, Any]:
    return {"messages": list(messages), "stream": True, "max_tokens": max_tokens}


def sessions_dir(isolated: Path) -> Path:
    return isolated / "data" / "sessions"


def saved(isolated: Path) -> list[str]:
    """Every file saved in the sessions directory (the lock file aside)."""
    directory = sessions_dir(isolated)
    if not directory.exists():
        return []
    return sorted(path.name for path in directory.iterdir() if path.name != ".lock")


def document(isolated: Path, name: str) -> dict[str, Any]:
    return json.loads((sessions_dir(isolated) / f"{name}.json").read_text(encoding="utf-8"))


def scoped(isolated: Path, name: str) -> list[dict[str, str]]:
    return [
        {"role": m["role"], "content": m["content"]} for m in document(isolated, name)["messages"]
    ]


def ok(*args: str) -> Run:
    run = wai(*args)
    assert (run.exit_code, run.stderr) == (0, ""), run.stderr
    return run


def write_config(config_file: Path, text: str) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(text)


def ask_json(*args: str) -> tuple[dict[str, Any], date, date]:
    """`wai ask --json ...`: the printed object, and the dates before and after the run."""
    before = date.today()
    run = ok("ask", "--json", *args)
    after = date.today()
    return json.loads(run.stdout), before, after


def dated(name: str, before: date, after: date, rest: str) -> None:
    """`name` is DATE-rest, DATE the day of the run."""
    assert name in {f"{day:%Y-%m-%d}-{rest}" for day in (before, after)}, name


# --- one-shots are saved ---


def test_one_shot_is_saved_under_the_date_and_its_first_words(
    server: WorkersAIServer, isolated: Path
) -> None:
    before = date.today()
    run = ok("ask", "Why is the sky blue?")
    after = date.today()

    assert run.stdout == ANSWER
    [file] = saved(isolated)
    dated(file.removesuffix(".json"), before, after, "why-is-the-sky-blue")
    name = file.removesuffix(".json")
    assert document(isolated, name)["name"] == name
    assert scoped(isolated, name) == [user("Why is the sky blue?"), assistant()]


def test_json_reports_the_one_shots_session(server: WorkersAIServer, isolated: Path) -> None:
    printed, before, after = ask_json("Why is the sky blue?")

    assert printed == {
        "response": ANSWER,
        "reasoning": None,
        "model": DEFAULT_MODEL,
        "backend": "cloudflare",
        "usage": USAGE,
        "finish_reason": "stop",
        "session": printed["session"],
    }
    dated(printed["session"], before, after, "why-is-the-sky-blue")
    assert saved(isolated) == [f"{printed['session']}.json"]


def test_the_name_takes_the_first_six_words_lowercased(
    server: WorkersAIServer, isolated: Path
) -> None:
    printed, before, after = ask_json("Please EXPLAIN, in great detail, how rainbows form?")
    dated(printed["session"], before, after, "please-explain-in-great-detail-how")


def test_the_same_first_words_again_get_a_number(server: WorkersAIServer, isolated: Path) -> None:
    first, before, _ = ask_json("Why is the sky blue at noon?")
    second, _, _ = ask_json("Why is the sky blue at dusk?")
    third, _, after = ask_json("Why is the sky blue at night?")

    base = first["session"]
    dated(base, before, after, "why-is-the-sky-blue-at")
    assert (second["session"], third["session"]) == (f"{base}-2", f"{base}-3")
    assert saved(isolated) == [f"{base}-2.json", f"{base}-3.json", f"{base}.json"]
    # each one-shot is a conversation of its own
    assert server.last_body == body(user("Why is the sky blue at night?"))
    assert scoped(isolated, f"{base}-2") == [user("Why is the sky blue at dusk?"), assistant()]


def test_no_save_saves_nothing(server: WorkersAIServer, isolated: Path) -> None:
    printed, _, _ = ask_json("--no-save", "Why is the sky blue?")

    assert printed["session"] is None
    assert saved(isolated) == []
    assert server.last_body == body(user("Why is the sky blue?"))


def test_save_one_shots_false_saves_nothing(
    server: WorkersAIServer, isolated: Path, config_file: Path
) -> None:
    write_config(config_file, "save_one_shots = false\n")

    printed, _, _ = ask_json("Why is the sky blue?")

    assert printed["session"] is None
    assert saved(isolated) == []
    assert server.last_body == body(user("Why is the sky blue?"))


def test_save_one_shots_false_still_saves_a_named_session(
    server: WorkersAIServer, isolated: Path, config_file: Path
) -> None:
    write_config(config_file, "save_one_shots = false\n")

    printed, _, _ = ask_json("--session", "kept", "hi")

    assert printed["session"] == "kept"
    assert saved(isolated) == ["kept.json"]


def test_no_save_on_a_named_session_uses_its_history_and_leaves_the_file(
    server: WorkersAIServer, isolated: Path
) -> None:
    ok("ask", "--session", "s", "first")
    before = (sessions_dir(isolated) / "s.json").read_bytes()

    printed, _, _ = ask_json("--session", "s", "--no-save", "second")

    assert printed["session"] is None
    assert server.last_body == body(user("first"), assistant(), user("second"))
    assert (sessions_dir(isolated) / "s.json").read_bytes() == before
    assert saved(isolated) == ["s.json"]


def test_show_request_saves_nothing(server: WorkersAIServer, isolated: Path) -> None:
    ok("ask", "--session", "s", "first")
    before = (sessions_dir(isolated) / "s.json").read_bytes()

    history = [user("first"), assistant()]
    for args, messages in [
        (["hi"], []),
        (["--session", "new", "hi"], []),
        (["--session", "s", "hi"], history),
        (["-c", "hi"], history),
    ]:
        run = ok("ask", "--show-request", *args)
        *_, data = run.stdout.splitlines()
        assert data.startswith("  -d '") and data.endswith("'")
        assert json.loads(data[len("  -d '") : -1]) == body(*messages, user("hi"))

    assert len(server.run_requests) == 1
    assert saved(isolated) == ["s.json"]
    assert (sessions_dir(isolated) / "s.json").read_bytes() == before


# --- --session and --continue ---


def test_session_twice_sends_the_whole_history(server: WorkersAIServer, isolated: Path) -> None:
    ok("ask", "--session", "trip", "Plan a day in Kyoto.")
    assert server.last_body == body(user("Plan a day in Kyoto."))

    server.tokens = ("Take", " the", " bus.")
    printed, _, _ = ask_json("--session", "trip", "And in the evening?")

    assert printed["session"] == "trip"
    assert printed["response"] == "Take the bus."
    assert server.last_body == body(
        user("Plan a day in Kyoto."), assistant(), user("And in the evening?")
    )
    assert scoped(isolated, "trip") == [
        user("Plan a day in Kyoto."),
        assistant(),
        user("And in the evening?"),
        assistant("Take the bus."),
    ]
    assert saved(isolated) == ["trip.json"]


def test_continue_follows_up_on_the_most_recently_updated_session(
    server: WorkersAIServer, isolated: Path
) -> None:
    ok("ask", "--session", "alpha", "alpha one")
    ok("ask", "--session", "beta", "beta one")
    ok("ask", "--session", "alpha", "alpha two")  # alpha is now the most recent
    beta = (sessions_dir(isolated) / "beta.json").read_bytes()

    printed, _, _ = ask_json("-c", "alpha three")

    assert printed["session"] == "alpha"
    assert server.last_body == body(
        user("alpha one"), assistant(), user("alpha two"), assistant(), user("alpha three")
    )
    assert len(document(isolated, "alpha")["messages"]) == 6
    assert (sessions_dir(isolated) / "beta.json").read_bytes() == beta
    assert saved(isolated) == ["alpha.json", "beta.json"]


def test_continue_follows_up_on_a_one_shot(server: WorkersAIServer, isolated: Path) -> None:
    first, _, _ = ask_json("Why is the sky blue?")

    second, _, _ = ask_json("--continue", "And at sunset?")

    assert second["session"] == first["session"]
    assert server.last_body == body(
        user("Why is the sky blue?"), assistant(), user("And at sunset?")
    )
    assert saved(isolated) == [f"{first['session']}.json"]
    assert len(document(isolated, first["session"])["messages"]) == 4


def test_continue_picks_the_latest_updated_time_not_the_file_order(
    server: WorkersAIServer, isolated: Path
) -> None:
    directory = sessions_dir(isolated)
    directory.mkdir(parents=True)
    for name, updated in [("aaa", "2026-03-01"), ("mmm", "2026-05-01"), ("zzz", "2026-04-01")]:
        (directory / f"{name}.json").write_text(
            json.dumps(
                {
                    "format": "wai.session/1",
                    "name": name,
                    "created": "2026-01-01T00:00:00.000Z",
                    "updated": f"{updated}T12:00:00.000Z",
                    "backend": "cloudflare",
                    "model": DEFAULT_MODEL,
                    "params": {},
                    "messages": [user(f"{name} question"), assistant(f"{name} answer")],
                }
            )
        )

    ok("ask", "-c", "next")

    assert server.last_body == body(user("mmm question"), assistant("mmm answer"), user("next"))


def test_continue_without_any_session_is_a_usage_error(
    server: WorkersAIServer, isolated: Path
) -> None:
    run = wai("ask", "-c", "hi")

    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        'wai: error: there is no session to continue yet\nhint: start one with `wai ask "..."`\n'
    )
    assert server.run_requests == []
    assert saved(isolated) == []


def test_session_with_continue_is_a_usage_error(server: WorkersAIServer, isolated: Path) -> None:
    ok("ask", "--session", "s", "first")
    before = (sessions_dir(isolated) / "s.json").read_bytes()

    run = wai("ask", "--session", "s", "-c", "second")

    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "wai: error: --session and --continue cannot be used together\n"
    assert len(server.run_requests) == 1
    assert (sessions_dir(isolated) / "s.json").read_bytes() == before


# --- the system message ---


def test_system_on_a_continued_session_replaces_its_system_message(
    server: WorkersAIServer, isolated: Path
) -> None:
    ok("ask", "--session", "s", "-s", "Be brief.", "first")

    ok("ask", "-c", "-s", "Be thorough.", "second")

    expected = [system("Be thorough."), user("first"), assistant(), user("second")]
    assert server.last_body == body(*expected)
    assert scoped(isolated, "s") == [*expected, assistant()]


def test_a_continued_session_keeps_its_system_message(
    server: WorkersAIServer, isolated: Path, config_file: Path
) -> None:
    ok("ask", "--session", "s", "-s", "Be brief.", "first")
    write_config(config_file, 'system = "From the config."\n')

    ok("ask", "--session", "s", "second")

    expected = [system("Be brief."), user("first"), assistant(), user("second")]
    assert server.last_body == body(*expected)
    assert scoped(isolated, "s") == [*expected, assistant()]


# --- what is recorded ---


def test_the_sessions_backend_model_and_params_are_recorded_and_reused(
    server: WorkersAIServer, isolated: Path, config_file: Path
) -> None:
    write_config(
        config_file,
        f'model = "{OTHER_MODEL}"\n\n[backends.work]\ntype = "cloudflare"\n',
    )
    ok("ask", "--session", "s", "-b", "work", "-m", DEFAULT_MODEL, "--temperature", "0.2", "hi")
    recorded = document(isolated, "s")
    assert (recorded["backend"], recorded["model"], recorded["params"]) == (
        "work",
        DEFAULT_MODEL,
        {"temperature": 0.2},
    )
    assert recorded["messages"][1]["meta"]["model"] == DEFAULT_MODEL

    # without flags, the session's backend, model and params are used, not the config's
    printed, _, _ = ask_json("--session", "s", "again")

    assert (printed["backend"], printed["model"]) == ("work", DEFAULT_MODEL)
    assert server.run_requests[-1].path.endswith(f"/ai/run/{DEFAULT_MODEL}")
    assert server.last_body == {
        **body(user("hi"), assistant(), user("again")),
        "temperature": 0.2,
    }


def test_params_given_on_a_later_turn_join_the_recorded_ones(
    server: WorkersAIServer, isolated: Path
) -> None:
    ok("ask", "--session", "s", "--temperature", "0.2", "--top-k", "5", "hi")

    ok("ask", "--session", "s", "--temperature", "0.3", "again")

    assert server.last_body == {
        **body(user("hi"), assistant(), user("again")),
        "temperature": 0.3,
        "top_k": 5,
    }
    assert document(isolated, "s")["params"] == {"temperature": 0.3, "top_k": 5}


def test_a_stream_cut_after_some_tokens_saves_the_partial_answer(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.enqueue(Reply.stream(sse(*token_events(("Hel", "lo", " there")), done=False), cut=True))

    run = wai("ask", "--session", "s", "hi")

    assert (run.exit_code, run.stdout) == (4, "Hello there")
    assert run.stderr == (
        "wai: error: the answer is incomplete: the connection to "
        f"127.0.0.1:{server.port} was cut off\n{INCOMPLETE_HINT}\n"
    )
    messages = document(isolated, "s")["messages"]
    assert [{"role": m["role"], "content": m["content"]} for m in messages] == [
        user("hi"),
        assistant("Hello there"),
    ]
    answer_meta = messages[1]["meta"]
    assert answer_meta == {"time": answer_meta["time"], "model": DEFAULT_MODEL, "interrupted": True}

    # the partial answer is part of the history from now on
    ok("ask", "--session", "s", "go on")
    assert server.last_body == body(user("hi"), assistant("Hello there"), user("go on"))
    assert "interrupted" not in document(isolated, "s")["messages"][3]["meta"]


def test_a_one_shot_cut_after_some_tokens_is_saved_too(
    server: WorkersAIServer, isolated: Path
) -> None:
    server.enqueue(Reply.stream(sse(*token_events(("Hel", "lo")), done=False), cut=True))

    run = wai("ask", "--json", "hi")

    assert run.exit_code == 4
    printed = json.loads(run.stdout)
    assert printed == {
        "response": "Hello",
        "reasoning": None,
        "model": DEFAULT_MODEL,
        "backend": "cloudflare",
        "usage": None,
        "finish_reason": "error",
        "session": printed["session"],
    }
    assert saved(isolated) == [f"{printed['session']}.json"]
    assert document(isolated, printed["session"])["messages"][1]["meta"]["interrupted"] is True


def test_an_error_event_mid_stream_saves_the_partial_answer(
    server: WorkersAIServer, isolated: Path
) -> None:
    event = b'event: error\ndata: {"error": "inference failed"}\n\n'
    server.enqueue(Reply.stream(sse(*token_events(("Hel", "lo")), done=False) + event + sse()))

    run = wai("ask", "--session", "s", "hi")

    assert (run.exit_code, run.stdout) == (1, "Hello")
    assert run.stderr == "wai: error: Workers AI reported an error: inference failed\n"
    messages = document(isolated, "s")["messages"]
    assert messages[1]["content"] == "Hello"
    assert messages[1]["meta"]["interrupted"] is True


INVALID_INPUT = "Type mismatch of '/messages/0/content', 'string' not in 'array'"


@pytest.mark.parametrize("args", [["hi"], ["--session", "new", "hi"]], ids=["one-shot", "new"])
def test_an_error_before_any_token_saves_nothing(
    server: WorkersAIServer, isolated: Path, args: list[str]
) -> None:
    server.enqueue(Reply.error(400, 3010, INVALID_INPUT))

    run = wai("ask", *args)

    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == f"wai: error: Workers AI rejected the input: {INVALID_INPUT}\n"
    assert saved(isolated) == []


def test_an_error_before_any_token_leaves_an_existing_session_as_it_was(
    server: WorkersAIServer, isolated: Path
) -> None:
    ok("ask", "--session", "s", "first")
    before = (sessions_dir(isolated) / "s.json").read_bytes()
    server.enqueue(Reply.error(400, 3010, INVALID_INPUT))

    run = wai("ask", "--session", "s", "-s", "A new system message.", "second")

    assert run.exit_code == 1
    assert (sessions_dir(isolated) / "s.json").read_bytes() == before
    assert saved(isolated) == ["s.json"]


def test_continue_refuses_when_the_newest_file_cannot_be_read(
    server: WorkersAIServer, isolated: Path
) -> None:
    ok("ask", "--session", "older", "first")
    broken = sessions_dir(isolated) / "newest.json"
    broken.write_text("{not json")

    run = wai("ask", "-c", "next")

    assert (run.exit_code, run.stdout) == (3, "")
    assert run.stderr.startswith(f"wai: error: cannot read the session file {broken}: ")
    assert broken.read_text() == "{not json"
    assert len(server.run_requests) == 1


def test_a_new_session_without_a_system_message_keeps_one_saved_meanwhile(
    server: WorkersAIServer, isolated: Path
) -> None:
    import os

    from wai.conversation import Conversation
    from wai.environment import Environment
    from wai.render.plain import PlainRenderer
    from wai.settings import Overrides

    env = Environment(environ=os.environ)
    conversation = Conversation.open(env, Overrides(), {}, name="shared")  # no file yet, no system
    ok("ask", "--session", "shared", "-s", "Be brief.", "first")  # another process meanwhile

    conversation.send("second", PlainRenderer(env))

    messages = json.loads((sessions_dir(isolated) / "shared.json").read_text())["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("system", "Be brief."),
        ("user", "first"),
        ("assistant", "Hello, world!"),
        ("user", "second"),
        ("assistant", "Hello, world!"),
    ]


# --- prompt caching ---


def test_every_request_of_a_saved_session_asks_for_the_same_replica(
    server: WorkersAIServer, isolated: Path
) -> None:
    assert wai("ask", "--session", "cached", "hi").exit_code == 0
    assert wai("ask", "--session", "cached", "again").exit_code == 0
    assert wai("ask", "-c", "and again").exit_code == 0

    affinity = document(isolated, "cached")["affinity"]
    assert re.fullmatch(r"ses_[0-9a-f]{16}", affinity)
    sent = [request.headers.get("x-session-affinity") for request in server.run_requests]
    assert sent == [affinity] * 3


def test_a_one_shot_that_is_not_kept_carries_no_affinity(server: WorkersAIServer) -> None:
    assert wai("ask", "--no-save", "hi").exit_code == 0
    assert "x-session-affinity" not in server.run_requests[-1].headers
    shown = wai("ask", "--show-request", "hi").stdout
    assert "x-session-affinity" not in shown  # --show-request saves nothing, so it has none


def test_each_session_has_its_own_affinity(server: WorkersAIServer, isolated: Path) -> None:
    assert wai("ask", "--session", "one", "hi").exit_code == 0
    assert wai("ask", "--session", "two", "hi").exit_code == 0
    first, second = (document(isolated, name)["affinity"] for name in ("one", "two"))
    assert first != second
    assert [r.headers.get("x-session-affinity") for r in server.run_requests] == [first, second]
