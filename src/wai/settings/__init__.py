"""Resolve flag > environment > config file > built-in default, once, into a frozen Settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from wai.errors import ConfigError, UsageError
from wai.settings.models import KNOWN_MODELS, SEED_MODEL, model_facts
from wai.settings.params import DEFAULT_MAX_TOKENS, PARAMS, REASONING_EFFORT, check_params
from wai.settings.paths import config_path

DEFAULT_BACKEND = "cloudflare"
DEFAULT_MODEL = SEED_MODEL  # retired by Cloudflare in 2025, kept as the default
CLOUDFLARE_API_BASE = "https://api.cloudflare.com/client/v4"
GATEWAY_BASE = "https://gateway.ai.cloudflare.com/v1"
LOCAL_PRESETS = {  # OpenAI-compatible servers on their usual ports, usable without any config
    "llamacpp": "http://127.0.0.1:8080/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "vllm": "http://127.0.0.1:8000/v1",
    "lmstudio": "http://127.0.0.1:1234/v1",
}


class Overrides(NamedTuple):
    """What the command line (or a REPL command) chose, above everything else; None means 'not
    given'."""

    backend: str | None = None
    model: str | None = None
    system: str | None = None
    # Known parameters, then any other body fields (`-o`, `--reasoning-effort`, `/set`)
    params: Mapping[str, Any] = MappingProxyType({})
    reasoning: str | None = None  # one of REASONING_MODES
    # Where `model` came from when not the command line (a session file's `model`, as
    # "model in PATH"): named by errors about it, which are then configuration errors
    model_source: str | None = None
    role: str | None = None  # a `[roles.NAME]` of the config: see with_role


class Role(NamedTuple):
    """A `[roles.NAME]` table of the config: a system message, and what to use it with."""

    name: str
    system: str
    model: str | None = None
    backend: str | None = None
    params: Mapping[str, Any] = MappingProxyType({})  # known parameters only, as in [params]


class BackendSettings(NamedTuple):
    name: str
    type: str
    model: str
    base_url: str
    account_id: str | None = None
    api_token: str | None = None  # never shown: see __repr__
    token_source: str | None = None  # where the token came from: "environment" or the file
    gateway: str | None = None
    gateway_base_url: str = GATEWAY_BASE
    context_window: int | None = None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={'<hidden>' if name == 'api_token' and value else repr(value)}"
            for name, value in zip(self._fields, self, strict=True)
        )
        return f"BackendSettings({shown})"


class Settings(NamedTuple):
    backend: BackendSettings
    system: str | None
    params: Mapping[str, Any]
    max_tokens_given: bool  # the user chose max_tokens (flag or config), so never shrink it
    reasoning: str = "auto"  # how a model's reasoning is shown: one of REASONING_MODES
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    retries: int = 3
    retry_backoff: float = 0.5


def _first(*values: str | None) -> str | None:
    return next((value for value in values if value), None)


# --- what goes into a request's URL or header, checked where it is read -----------------------

# Cloudflare's account ids are 32 hexadecimal digits (anything else could change the URL)
ACCOUNT_ID = re.compile(r"[0-9a-fA-F]{32}")
TOKEN_HINT = (
    "an API token is printable ASCII; copy it again from "
    "https://dash.cloudflare.com/profile/api-tokens"
)
MODEL_ID_HINT = (
    "a Workers AI model id is names separated by /, such as @cf/meta/llama-3.1-8b-instruct: "
    "none empty, . or .., and no whitespace, control character, ?, #, % or \\"
)


def _in_file(key: str) -> str:
    return f"{key} in {config_path()}"


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0


def check_token(value: str, source: str) -> str:
    """`value` without surrounding whitespace; a ConfigError naming `source` (never the value)
    if a control or non-ASCII character is left: it could not go into a header as it is."""
    token = value.strip()
    if any(not " " <= char <= "~" for char in token):
        raise ConfigError(
            f"{source} holds a control character or a non-ASCII character", hint=TOKEN_HINT
        )
    return token


def model_id_problem(model: str) -> str | None:
    """Why `model` cannot be a Workers AI model id (one that goes into the URL's path), or None."""
    for segment in model.split("/"):
        if segment in ("", ".", ".."):
            return f"{model!r} has an empty, . or .. name between its slashes"
        bad = next((c for c in segment if c.isspace() or _is_control(c) or c in "?#%\\"), None)
        if bad is not None:
            return f"{model!r} holds {bad!r}"
    return None


def check_model_id(model: str, source: str, *, flag: bool = False) -> None:
    problem = model_id_problem(model)
    if problem is not None:
        error = UsageError if flag else ConfigError
        raise error(f"{source}: {problem}, so it is not a Workers AI model id", hint=MODEL_ID_HINT)


def check_account_id(account: str, source: str, *, flag: bool = False) -> None:
    """A Cloudflare account id is 32 hexadecimal digits; `account` is not shown (it could be a
    token pasted in the wrong place)."""
    if not ACCOUNT_ID.fullmatch(account):
        error = UsageError if flag else ConfigError
        raise error(
            f"{source} is not a Cloudflare account id",
            hint="an account id is 32 hexadecimal digits: the dashboard shows it on the "
            "Workers AI page (or run `wai login`)",
        )


def _check_url(url: str, source: str) -> None:
    if any(char.isspace() or _is_control(char) for char in url):
        raise ConfigError(
            f"{source} holds whitespace or a control character", hint="it must be one URL"
        )


def _token(
    names: tuple[str, ...],
    environ: Mapping[str, str],
    table: Mapping[str, Any],
    key: str,
    name: str,
) -> tuple[str | None, str | None]:
    """The first non-empty token of the variables `names`, else the table's `key`, checked, with
    "environment" or "config file" (where it came from); (None, None) for none."""
    for variable in names:
        token = check_token(environ.get(variable) or "", variable)
        if token:
            return token, "environment"
    value = table.get(key)
    token = check_token(value, _in_file(f"backends.{name}.{key}")) if value else None
    return (token, "config file") if token else (None, None)


def backend_name(flag: str | None, config: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """Which backend to use: the flag's, WAI_BACKEND, the config's `backend`, or cloudflare."""
    return _first(flag, environ.get("WAI_BACKEND"), config.get("backend")) or DEFAULT_BACKEND


def known_backends(config: Mapping[str, Any]) -> set[str]:
    """The names usable with -b: cloudflare, the ready-made local ones, the config's tables."""
    return {DEFAULT_BACKEND, *LOCAL_PRESETS, *config.get("backends", {})}


# --- roles -------------------------------------------------------------------------------------


def configured_roles(config: Mapping[str, Any]) -> dict[str, Role]:
    """The config's roles by name, in the file's order (the config was validated when read)."""
    return {
        name: Role(
            name=name,
            system=table["system"],
            model=table.get("model"),
            backend=table.get("backend"),
            params={key: table[key] for key in PARAMS if key in table},
        )
        for name, table in config.get("roles", {}).items()
    }


def find_role(config: Mapping[str, Any], name: str) -> Role:
    """The role `name`; a UsageError naming the known ones when there is no such role, a
    ConfigError when the backend it names does not exist."""
    roles = configured_roles(config)
    if name in roles:
        role = roles[name]
        if role.backend is not None and role.backend not in known_backends(config):
            known = ", ".join(sorted(known_backends(config)))
            raise ConfigError(
                f"{_in_file(f'roles.{name}.backend')}: unknown backend {role.backend!r} "
                f"(known: {known})",
                hint=f"add a [backends.{role.backend}] table, or change the role's backend",
            )
        return role
    if roles:
        hint = f"the roles are {', '.join(roles)}"
    else:
        hint = f'no roles yet: add one with `wai config set roles.{name}.system "You are ..."`'
    raise UsageError(f"unknown role {name!r}", hint=hint)


def role_model_source(name: str) -> str:
    """Where a role's model came from, as errors about that model name it."""
    return _in_file(f"roles.{name}.model")


def with_role(overrides: Overrides, config: Mapping[str, Any]) -> Overrides:
    """`overrides` with its role's choices filled in: the command line's own flags win over the
    role, and the role wins over the environment, the config's defaults and a session's."""
    if overrides.role is None:
        return overrides
    role = find_role(config, overrides.role)
    model_from_role = not overrides.model and role.model is not None
    return overrides._replace(
        system=overrides.system if overrides.system is not None else role.system,
        model=role.model if model_from_role else overrides.model,
        model_source=role_model_source(role.name) if model_from_role else overrides.model_source,
        backend=overrides.backend or role.backend,
        params={**role.params, **overrides.params},
    )


def resolve(
    overrides: Overrides, config: Mapping[str, Any], environ: Mapping[str, str]
) -> Settings:
    from_flag = overrides.backend is not None
    name = backend_name(overrides.backend, config, environ)
    backend = _resolve_backend(name, from_flag, overrides, config, environ)

    # The config's [params] holds known parameters only; other body fields are chosen per
    # command line or session.
    file_params = check_params(dict(config.get("params", {})), source="params")
    merged = {**file_params, **check_params(dict(overrides.params), options=True)}
    max_tokens_given = "max_tokens" in merged
    merged.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
    params = {name: merged[name] for name in PARAMS if name in merged}  # a stable order
    params.update((name, value) for name, value in merged.items() if name not in PARAMS)
    if REASONING_EFFORT in params:
        _check_reasoning_effort(backend)

    return Settings(
        backend=backend,
        system=overrides.system if overrides.system is not None else config.get("system"),
        params=params,
        max_tokens_given=max_tokens_given,
        reasoning=overrides.reasoning or config.get("reasoning", "auto"),
        connect_timeout=float(config.get("connect_timeout", 10.0)),
        read_timeout=float(config.get("read_timeout", 120.0)),
        retries=int(config.get("retries", 3)),
        retry_backoff=float(config.get("retry_backoff", 0.5)),
    )


def _check_reasoning_effort(backend: BackendSettings) -> None:
    """Refuse a reasoning effort for a Workers AI model known to take the 2024 native body, which
    has no such field. An OpenAI-compatible server, a Chat Completions model and a model wai
    does not know get it: the user knows best."""
    known = KNOWN_MODELS.get(backend.model)
    if backend.type == "cloudflare" and known is not None and not known.chat_completions:
        raise UsageError(
            f"{backend.model} takes no reasoning effort",
            hint="it is for models that take Chat Completions bodies, such as "
            "@cf/openai/gpt-oss-120b or @cf/qwen/qwen3-30b-a3b-fp8",
        )


def _resolve_backend(
    name: str,
    from_flag: bool,
    overrides: Overrides,
    config: Mapping[str, Any],
    environ: Mapping[str, str],
) -> BackendSettings:
    table = config.get("backends", {}).get(name)
    if name not in known_backends(config):
        known = ", ".join(sorted(known_backends(config)))
        message = f"unknown backend {name!r} (known: {known})"
        hint = f"add a [backends.{name}] table with `wai config set backends.{name}.type ...`"
        raise (UsageError if from_flag else ConfigError)(message, hint=hint)
    if name in LOCAL_PRESETS:
        table = {"type": "openai", "base_url": LOCAL_PRESETS[name], **(table or {})}
    table = table or {}
    kind = table.get("type", DEFAULT_BACKEND if name == DEFAULT_BACKEND else None)
    if kind is None:
        raise ConfigError(
            f"backends.{name}.type is missing",
            hint=f'set it with `wai config set backends.{name}.type "openai"` (or "cloudflare")',
        )
    # The top-level `model` belongs to the default backend; Cloudflare has a default of its own,
    # an OpenAI-compatible server is asked for its first model ("").
    is_default = name == config.get("backend", DEFAULT_BACKEND)
    model = (
        _first(
            overrides.model,
            environ.get("WAI_MODEL"),
            table.get("model"),
            config.get("model") if is_default else None,
            DEFAULT_MODEL if kind == "cloudflare" else None,
        )
        or ""
    )
    context_window = table.get("context_window") or model_facts(model).context_window
    if kind != "cloudflare":
        # The model goes in the body, so any id (often a file's path) is the server's to judge.
        api_key, token_source = _token((), environ, table, "api_key", name)
        base_url = table.get("base_url", "")
        _check_url(base_url, _in_file(f"backends.{name}.base_url"))
        return BackendSettings(
            name=name,
            type=kind,
            model=model,
            base_url=base_url,
            api_token=api_key,
            token_source=token_source,
            context_window=context_window,
        )

    _check_model(model, name, overrides, config, environ, table, is_default)
    token, token_source = _token(
        ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"), environ, table, "api_token", name
    )
    base_url, base_source = _sourced(name, "base_url", ("CLOUDFLARE_API_BASE_URL",), environ, table)
    _check_url(base_url or "", base_source)
    account_id, account_source = _sourced(
        name, "account_id", ("CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID"), environ, table
    )
    if account_id:
        check_account_id(account_id, account_source)
    gateway = table.get("gateway")
    if gateway:
        problem = model_id_problem(gateway)
        if problem is not None or "/" in gateway:
            raise ConfigError(
                f"{_in_file(f'backends.{name}.gateway')} is not a gateway name",
                hint="a gateway name is one word of the gateway's URL, without /, ?, # or %",
            )
    gateway_base_url = table.get("gateway_base_url", GATEWAY_BASE)
    _check_url(gateway_base_url, _in_file(f"backends.{name}.gateway_base_url"))
    return BackendSettings(
        name=name,
        type=kind,
        model=model,
        base_url=base_url or CLOUDFLARE_API_BASE,
        account_id=account_id,
        api_token=token,
        token_source=token_source,
        gateway=gateway,
        gateway_base_url=gateway_base_url,
        context_window=context_window,
    )


def _sourced(
    name: str,
    key: str,
    variables: tuple[str, ...],
    environ: Mapping[str, str],
    table: Mapping[str, Any],
) -> tuple[str | None, str]:
    """The first non-empty of the variables, else the table's `key`, and where it came from."""
    for variable in variables:
        if environ.get(variable):
            return environ[variable], variable
    return table.get(key), _in_file(f"backends.{name}.{key}")


def _check_model(
    model: str,
    name: str,
    overrides: Overrides,
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    table: Mapping[str, Any],
    is_default: bool,
) -> None:
    """A Workers AI model id goes into the URL's path: refuse one that would change the path
    (`..`) or end it (`?`, `#`), naming where it came from."""
    if overrides.model:
        if overrides.model_source:
            check_model_id(model, overrides.model_source)
        else:
            check_model_id(model, "-m", flag=True)
    elif environ.get("WAI_MODEL"):
        check_model_id(model, "WAI_MODEL")
    elif table.get("model"):
        check_model_id(model, _in_file(f"backends.{name}.model"))
    elif is_default and config.get("model"):
        check_model_id(model, _in_file("model"))
