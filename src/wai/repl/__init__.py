"""`wai chat`: a prompt-toolkit REPL over a Conversation, with slash commands and a status line."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import tempfile
import termios
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from wai.backends.catalogue import CatalogueCache
from wai.conversation import Conversation
from wai.conversation.store import SessionStore
from wai.conversation.transcript import markdown_transcript
from wai.conversation.window import estimate_messages
from wai.environment import Environment
from wai.errors import UsageError, WaiError
from wai.render import choose_renderer, markdown_wanted
from wai.render.stored import print_messages, render_messages, screen_rows, typed
from wai.repl.completion import argument_completer
from wai.repl.pager import page
from wai.repl.tools import (
    Attachment,
    code_blocks,
    count,
    export_path,
    osc52,
    read_attachment,
    with_attachments,
    write_export,
)
from wai.settings import DEFAULT_BACKEND, LOCAL_PRESETS, Overrides, configured_roles
from wai.settings.params import (
    PARAMS,
    check_param,
    param_name,
    parse_option_value,
    shown_value,
)
from wai.settings.paths import cache_dir, data_dir
from wai.signals import Terminated, raise_if_terminated

START_HINT = "/help · Alt-Enter new line · Ctrl-D to leave"
HELP_COLUMN = 24  # where /help's descriptions start
KEYS = (  # /help's lines about keys, each a list of what a line holds (joined with " · ")
    (
        "Enter sends",
        "Alt-Enter (or Esc Enter) inserts a newline",
        "Tab completes",
        "Ctrl-R searches history",
    ),
    (
        "Ctrl-C stops an answer or clears the line",
        "Ctrl-D leaves",
        "//text sends '/text'",
    ),
)


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    run: Callable[[str], None]


class Leave(Exception):
    """`/exit` (or Ctrl-D): end the REPL."""


class Repl:
    def __init__(
        self,
        env: Environment,
        conversation: Conversation,
        overrides: Overrides,
    ):
        self.env = env
        self.conversation = conversation
        self.overrides = overrides  # the command line's, for /new and /load
        self.commands = {command.name: command for command in self._commands()}
        self.attachments: list[Attachment] = []  # /file's, for the next message

    # --- the loop ---

    def run(self, first_message: str | None = None, terminal: IO[str] | None = None) -> None:
        """Answer `first_message` (piped text), then read the terminal until Ctrl-D or /exit.

        `terminal`: where to read from when stdin is not one (/dev/tty); None means stdin.
        SIGTERM or SIGHUP (`signals.Terminated`) ends it, at the prompt or once the answer it
        stopped has been saved; the terminal's modes are given back as they were."""
        if self.conversation.session.turns:  # a system message alone is a new session
            self._show_recent()
        elif first_message is None and self.env.stdout_isatty:
            self._hint(START_HINT)
        if first_message is not None:
            self.send(first_message, echo=True)
            raise_if_terminated()
            if terminal is None and not self.env.stdin_isatty:
                return
        prompt = self._prompt_session(terminal)
        with _tty_restored(terminal if terminal is not None else self.env.stdin):
            self._read(prompt)

    def _read(self, prompt: Any) -> None:
        while True:
            try:
                text = prompt.prompt(self._prompt_message, bottom_toolbar=self._toolbar)
            except Terminated:
                raise
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line
            except EOFError:
                return
            try:
                self.handle(text)
            except Leave:
                return
            raise_if_terminated()  # the answer a signal stopped is saved: now leave

    def handle(self, text: str) -> None:
        """One line from the user: a slash command, or a message to send."""
        if not text.strip():
            return
        if text.startswith("/") and not text.startswith("//"):
            name, _, argument = text[1:].partition(" ")
            command = self.commands.get(name.strip())
            if command is None:
                self.env.notice(f"unknown command /{name}; /help lists the commands")
                return
            try:
                command.run(argument.strip())
            except WaiError as error:
                self.env.report(error)
            return
        self.send(text[1:] if text.startswith("//") else text)

    def send(self, text: str, *, replace_last: bool = False, echo: bool = False) -> None:
        """Send a message (with the files /file attached, unless it asks an exchange again).
        `echo`: show it as if typed at the prompt first (piped text, /edit's), on a terminal."""
        if echo and self.env.stdout_isatty:
            self.env.show(typed(text))
        attached = [] if replace_last else self.attachments
        try:
            renderer = choose_renderer(self.env, reasoning=self.conversation.settings.reasoning)
            result = self.conversation.send(
                with_attachments(text, attached), renderer, replace_last=replace_last
            )
        except WaiError as error:  # refused before sending (too long, no credentials, ...)
            self.env.report(error)
            return
        if result.error is not None:
            self.env.report(result.error)
        elif result.finish_reason == "interrupted":
            kept = (
                "the partial answer is kept; /continue resumes it"
                if result.text
                else "nothing was kept"
            )
            self.env.notice(f"interrupted; {kept}")
        if attached and (result.text or result.reasoning):  # they went with a saved exchange
            self.attachments = []
        elif attached:
            self.env.notice(f"the attachments ({_files(attached)}) go with the next message")

    # --- prompt-toolkit ---

    def _prompt_session(self, terminal: IO[str] | None) -> Any:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.key_binding import KeyBindings

        bindings = KeyBindings()

        @bindings.add("enter")
        def _send(event: Any) -> None:
            event.current_buffer.validate_and_handle()

        @bindings.add("escape", "enter")
        def _newline(event: Any) -> None:
            event.current_buffer.insert_text("\n")

        history_path = data_dir() / "history"
        history_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not history_path.exists():  # what you typed is as private as the sessions
            os.close(os.open(history_path, os.O_CREAT | os.O_WRONLY, 0o600))
        extra: dict[str, Any] = {}
        if terminal is not None:
            from prompt_toolkit.input import create_input

            extra["input"] = create_input(stdin=terminal)
        return PromptSession(
            history=FileHistory(str(history_path)),
            auto_suggest=AutoSuggestFromHistory(),
            completer=argument_completer(
                {name: command.help for name, command in self.commands.items()},
                {
                    "load": self._session_names,
                    "model": self._model_ids,
                    "backend": self._backend_names,
                    "set": lambda: [*PARAMS, *self.conversation.params],
                    "unset": lambda: list(self.conversation.params),
                    "role": lambda: list(configured_roles(self.conversation.config)),
                },
            ),
            complete_while_typing=False,
            multiline=True,
            key_bindings=bindings,
            prompt_continuation=lambda width, line, wrapped: "… ".rjust(width),
            **extra,
        )

    def _prompt_message(self) -> str:
        return "› "

    def _toolbar(self) -> str:
        conversation = self.conversation
        backend = conversation.settings.backend
        used = estimate_messages(conversation.session.scoped_messages())
        window = conversation.context_window
        context = f"context ~{used}/{window}" if window else f"context ~{used} tokens"
        name = conversation.session.name or "new session"
        if not conversation.persistent:  # `wai chat --no-save`
            name += " (not saved)"
        attached = f" · {_files(self.attachments)} attached" if self.attachments else ""
        return f" {backend.name} · {self._model_shown()} · {name} · {context}{attached} "

    def _model_shown(self) -> str:
        """The model the next request uses; a local server's first model is known only once
        its list was fetched (by the first message), and says so until then."""
        return self.conversation.known_model or "(first model the server lists)"

    # --- completion's candidates: from disk or memory, never from the network ---

    def _session_names(self) -> list[str]:
        """The saved sessions' names, the most recently updated first."""
        with contextlib.suppress(OSError):
            return SessionStore().names()
        return []

    def _model_ids(self) -> list[str]:
        """The current model, then the backend's cached catalogue (`wai models` fills it)."""
        backend = self.conversation.settings.backend.name
        cached = CatalogueCache(cache_dir()).load(backend, warn=lambda _: None, max_age=None)
        known = self.conversation.known_model
        return [*([known] if known else []), *(model.id for model in cached or [])]

    def _backend_names(self) -> list[str]:
        """cloudflare, the ready-made local servers, then the config's (as known_backends has
        them, in this order)."""
        return [DEFAULT_BACKEND, *LOCAL_PRESETS, *self.conversation.config.get("backends", {})]

    def _hint(self, text: str) -> None:
        """A line of help on the terminal, dimmed (unless NO_COLOR or TERM=dumb)."""
        self.env.write_out(text + "\n" if self.env.no_color else f"\x1b[2m{text}\x1b[0m\n")

    def _show_recent(self, exchanges: int = 2) -> None:
        session = self.conversation.session
        self.env.notice(f"session {session.name}: {session.turns_text}; the last ones:")
        recent = [m for m in session.messages if m["role"] != "system"][-2 * exchanges :]
        self._print_messages(recent)

    def _print_messages(self, messages: list[dict[str, Any]]) -> None:
        """On a terminal, as the live REPL showed them; elsewhere, as `role: text` lines."""
        if markdown_wanted(self.env, None):
            print_messages(self.env, messages)
            return
        for message in messages:
            self._print_message(message)

    def _print_message(self, message: dict[str, Any]) -> None:
        marker = " [interrupted]" if message.get("meta", {}).get("interrupted") else ""
        self.env.show(f"{message['role']}{marker}: {message['content']}\n")

    # --- slash commands ---

    def _commands(self) -> Iterable[Command]:
        return (
            Command("help", "", "list the commands and keys", self.cmd_help),
            Command("exit", "", "leave (Ctrl-D does too)", self.cmd_exit),
            Command("new", "", "start a new session", self.cmd_new),
            Command("system", "[TEXT]", "show or set the system message", self.cmd_system),
            Command("role", "[NAME]", "switch to a role (/role alone lists them)", self.cmd_role),
            Command("model", "[ID]", "show or switch the model", self.cmd_model),
            Command("backend", "[NAME]", "show or switch the backend", self.cmd_backend),
            Command(
                "set",
                "KEY [VALUE]",
                "set a parameter or any body field; KEY alone removes it (/set lists them)",
                self.cmd_set,
            ),
            Command("unset", "KEY", "remove a parameter or body field", self.cmd_unset),
            Command("retry", "", "regenerate the last answer", self.cmd_retry),
            Command(
                "continue",
                "",
                "resume the last answer, interrupted or cut at max_tokens",
                self.cmd_continue,
            ),
            Command("undo", "", "drop the last exchange", self.cmd_undo),
            Command("history", "", "show this session's messages", self.cmd_history),
            Command("sessions", "", "list the saved sessions", self.cmd_sessions),
            Command("load", "NAME", "continue a saved session", self.cmd_load),
            Command("rename", "NAME", "rename this session", self.cmd_rename),
            Command("edit", "", "write the next message in $EDITOR", self.cmd_edit),
            Command("reasoning", "", "show the last answer's reasoning", self.cmd_reasoning),
            Command("usage", "", "tokens used in this session", self.cmd_usage),
            Command("clear", "", "clear the screen", self.cmd_clear),
            Command("copy", "[N]", "copy the last answer, or its Nth code block", self.cmd_copy),
            Command("file", "PATH", "attach a text file to the next message", self.cmd_file),
            Command("export", "[FILE]", "write the conversation as markdown", self.cmd_export),
        )

    def cmd_help(self, _: str) -> None:
        """The commands, their help in a column, then the keys; on a terminal narrower than a
        line, wrapped between words (the help under its column, the keys at their `·`), so the
        terminal never breaks a word such as `Ctrl-R`."""
        width = self.env.stdout_width
        lines = []
        for command in self.commands.values():
            usage = f"  /{command.name} {command.args}".ljust(HELP_COLUMN)
            if width is None or len(usage) + len(command.help) <= width:
                lines.append(usage + command.help)
                continue
            wrapped = textwrap.wrap(command.help, max(width - HELP_COLUMN, 20))
            lines.append(usage + wrapped[0])
            lines.extend(" " * HELP_COLUMN + part for part in wrapped[1:])
        for keys in KEYS:
            lines.extend(_joined(keys, " · ", width))
        self.env.write_out("\n".join(lines) + "\n")

    def cmd_exit(self, _: str) -> None:
        raise Leave

    def cmd_new(self, _: str) -> None:
        self.conversation = Conversation.open(
            self.env,
            self.overrides,
            self.conversation.config,
            persistent=self.conversation.persistent,  # `wai chat --no-save` saves none
        )
        self.env.notice("new session")

    def cmd_system(self, text: str) -> None:
        if not text:
            current = self.conversation.session.system
            self.env.show(f"{current}\n" if current else "(no system message)\n")
            return
        self.conversation.set_system(text)
        self.conversation.save_settings()
        self.env.notice("system message set")

    def cmd_role(self, name: str) -> None:
        """`/role NAME`: the config's role's system message, and the backend, model and
        parameters it names; `/role` alone lists the roles, `*` marking the one in use."""
        conversation = self.conversation
        if name:
            role = conversation.use_role(name)
            changed = ["system message set"]
            if role.backend is not None:
                changed.append(f"backend {conversation.settings.backend.name}")
            if role.backend is not None or role.model is not None:
                changed.append(f"model {conversation.settings.backend.model}")
            changed += [f"{key} = {shown_value(value)}" for key, value in role.params.items()]
            self.env.notice(f"role {role.name}: {', '.join(changed)}")
            return
        roles = configured_roles(conversation.config).values()
        if not roles:
            self.env.notice(
                'no roles yet: add one with `wai config set roles.NAME.system "You are ..."`'
            )
            return
        name_width = max(len(role.name) for role in roles)
        model_width = max(len(role.model or "-") for role in roles)
        for role in roles:
            mark = "*" if role.name == conversation.role else " "
            first_line = role.system.strip().splitlines()[0]
            model = (role.model or "-").ljust(model_width)
            self.env.show(f"{mark} {role.name.ljust(name_width)}  {model}  {first_line}\n")

    def cmd_model(self, model: str) -> None:
        if not model:
            self.env.write_out(f"{self._model_shown()}\n")
            return
        self.conversation.switch(model=model)
        self.conversation.save_settings()
        self.env.notice(f"model: {model}")

    def cmd_backend(self, name: str) -> None:
        backend = self.conversation.settings.backend
        if not name:
            self.env.write_out(f"{backend.name} (model {self._model_shown()})\n")
            return
        self.conversation.switch(backend=name, model=None)
        self.conversation.save_settings()
        backend = self.conversation.settings.backend
        self.env.notice(f"backend: {backend.name} (model {self._model_shown()})")

    def cmd_set(self, argument: str) -> None:
        """`/set KEY VALUE`: a known parameter (range-checked) or any body field, as `-o` takes
        it; VALUE is JSON where it parses as JSON, else a string. `/set KEY` alone removes it,
        as `/unset KEY` does."""
        if not argument:
            params = self.conversation.settings.params
            self.env.write_out("".join(f"{k} = {shown_value(v)}\n" for k, v in params.items()))
            return
        key, _, value = argument.partition(" ")
        if not value.strip():
            self.cmd_unset(key)
            return
        name = param_name(key)
        checked = check_param(name, parse_option_value(value.strip()), key)
        self.conversation.switch(params={name: checked})
        self.conversation.save_settings()
        self.env.notice(f"{name} = {shown_value(checked)}")

    def cmd_unset(self, argument: str) -> None:
        """`/unset KEY`: remove a parameter chosen for this conversation (by /set, a flag or the
        session), here and from the session's saved params: the next request goes without it,
        or with the config file's value or wai's default, which the notice names."""
        if not argument or " " in argument:
            raise UsageError(
                f"usage: /unset KEY, with KEY one of {', '.join(PARAMS)}, "
                "or any other field of the request body",
                hint="/set lists the ones in use",
            )
        name = param_name(argument)
        conversation = self.conversation
        if name not in conversation.params:
            value = conversation.settings.params.get(name)
            if value is None:
                raise UsageError(f"{name} is not set", hint="/set lists the ones in use")
            if name in conversation.config.get("params", {}):
                raise UsageError(
                    f"{name} = {shown_value(value)} comes from the config file, not from this "
                    "conversation",
                    hint=f"`wai config unset params.{name}` removes it there; /set {name} VALUE "
                    "overrides it here",
                )
            raise UsageError(
                f"{name} = {shown_value(value)} is wai's default, not set in this conversation",
                hint=f"/set {name} VALUE overrides it",
            )
        conversation.switch(unset=(name,))
        conversation.save_settings()
        left = conversation.settings.params.get(name)
        self.env.notice(
            f"{name} unset" + ("" if left is None else f"; {shown_value(left)} from now on")
        )

    def cmd_retry(self, _: str) -> None:
        self.send(self.conversation.last_prompt(), replace_last=True)

    def cmd_continue(self, _: str) -> None:
        """Resume the last answer where it stopped: the new text is drawn (after the answer's
        open paragraph or code block, drawn again) and appended to that answer."""
        renderer = choose_renderer(self.env, reasoning=self.conversation.settings.reasoning)
        result = self.conversation.continue_answer(renderer)  # a WaiError: nothing was sent
        if result.error is not None:
            self.env.report(result.error)
        elif result.finish_reason == "interrupted":
            kept = "what arrived is kept" if result.text else "nothing more arrived"
            self.env.notice(f"interrupted; {kept}; /continue resumes the answer")

    def cmd_undo(self, _: str) -> None:
        self.conversation.undo()
        self.env.notice("dropped the last exchange")

    def cmd_history(self, _: str) -> None:
        """Every message; on a terminal as the live REPL showed them, through the pager when
        they take more rows than the screen has."""
        messages = self.conversation.session.messages
        if not markdown_wanted(self.env, None):
            self._print_messages(messages)
            return
        text = render_messages(self.env, messages)
        size = shutil.get_terminal_size()
        if screen_rows(text, size.columns) > size.lines:
            page(self.env, text)
        else:
            self.env.write_out(text)

    def cmd_sessions(self, _: str) -> None:
        sessions = SessionStore().all()
        if not sessions:
            self.env.notice("no saved sessions yet")
        for session in sessions:
            self.env.show(f"{session.name}  ({session.turns_text}) {session.title}\n")

    def cmd_load(self, name: str) -> None:
        if not name:
            raise UsageError("usage: /load NAME (/sessions lists them)")
        SessionStore().load(name)  # an unknown or broken name is an error, not a new session
        self.conversation = Conversation.open(
            self.env,
            self.overrides,
            self.conversation.config,
            name=name,
            persistent=self.conversation.persistent,
        )
        self._show_recent()

    def cmd_rename(self, name: str) -> None:
        if not name:
            raise UsageError("usage: /rename NAME")
        self.conversation.rename(name)
        self.env.notice(f"session renamed to {name}")

    def cmd_edit(self, _: str) -> None:
        text = edit_in_editor(self.env)
        if text.strip():
            self.send(text.rstrip("\n"), echo=True)
        else:
            self.env.notice("empty message; nothing sent")

    def cmd_reasoning(self, _: str) -> None:
        reasoning = self.conversation.session.last_reasoning()
        if reasoning:
            self.env.show(reasoning.rstrip("\n") + "\n")
        else:
            self.env.notice("the last answer came with no reasoning")

    def cmd_usage(self, _: str) -> None:
        prompt = completion = answers = 0
        for message in self.conversation.session.messages:
            usage = message.get("meta", {}).get("usage")
            if usage:
                answers += 1
                prompt += usage.get("prompt_tokens") or 0
                completion += usage.get("completion_tokens") or 0
        self.env.write_out(
            f"{prompt} prompt + {completion} completion = {prompt + completion} tokens "
            f"over {answers} answers\n"
        )

    def cmd_clear(self, _: str) -> None:
        if not self.env.stdout_isatty:
            return
        from prompt_toolkit.output import create_output

        output = create_output(stdout=self.env.stdout)
        output.erase_screen()
        output.cursor_goto(0, 0)
        output.flush()

    def cmd_copy(self, argument: str) -> None:
        """`/copy [N]`: the last answer, or its Nth fenced code block (the code alone), on the
        clipboard, through the terminal (OSC 52): the user's own act, so the escape sequence
        is written as it is, unlike any a model sends."""
        if not self.env.stdout_isatty:
            raise UsageError(
                "/copy needs a terminal: it asks the terminal to set the clipboard",
                hint="in a pipe, `wai sessions export NAME` gives the conversation",
            )
        answer = self._last_answer()
        if not argument:
            self.env.write_out(osc52(answer))
            self.env.notice(f"copied the answer ({count(len(answer), 'character')})")
            return
        if not argument.isdigit() or int(argument) < 1:
            raise UsageError("usage: /copy [N], N the number of a code block (1 is the first)")
        number, blocks = int(argument), code_blocks(answer)
        if number > len(blocks):
            has = count(len(blocks), "code block") if blocks else "no code block"
            raise UsageError(f"the last answer has {has}")
        block = blocks[number - 1]
        code = block.code.removesuffix("\n")
        lines = count(len(code.split("\n")) if code else 0, "line")
        self.env.write_out(osc52(code))
        described = f"{block.language}, {lines}" if block.language else lines
        self.env.notice(f"copied code block {number} ({described})")

    def _last_answer(self) -> str:
        for message in reversed(self.conversation.session.messages):
            if message["role"] == "assistant":
                return str(message["content"])
        raise UsageError("there is no answer yet")

    def cmd_file(self, path: str) -> None:
        """`/file PATH`: a text file, fenced with its name, goes before the next message."""
        if not path:
            raise UsageError("usage: /file PATH (a text file up to 1 MiB)")
        attachment = read_attachment(path, Path.cwd())
        self.attachments.append(attachment)
        size = count(len(attachment.text), "character")
        self.env.notice(f"attached {path} ({size}); it goes with your next message")

    def cmd_export(self, path: str) -> None:
        """`/export [FILE]`: the conversation as markdown, to FILE (never overwritten) or to
        SESSION.md in the current directory (SESSION-2.md, ... when that is taken)."""
        session = self.conversation.session
        if not session.messages:
            raise UsageError("there is nothing to export yet")
        target = export_path(path, session.name or "chat", Path.cwd())
        write_export(target, markdown_transcript(session))
        messages = count(len(session.messages), "message")
        self.env.notice(f"exported {messages} to {path or target.name}")


@contextlib.contextmanager
def _tty_restored(stream: IO[Any]) -> Iterator[None]:
    """The terminal's modes as they were on entry, however the prompt is left: a signal that
    lands while prompt-toolkit holds the terminal in raw mode may leave it so (3.0.40 does)."""
    try:
        fd = stream.fileno()
        saved = termios.tcgetattr(fd)
    except (AttributeError, OSError, ValueError, termios.error):
        yield  # not a terminal: nothing to give back
        return
    try:
        yield
    finally:
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def edit_in_editor(env: Environment) -> str:
    editor = env.environ.get("VISUAL") or env.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="wai-") as directory:
        path = Path(directory) / "message.md"
        path.write_text("")
        subprocess.run([*shlex.split(editor), str(path)], check=False)
        return path.read_text()


def _joined(parts: Iterable[str], separator: str, width: int | None) -> list[str]:
    """`parts` joined by `separator` into lines of at most `width` columns (one line when
    `width` is None), each part whole."""
    lines: list[str] = []
    for part in parts:
        if lines and (width is None or len(lines[-1]) + len(separator) + len(part) <= width):
            lines[-1] += separator + part
        else:
            lines.append(part)
    return lines


def _files(attachments: list[Attachment]) -> str:
    return count(len(attachments), "file")
