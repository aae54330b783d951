"""`wai sessions list|show|rm|rename|export|path`."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="List, show, rename, export and remove saved conversations.", no_args_is_help=True
)
