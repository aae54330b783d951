"""Where wai keeps its files: the config, data and cache directories (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path


def _directory(variable: str, kind: str) -> Path:
    """The directory `variable` names, else platformdirs' user directory of that kind (imported
    only then: a start with every variable set never loads it)."""
    override = os.environ.get(variable)
    if override:
        return Path(override)
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")("wai", appauthor=False))


def config_dir() -> Path:
    return _directory("WAI_CONFIG_DIR", "config")


def config_path() -> Path:
    return config_dir() / "config.toml"


def data_dir() -> Path:
    return _directory("WAI_DATA_DIR", "data")


def cache_dir() -> Path:
    """What wai may rebuild at any time (the model catalogue)."""
    return _directory("WAI_CACHE_DIR", "cache")
