"""`wai models`: a backend's text-generation models (Cloudflare's catalogue is cached for a day),
filtered, with the default marked; `wai models show MODEL`: what the catalogue and the model's
input schema say of one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wai.cli import options as opt
from wai.cli.common import environment, reported

if TYPE_CHECKING:
    from wai.backends.base import Backend, ModelInfo
    from wai.environment import Environment
    from wai.settings import Overrides, Settings

app = typer.Typer()

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Refresh = Annotated[
    bool,
    typer.Option("--refresh", help="Fetch the catalogue even when the cached one is fresh."),
]
LABEL_WIDTH = 18  # "function calling" and two spaces


@app.callback(invoke_without_command=True)
def models(
    ctx: typer.Context,
    backend: opt.BackendName = None,
    search: Annotated[
        str | None, typer.Option("--search", "-S", help="Only models whose id or text has TEXT.")
    ] = None,
    as_json: Json = False,
    refresh: Refresh = False,
) -> None:
    """List the models of the backend (Cloudflare's live catalogue, cached for 24 hours, or a
    server's /models). The configured default is marked with *."""
    if ctx.invoked_subcommand is not None:
        return
    env = environment(ctx)
    with reported(env):
        list_models(
            env, opt.overrides_from(ctx.params), search=search, as_json=as_json, refresh=refresh
        )


@app.command()
def show(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(metavar="MODEL", help="The model's id.")],
    backend: opt.BackendName = None,
    as_json: Json = False,
    refresh: Refresh = False,
) -> None:
    """What the catalogue says of MODEL (context window, capabilities, prices, retirement) and
    the input parameters its schema takes."""
    env = environment(ctx)
    group = ctx.parent.params if ctx.parent is not None else {}
    # `wai models -b local show X` means what `wai models show X -b local` does.
    backend = backend or group.get("backend")
    with reported(env):
        show_model(
            env,
            opt.overrides_from({"backend": backend}),
            model_id,
            as_json=as_json or bool(group.get("as_json")),
            refresh=refresh or bool(group.get("refresh")),
        )


def list_models(
    env: Environment,
    overrides: Overrides,
    *,
    search: str | None,
    as_json: bool,
    refresh: bool = False,
) -> None:
    from wai.render.table import format_table

    settings, backend = _backend(env, overrides)
    models, _cached = catalogue(env, settings, backend, refresh=refresh)
    # An OpenAI-compatible server with no model configured answers with its first one.
    default = settings.backend.model or (models[0].id if models else "")
    if search:
        needle = search.lower()
        models = [m for m in models if needle in m.id.lower() or needle in m.description.lower()]
    if as_json:
        document = [_as_json(m, default) for m in models]
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
            "yes" if m.reasons else "-",
            "yes" if m.function_calling else "-",
            m.deprecation or "-",
            " ".join(m.description.split()),
        )
        for m in models
    ]
    env.write_out(
        format_table(
            (" ", "MODEL", "CONTEXT", "REASONING", "TOOLS", "RETIRES", "DESCRIPTION"),
            rows,
            right_aligned={2},
            width=env.stdout_width,
        )
    )
    if not any(m.id == default for m in models) and not search:
        env.notice(f"the configured model {default} is not in this list")


def show_model(
    env: Environment, overrides: Overrides, model_id: str, *, as_json: bool, refresh: bool
) -> None:
    from wai.backends.catalogue import find
    from wai.errors import UsageError

    settings, backend = _backend(env, overrides)
    models, cached = catalogue(env, settings, backend, refresh=refresh)
    info = find(models, model_id)
    if info is None and cached:  # the model may be newer than the cached catalogue
        models, _cached = catalogue(env, settings, backend, refresh=True)
        info = find(models, model_id)
    name = settings.backend.name
    if info is None:
        flag = f" -b {name}" if overrides.backend else ""
        raise UsageError(
            f"unknown model {model_id!r} on {name}", hint=f"`wai models{flag}` lists them"
        )
    default = settings.backend.model or (models[0].id if models else "")
    model_schema = getattr(backend, "model_schema", None)  # Workers AI's /ai/models/schema
    schema = model_schema(info.id).get("input") if callable(model_schema) else None
    if as_json:
        document = {"model": _as_json(info, default), "input": schema}
        env.write_out(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    env.write_out(_facts(info) + "\n" + _parameters(schema, callable(model_schema), env))


def catalogue(
    env: Environment, settings: Settings, backend: Backend, *, refresh: bool
) -> tuple[list[ModelInfo], bool]:
    """The backend's models, and whether they came from the cache. Cloudflare's catalogue is
    read from a fresh cache (it changes seldom and takes a request per 50 models); a local
    server, whose loaded models come and go, is always asked. What is fetched is cached."""
    from wai.backends.catalogue import CatalogueCache
    from wai.settings.paths import cache_dir

    cache = CatalogueCache(cache_dir())
    name = settings.backend.name
    if not refresh and settings.backend.type == "cloudflare":
        cached = cache.load(name, warn=env.notice)
        if cached is not None:
            return cached, True
    models = backend.list_models()
    try:
        cache.store(name, models)
    except OSError as error:  # the list is still good to print
        env.notice(f"warning: could not write the model cache {cache.path(name)}: {error}")
    return models, False


def _backend(env: Environment, overrides: Overrides) -> tuple[Settings, Backend]:
    from wai.backends import make_backend
    from wai.settings import resolve
    from wai.settings.file import load_config

    settings = resolve(overrides, load_config(), env.environ)
    env.add_secret(settings.backend.api_token)
    return settings, make_backend(settings)


def _as_json(model: ModelInfo, default: str) -> dict[str, Any]:
    return {
        "id": model.id,
        "context_window": model.context_window,
        "description": model.description,
        "reasoning": model.reasons,
        "function_calling": model.function_calling,
        "deprecation": model.deprecation,
        "prices": list(model.prices),
        "default": model.id == default,
    }


def _facts(model: ModelInfo) -> str:
    """The catalogue's facts, one `label  value` line each (a list goes on further lines)."""
    facts: list[tuple[str, str]] = [
        ("model", model.id),
        ("description", " ".join(model.description.split()) or "-"),
        ("context window", f"{model.context_window} tokens" if model.context_window else "-"),
        ("reasoning", _yes_no(model.reasons)),
        ("function calling", _yes_no(model.function_calling)),
        *(("prices" if i == 0 else "", price) for i, price in enumerate(model.prices)),
        *((("prices", "-"),) if not model.prices else ()),
        ("retires", model.deprecation or "-"),
    ]
    return "".join(f"{label:<{LABEL_WIDTH}}{value}\n" for label, value in facts)


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "no"


def _parameters(schema: Any, has_schemas: bool, env: Environment) -> str:
    """The input schema's parameters as a table: every branch's (prompt, messages), in the
    schema's order, each once."""
    from wai.render.table import format_table

    if not has_schemas:
        return "input parameters: this backend has no schema endpoint (only /models)\n"
    properties = _properties(schema)
    if not properties:
        return "input parameters: the model's schema lists none\n"
    rows = [
        (name, _type(prop), _range(prop), _default(prop), " ".join(_text(prop).split()))
        for name, prop in properties.items()
    ]
    header = ("PARAMETER", "TYPE", "RANGE", "DEFAULT", "DESCRIPTION")
    return format_table(header, rows, width=env.stdout_width)


def _properties(schema: Any, depth: int = 0) -> dict[str, dict[str, Any]]:
    """The properties of `schema` and of its oneOf/anyOf/allOf branches, first seen first."""
    found: dict[str, dict[str, Any]] = {}
    if not isinstance(schema, dict) or depth > 4:
        return found
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, prop in properties.items():
            found.setdefault(str(name), prop if isinstance(prop, dict) else {})
    for key in ("oneOf", "anyOf", "allOf"):
        branches = schema.get(key)
        for branch in branches if isinstance(branches, list) else ():
            for name, prop in _properties(branch, depth + 1).items():
                found.setdefault(name, prop)
    return found


def _type(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if isinstance(kind, str):
        return kind
    kinds = kind if isinstance(kind, list) else []
    if not kinds:  # `anyOf: [{"type": "string"}, {"type": "array"}]`
        for key in ("anyOf", "oneOf"):
            branches = prop.get(key)
            kinds += [b.get("type") for b in branches or () if isinstance(b, dict)]
    names = list(dict.fromkeys(str(k) for k in kinds if isinstance(k, str)))
    return "|".join(names) or "-"


def _range(prop: dict[str, Any]) -> str:
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        return "|".join(_plain(value) for value in enum)
    low, high = prop.get("minimum"), prop.get("maximum")
    if low is not None and high is not None:
        return f"{_plain(low)} to {_plain(high)}"
    if low is not None:
        return f">= {_plain(low)}"
    if high is not None:
        return f"<= {_plain(high)}"
    return "-"


def _default(prop: dict[str, Any]) -> str:
    return _plain(prop["default"]) if "default" in prop else "-"


def _plain(value: Any) -> str:
    """A schema value as it reads best: text bare, anything else as JSON."""
    if isinstance(value, str) and value:
        return value
    return json.dumps(value, ensure_ascii=False)


def _text(prop: dict[str, Any]) -> str:
    description = prop.get("description")
    return description if isinstance(description, str) else ""
