"""`wai models`: the text-generation models a backend offers."""

from typing import Annotated

import typer

from wai.cli import options as opt
from wai.cli.common import environment, reported


def models(
    ctx: typer.Context,
    backend: opt.BackendName = None,
    search: Annotated[
        str | None, typer.Option("--search", "-S", help="Only models whose id or text has TEXT.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the models of the backend (Cloudflare's live catalogue, or a server's /models).
    The configured default is marked with *."""
    env = environment(ctx)
    with reported(env):
        from wai.models import list_models

        list_models(env, opt.options_from(ctx.params), search=search, as_json=as_json)
