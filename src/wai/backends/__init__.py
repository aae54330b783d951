"""Backends: one module per protocol behind the small interface in `base`."""

from __future__ import annotations

from wai.backends.base import Backend
from wai.backends.cloudflare import CloudflareBackend
from wai.backends.http import RetryPolicy
from wai.backends.openai import OpenAIBackend
from wai.errors import ConfigError
from wai.settings import Settings


def make_backend(settings: Settings) -> Backend:
    policy = RetryPolicy(
        retries=settings.retries,
        backoff=settings.retry_backoff,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    backend = settings.backend
    if backend.type == "cloudflare":
        return CloudflareBackend(backend, policy)
    if backend.type == "openai":
        return OpenAIBackend(backend, policy)
    raise ConfigError(f"backend {backend.name!r} has an unknown type {backend.type!r}")
