"""`wai models`: fetch a backend's text-generation models, filter them, mark the default, print
them."""

import json
from typing import Annotated

import typer

from wai.cli import options as opt
from wai.cli.common import environment, reported
from wai.environment import Environment
from wai.settings import Overrides


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
        list_models(env, opt.overrides_from(ctx.params), search=search, as_json=as_json)


def list_models(
    env: Environment, overrides: Overrides, *, search: str | None, as_json: bool
) -> None:
    from wai.backends import make_backend
    from wai.render.table import format_table
    from wai.settings import resolve
    from wai.settings.file import load_config

    settings = resolve(overrides, load_config(), env.environ)
    env.add_secret(settings.backend.api_token)
    backend = make_backend(settings)
    models = backend.list_models()
    # An OpenAI-compatible server with no model configured answers with its first one.
    default = settings.backend.model or (models[0].id if models else "")
    if search:
        needle = search.lower()
        models = [m for m in models if needle in m.id.lower() or needle in m.description.lower()]
    if as_json:
        document = [
            {
                "id": m.id,
                "context_window": m.context_window,
                "description": m.description,
                "default": m.id == default,
            }
            for m in models
        ]
        env.write_out(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    if not models:
        env.notice(f"no models{f' match {search!r}' if search else ''} on {settings.backend.name}")
        return
    rows = [
        (
            "*" if m.id == default else " ",
            m.id,
            str(m.context_window) if m.context_window else "-",
            " ".join(m.description.split()),
        )
        for m in models
    ]
    env.write_out(
        format_table(
            (" ", "MODEL", "CONTEXT", "DESCRIPTION"),
            rows,
            right_aligned={2},
            width=env.stdout_width,
        )
    )
    if not any(m.id == default for m in models) and not search:
        env.notice(f"the configured model {default} is not in this list")
