"""Control characters shown the way `cat -v` shows them; Ctrl-C while an answer is drawn."""

from __future__ import annotations

import io
from collections.abc import Iterator

from wai.backends.base import Finish, Request, TextDelta, TurnResult
from wai.conversation.turn import run_turn
from wai.environment import Environment
from wai.errors import WaiError
from wai.visible import visible


def test_c0_controls_are_carets_but_newline_and_tab_stay() -> None:
    assert visible("\x00\x01\x07\x08\x0b\x0c\r\x1b\x1f") == "^@^A^G^H^K^L^M^[^_"
    assert visible("a\nb\tc") == "a\nb\tc"
    assert visible("\x7f") == "^?"


def test_c1_controls_are_meta_carets() -> None:
    assert visible("\x80\x9b2J\x9d\x9f") == "M-^@M-^[2JM-^]M-^_"


def test_everything_else_is_left_alone() -> None:
    text = "plain ascii, é, \xa0, 世界, 🙂, ^[ typed"
    assert visible(text) == text
    assert visible("") == ""


def test_terminal_sequences_lose_their_escape() -> None:
    assert visible("\x1b[2J\x1b]52;c;ZXZpbA==\x07") == "^[[2J^[]52;c;ZXZpbA==^G"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_notices_are_visible_on_a_terminal_only() -> None:
    terminal, pipe = _Tty(), io.StringIO()
    Environment(stderr=terminal).notice("a \x1b]0;t\x07 b")
    Environment(stderr=pipe).notice("a \x1b]0;t\x07 b")
    assert terminal.getvalue() == "wai: a ^[]0;t^G b\n"
    assert pipe.getvalue() == "wai: a \x1b]0;t\x07 b\n"
    Environment(stderr=terminal).report(WaiError("bad \x9b2J", hint="\x1b[2J"))
    # the labels' colours are wai's own escapes, added after the text was made visible
    assert terminal.getvalue().endswith(
        "\x1b[1;31mwai: error:\x1b[0m bad M-^[2J\n\x1b[36mhint:\x1b[0m ^[[2J\n"
    )


class _Backend:
    def stream(self, request: Request) -> Iterator[object]:
        yield TextDelta("the whole ")
        yield TextDelta("answer")
        yield Finish("stop")


class _InterruptedWhileDrawing:
    shows_reasoning = False

    def reasoning(self, delta: str) -> None:
        pass

    def text(self, delta: str) -> None:
        pass

    def finish(self, result: TurnResult) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the last blocks are drawn


def test_ctrl_c_while_the_answer_is_drawn_keeps_all_of_it() -> None:
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO())
    result = run_turn(_Backend(), Request(), _InterruptedWhileDrawing(), env)  # type: ignore[arg-type]
    assert result.text == "the whole answer"
    assert result.finish_reason == "interrupted"
