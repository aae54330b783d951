"""Resolve flag > environment > config file > built-in default, once, into a frozen Settings."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from wai.errors import ConfigError, UsageError
from wai.settings.models import KNOWN_MODELS, SEED_MODEL, model_facts
from wai.settings.params import DEFAULT_MAX_TOKENS, PARAMS, REASONING_EFFORT, check_params

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


def backend_name(flag: str | None, config: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """Which backend to use: the flag's, WAI_BACKEND, the config's `backend`, or cloudflare."""
    return _first(flag, environ.get("WAI_BACKEND"), config.get("backend")) or DEFAULT_BACKEND


def known_backends(config: Mapping[str, Any]) -> set[str]:
    """The names usable with -b: cloudflare, the ready-made local ones, the config's tables."""
    return {DEFAULT_BACKEND, *LOCAL_PRESETS, *config.get("backends", {})}


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
        api_key = table.get("api_key")
        return BackendSettings(
            name=name,
            type=kind,
            model=model,
            base_url=table.get("base_url", ""),
            api_token=api_key,
            token_source="config file" if api_key else None,
            context_window=context_window,
        )

    environ_token = _first(environ.get("CLOUDFLARE_API_TOKEN"), environ.get("CF_API_TOKEN"))
    file_token = table.get("api_token")
    return BackendSettings(
        name=name,
        type=kind,
        model=model,
        base_url=_first(environ.get("CLOUDFLARE_API_BASE_URL"), table.get("base_url"))
        or CLOUDFLARE_API_BASE,
        account_id=_first(
            environ.get("CLOUDFLARE_ACCOUNT_ID"),
            environ.get("CF_ACCOUNT_ID"),
            table.get("account_id"),
        ),
        api_token=environ_token or file_token,
        token_source="environment" if environ_token else "config file" if file_token else None,
        gateway=table.get("gateway"),
        gateway_base_url=table.get("gateway_base_url", GATEWAY_BASE),
        context_window=context_window,
    )
