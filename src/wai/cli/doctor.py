"""`wai doctor`: check configuration, credentials and backends."""

from typing import Annotated

import typer

from wai.cli.common import environment, reported


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check the config file, the credentials, the default backend and model, and every
    configured local server. Exits 0 only when the default backend works."""
    env = environment(ctx)
    with reported(env):
        from wai.doctor import Doctor

        checks = Doctor(env)
        works = checks.run()
        checks.report(works, as_json)
        code = checks.exit_code(works)
    if code:
        raise typer.Exit(code)
