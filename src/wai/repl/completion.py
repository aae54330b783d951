"""Tab completion at the REPL's prompt: the slash commands, then their arguments (session names
for `/load`, model ids for `/model`, ...), from what is at hand on disk or in memory: completing
never waits for the network."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Candidates = Callable[[], Iterable[str]]


def argument_completer(commands: Mapping[str, str], arguments: Mapping[str, Candidates]) -> Any:
    """A prompt-toolkit Completer: `/` and a command's start complete to the commands (their
    help beside them), `/NAME ` and an argument's start to what `arguments[NAME]()` offers.
    `commands` maps each name to its help. Only a message's first line is completed, and only
    a command's first argument (`/set KEY` but not its VALUE)."""
    return _completer_class()(commands, arguments)


@functools.cache
def _completer_class() -> Any:
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.document import Document

    class SlashCompleter(Completer):
        def __init__(self, commands: Mapping[str, str], arguments: Mapping[str, Candidates]):
            self.commands = commands
            self.arguments = arguments

        def get_completions(self, document: Document, complete_event: Any) -> Iterable[Any]:
            text = document.text_before_cursor
            if not text.startswith("/") or text.startswith("//") or "\n" in text:
                return
            name, space, argument = text[1:].partition(" ")
            if not space:
                for command, help_text in self.commands.items():
                    if command.startswith(name):
                        yield Completion(
                            f"/{command}", start_position=-len(text), display_meta=help_text
                        )
                return
            candidates = self.arguments.get(name)
            word = argument.lstrip()
            if candidates is None or name not in self.commands or " " in word:
                return
            try:
                offered = list(candidates())
            except Exception:  # completing is a convenience: it never breaks the prompt
                return
            seen = set()
            for candidate in offered:
                if candidate.startswith(word) and candidate not in seen:
                    seen.add(candidate)
                    yield Completion(candidate, start_position=-len(word))

    return SlashCompleter
