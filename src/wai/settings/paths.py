"""Where wai keeps its files: the config, data and cache directories (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path


def config_dir() -> Path:
    override = os.environ.get("WAI_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("wai", appauthor=False))


def config_path() -> Path:
    return config_dir() / "config.toml"


def data_dir() -> Path:
    override = os.environ.get("WAI_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("wai", appauthor=False))


def cache_dir() -> Path:
    """What wai may rebuild at any time (the model catalogue): WAI_CACHE_DIR, else platformdirs'."""
    override = os.environ.get("WAI_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("wai", appauthor=False))
