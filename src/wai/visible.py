"""Control characters made visible, so that text from a model or a server cannot drive the
terminal (clear it, switch screens, set its title, write the clipboard, make links).

`visible` shows every C0 and C1 control character except newline and tab the way `cat -v` does:
a C0 character as a caret and the character 64 above it (ESC is `^[`, NUL `^@`, CR `^M`, US
`^_`), DEL as `^?`, and a C1 character (U+0080 to U+009F) as `M-` and the caret form of the C0
character 128 below it (CSI, U+009B, is `M-^[`). Everything else is left as it is.

Used only where text reaches a terminal; what goes to a pipe or a file stays byte for byte.
"""

from __future__ import annotations


def _caret(code: int) -> str:
    return "^?" if code == 0x7F else "^" + chr(code + 64)


KEPT = frozenset("\n\t")
TABLE: dict[int, str] = {
    **{code: _caret(code) for code in range(0x20) if chr(code) not in KEPT},
    0x7F: "^?",
    **{code: "M-" + _caret(code - 0x80) for code in range(0x80, 0xA0)},
}


def visible(text: str) -> str:
    """`text` with its control characters (but newline and tab) shown as `^[`, `^?`, `M-^[`."""
    if text.isprintable():  # the usual token: no control character, not even a newline
        return text
    return text.translate(TABLE)
