"""`wai login`: store a verified Cloudflare account id and API token."""

from typing import Annotated

import typer

from wai.cli.common import environment, reported


def login(
    ctx: typer.Context,
    account_id: Annotated[
        str | None, typer.Option("--account-id", help="The account id (asked for if missing).")
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the API token from stdin (for scripts).")
    ] = False,
    backend: Annotated[
        str, typer.Option("-b", "--backend", help="The Cloudflare backend to store them for.")
    ] = "cloudflare",
) -> None:
    """Store your Cloudflare account id and API token, after checking that they work."""
    env = environment(ctx)
    with reported(env):
        from wai.login import login as run_login

        run_login(env, backend_name=backend, account_id=account_id, token_stdin=token_stdin)
