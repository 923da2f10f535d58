"""Settings, each read from the environment with a default."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Config:
    """Defaults for create_app; every value may be overridden by the environment."""

    # Folder of Markdown help pages.
    DOCS_DIR = os.environ.get("DOCS_DIR", str(PROJECT_ROOT / "docs"))
    # flask-caching backend for rendered pages: SimpleCache (in memory) or RedisCache.
    CACHE_TYPE = os.environ.get("CACHE_TYPE", "SimpleCache")
    # Most rendered pages kept by SimpleCache before it evicts.
    CACHE_THRESHOLD = os.environ.get("CACHE_THRESHOLD", "1000")
    # Seconds a rendered page is kept; keys carry the file version, so 0 (forever) is safe.
    CACHE_DEFAULT_TIMEOUT = os.environ.get("CACHE_DEFAULT_TIMEOUT", "0")
    # Most pages the full-page response cache in each worker keeps, with their encodings.
    RESPONSE_CACHE_ENTRIES = os.environ.get("RESPONSE_CACHE_ENTRIES", "1000")
    CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", "redis://127.0.0.1:6379/0")
    # Categories shown first on the help index, in this order; others follow by name.
    CATEGORY_ORDER = ("Hjelpeseksjonen", "Terminologi")

CACHE_TYPES = frozenset({"SimpleCache", "RedisCache", "NullCache"})


class ConfigError(RuntimeError):
    """A setting with a bad value; the message names the setting and the value."""


def validate(config: dict) -> None:
    """Check and convert settings in place; raise ConfigError on the first bad one."""
    for name, minimum in (("CACHE_THRESHOLD", 1), ("CACHE_DEFAULT_TIMEOUT", 0), ("RESPONSE_CACHE_ENTRIES", 1)):
        config[name] = _whole_number(name, config[name], minimum)
    if config["CACHE_TYPE"] not in CACHE_TYPES:
        raise ConfigError(
            f"CACHE_TYPE={config['CACHE_TYPE']!r} is not one of {', '.join(sorted(CACHE_TYPES))}")
    docs = Path(config["DOCS_DIR"])
    if not docs.is_dir() or not os.access(docs, os.R_OK | os.X_OK):
        raise ConfigError(f"DOCS_DIR={str(docs)!r} is not a readable folder")


def _whole_number(name: str, value, minimum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if number < minimum:
        raise ConfigError(f"{name}={value!r} must be at least {minimum}")
    return number
