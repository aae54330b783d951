"""Plain aligned columns for listings (sessions, models, doctor): no Rich, fast, pipe-friendly."""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence


def format_table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    right_aligned: Container[int] = (),
    width: int | None = None,
) -> str:
    """Columns two spaces apart; the last one runs free. On a terminal (`width`), a line too
    long for it ends in an ellipsis."""
    table = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(row[column]) for row in table) for column in range(len(header) - 1)]
    lines = []
    for row in table:
        cells = [
            cell.rjust(widths[i]) if i in right_aligned else cell.ljust(widths[i])
            for i, cell in enumerate(row[:-1])
        ]
        line = "  ".join([*cells, row[-1]]).rstrip()
        if width and len(line) > width:
            line = line[: width - 1] + "…"
        lines.append(line + "\n")
    return "".join(lines)
