"""wai's messages have one shape: Typer's own usage errors come out as `wai: error: ...` and a
`hint:` naming the command's --help (exit 2, nothing sent, no file touched); piped stderr has
no colour and one line a message; the retry notice's punctuation; Environment's wrapping and
colouring, and hints phrased for the shell or for the REPL."""

from __future__ import annotations

import fcntl
import io
import os
import struct
import termios
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer

from tests.conftest import complete, wai, wai_process
from tests.servers.workers_ai import DEFAULT_MODEL, TOKEN, Reply, WorkersAIServer
from wai.cli import WaiGroup
from wai.environment import Environment, wrap
from wai.errors import BackendError, WaiError

CAPACITY_MESSAGE = "Capacity temporarily exceeded, please try again."

# (arguments, the stderr wai must print): a usage error of each kind Typer raises.
USAGE_ERRORS = {
    "unknown option": (
        ["ask", "--zzz", "hi"],
        "wai: error: no such option: --zzz\nhint: `wai ask --help` lists the options\n",
    ),
    "misspelt option": (
        ["ask", "--tempreature", "1", "hi"],
        "wai: error: no such option: --tempreature\n"
        "hint: did you mean --temperature? `wai ask --help` lists the options\n",
    ),
    "option without its value": (
        ["ask", "-m"],
        "wai: error: option '-m' requires an argument\nhint: `wai ask --help` lists the options\n",
    ),
    "bad choice": (
        ["ask", "--reasoning", "loud", "hi"],
        "wai: error: invalid value for '--reasoning': 'loud' is not one of 'auto', 'show', "
        "'hide'\nhint: `wai ask --help` shows how to use it\n",
    ),
    "bad number": (
        ["ask", "--max-tokens", "many", "hi"],
        "wai: error: invalid value for '--max-tokens': 'many' is not a valid int\n"
        "hint: `wai ask --help` shows how to use it\n",
    ),
    "missing argument": (
        ["sessions", "show"],
        "wai: error: missing argument 'name'\n"
        "hint: `wai sessions show --help` shows how to use it\n",
    ),
    "extra argument": (
        ["sessions", "path", "a", "b"],
        "wai: error: got unexpected extra argument(s) (b)\n"
        "hint: `wai sessions path --help` shows how to use it\n",
    ),
    "unknown command": (
        ["nosuchcommand"],
        "wai: error: no such command 'nosuchcommand'\nhint: `wai --help` lists the commands\n",
    ),
    "unknown subcommand": (
        ["sessions", "nosuch"],
        "wai: error: no such command 'nosuch'\nhint: `wai sessions --help` lists the commands\n",
    ),
    "unknown option of the root": (
        ["--nope", "ask"],
        "wai: error: no such option: --nope\nhint: `wai --help` lists the options\n",
    ),
}


@pytest.mark.parametrize(("args", "stderr"), USAGE_ERRORS.values(), ids=USAGE_ERRORS)
def test_typer_usage_errors_look_like_wai_errors(
    server: WorkersAIServer, args: list[str], stderr: str
) -> None:
    run = wai(*args)
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", stderr)
    assert server.requests == []


@pytest.mark.parametrize(
    "kind", ["unknown option", "misspelt option", "missing argument", "unknown command"]
)
def test_the_console_script_prints_them_the_same_way_without_colour_when_piped(
    server: WorkersAIServer, kind: str
) -> None:
    args, stderr = USAGE_ERRORS[kind]
    done = wai_process(*args)
    assert (done.returncode, done.stdout, done.stderr) == (2, b"", stderr.encode())
    assert server.requests == []


def test_a_usage_error_leaves_the_config_and_the_sessions_as_they_were(
    server: WorkersAIServer, config_file: Path, isolated: Path
) -> None:
    assert wai("ask", "--session", "kept", "hi").exit_code == 0
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[params]\ntemperature = 0.5\n")
    session = isolated / "data" / "sessions" / "kept.json"
    before = (config_file.read_bytes(), session.read_bytes(), sorted(session.parent.iterdir()))

    for args, stderr in USAGE_ERRORS.values():
        run = wai("ask", "--session", "kept", *args[1:]) if args[0] == "ask" else wai(*args)
        assert (run.exit_code, run.stderr) == (2, stderr)

    after = (config_file.read_bytes(), session.read_bytes(), sorted(session.parent.iterdir()))
    assert after == before
    assert len(server.run_requests) == 1


def test_help_and_version_are_unchanged(server: WorkersAIServer) -> None:
    helped = wai_process("ask", "--help")
    assert (helped.returncode, helped.stderr) == (0, b"")
    assert helped.stdout.startswith(b"Usage: wai ask [OPTIONS] [PROMPT]\n")
    assert b"  -m, --model" in helped.stdout
    assert wai("--version").stdout.startswith("wai ")
    bare = wai_process()  # a group with no command: its help, on stderr, exit 2, as before
    assert (bare.returncode, bare.stdout) == (2, b"")
    assert bare.stderr.startswith(b"Usage: wai [OPTIONS] COMMAND [ARGS]...\n")


def test_shell_completion_still_works() -> None:
    assert complete("wai ask --tempe") == ["--temperature"]
    assert complete("wai sess") == ["sessions"]


def test_the_retry_notice_does_not_end_the_message_twice(
    server: WorkersAIServer, config_file: Path
) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("retry_backoff = 0\nretries = 1\n")
    server.enqueue(
        Reply.error(429, 3040, CAPACITY_MESSAGE), Reply.error(429, 3040, CAPACITY_MESSAGE)
    )
    run = wai("ask", "--no-save", "hi")
    assert (run.exit_code, run.stdout) == (5, "")
    assert run.stderr == (
        "wai: Workers AI is out of capacity: Capacity temporarily exceeded, please try again; "
        "retrying in 0.0 s (attempt 1 of 1)\n"
        "wai: error: Workers AI is out of capacity: Capacity temporarily exceeded, please try "
        "again.\nhint: try again in a minute\n"
    )


# --- the Environment: labels, colour, wrapping, the hint for where the user is ---------------


class TerminalStderr(io.StringIO):
    """stderr that is a terminal of `columns`, as far as wai can tell: it says so, and its file
    descriptor is a pseudo-terminal of that size (wai asks the terminal for its width)."""

    def __init__(self, columns: int) -> None:
        super().__init__()
        self.controller, self.terminal = os.openpty()
        size = struct.pack("HHHH", 24, columns, 0, 0)
        fcntl.ioctl(self.terminal, termios.TIOCSWINSZ, size)

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.terminal

    def close(self) -> None:
        os.close(self.controller)
        os.close(self.terminal)
        super().close()


@pytest.fixture
def terminal_env() -> Iterator[Callable[..., Environment]]:
    """Make an Environment whose stderr is a terminal (`columns` wide, `environ` set)."""
    made: list[TerminalStderr] = []

    def make(columns: int = 100, **environ: str) -> Environment:
        made.append(TerminalStderr(columns))
        return Environment(stderr=made[-1], environ={"TERM": "xterm-256color", **environ})

    yield make
    for stderr in made:
        stderr.close()


def test_errors_and_hints_are_coloured_on_a_terminal(
    terminal_env: Callable[..., Environment],
) -> None:
    env = terminal_env()
    env.report(WaiError("it broke", hint="fix it"))
    env.notice("warning: careful")
    env.notice("done")
    env.hint("a hint of its own")
    assert env.stderr.getvalue() == (
        "\x1b[1;31mwai: error:\x1b[0m it broke\n"
        "\x1b[36mhint:\x1b[0m fix it\n"
        "\x1b[33mwai: warning:\x1b[0m careful\n"
        "wai: done\n"
        "\x1b[36mhint:\x1b[0m a hint of its own\n"
    )


@pytest.mark.parametrize("environ", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_colour_with_no_color_or_a_dumb_terminal(
    environ: dict[str, str], terminal_env: Callable[..., Environment]
) -> None:
    env = terminal_env(**environ)
    env.report(WaiError("it broke", hint="fix it"))
    env.notice("warning: careful")
    assert env.stderr.getvalue() == "wai: error: it broke\nhint: fix it\nwai: warning: careful\n"


def test_colour_codes_are_added_after_secrets_are_scrubbed_and_controls_shown(
    terminal_env: Callable[..., Environment],
) -> None:
    env = terminal_env()
    env.add_secret(TOKEN)
    env.report(WaiError(f"the server said \x1b[2J{TOKEN}", hint=f"not {TOKEN}\x07"))
    assert env.stderr.getvalue() == (
        "\x1b[1;31mwai: error:\x1b[0m the server said ^[[2J********\n"
        "\x1b[36mhint:\x1b[0m not ********^G\n"
    )


def test_on_a_narrow_terminal_messages_wrap_between_words(
    terminal_env: Callable[..., Environment],
) -> None:
    env = terminal_env(columns=30)
    env.notice("the answer was cut at max_tokens (1024); raise --max-tokens")
    env.report(WaiError("a message long enough to wrap twice over here", hint="short"))
    assert env.stderr.getvalue() == (
        "wai: the answer was cut at\n"
        "  max_tokens (1024); raise\n"
        "  --max-tokens\n"
        "\x1b[1;31mwai: error:\x1b[0m a message long\n"
        "  enough to wrap twice over\n"
        "  here\n"
        "\x1b[36mhint:\x1b[0m short\n"
    )


def test_piped_stderr_is_one_line_a_message_without_colour() -> None:
    env = Environment(stderr=io.StringIO(), environ={"TERM": "xterm-256color"})
    long = "word " * 40 + "\x1b[2J"
    env.report(WaiError(long.strip(), hint="h"))
    assert env.stderr.getvalue() == f"wai: error: {long.strip()}\nhint: h\n"


def test_wrap_keeps_a_word_longer_than_the_line_whole() -> None:
    url = "https://example.com/" + "a" * 40
    assert wrap(f"wai: see {url} now", 20) == f"wai: see\n  {url}\n  now"
    assert wrap("short", 20) == "short"


def test_a_hint_is_phrased_for_the_repl_inside_it() -> None:
    error = BackendError("cut", hint="raise --max-tokens", repl_hint="/set max_tokens N")
    shell, repl = Environment(stderr=io.StringIO()), Environment(stderr=io.StringIO())
    repl.in_repl = True
    shell.report(error)
    repl.report(error)
    assert shell.stderr.getvalue() == "wai: error: cut\nhint: raise --max-tokens\n"
    assert repl.stderr.getvalue() == "wai: error: cut\nhint: /set max_tokens N\n"
    assert (shell.phrased("-m MODEL", "/model ID"), repl.phrased("-m MODEL", "/model ID")) == (
        "-m MODEL",
        "/model ID",
    )
    plain = WaiError("no REPL phrasing", hint="the same everywhere")
    assert (plain.hint_for(True), plain.hint_for(False)) == ("the same everywhere",) * 2


def test_the_cli_keeps_flag_hints(server: WorkersAIServer) -> None:
    run = wai("ask", "--no-save", "-m", "@cf/nobody/none", "hi")
    assert run.exit_code == 1
    assert run.stderr == (
        "wai: error: the model @cf/nobody/none is not available: No such model "
        "@cf/nobody/none or task\n"
        "hint: `wai models` lists the current ones; pick one with `-m MODEL` or "
        "`wai config set model MODEL`\n"
    )
    assert DEFAULT_MODEL not in run.stderr


def test_an_abort_and_an_exit_status_pass_through_the_root_command() -> None:
    from typer.testing import CliRunner

    app = typer.Typer(cls=WaiGroup, add_completion=False)

    @app.command()
    def stop(how: str) -> None:
        if how == "abort":
            raise typer.Abort()
        raise typer.Exit(int(how))

    @app.command()
    def other() -> None:  # two commands: a group, as wai's root is
        pass

    aborted = CliRunner().invoke(app, ["stop", "abort"])
    assert (aborted.exit_code, aborted.stdout, aborted.stderr) == (1, "", "\nwai: aborted\n")
    for status in (0, 4):
        exited = CliRunner().invoke(app, ["stop", str(status)])
        assert (exited.exit_code, exited.stdout, exited.stderr) == (status, "", "")


def test_an_error_of_wai_s_own_code_is_not_taken_for_typer_s() -> None:
    from typer.testing import CliRunner

    app = typer.Typer(cls=WaiGroup, add_completion=False)

    @app.command()
    def broken() -> None:
        raise ValueError("a bug")

    @app.command()
    def other() -> None:
        pass

    result = CliRunner().invoke(app, ["broken"])
    assert (result.exit_code, type(result.exception)) == (1, ValueError)
