"""Settings: defaults, the environment and overrides, and refusal of bad values."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app import create_app
from app.config import ConfigError
from conftest import PROJECT


def run_wsgi(env: dict) -> subprocess.CompletedProcess:
    """Import wsgi.py in a fresh interpreter with `env` added to the environment."""
    code = "from wsgi import app; print(app.config['DOCS_DIR'], app.config['CACHE_THRESHOLD'])"
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)


def test_settings_come_from_the_environment(docs_dir):
    result = run_wsgi({"DOCS_DIR": str(docs_dir), "CACHE_THRESHOLD": "42"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(docs_dir), "42"]


def test_overrides_win_over_the_environment(docs_dir, tmp_path):
    app = create_app({"DOCS_DIR": str(tmp_path), "CACHE_THRESHOLD": "7"})
    assert app.config["DOCS_DIR"] == str(tmp_path)
    assert app.config["CACHE_THRESHOLD"] == 7


@pytest.mark.parametrize("overrides, message", [
    ({"CACHE_TYPE": "MemcachedCache"}, "CACHE_TYPE"),
    ({"CACHE_THRESHOLD": "many"}, "CACHE_THRESHOLD"),
    ({"CACHE_DEFAULT_TIMEOUT": "-1"}, "CACHE_DEFAULT_TIMEOUT"),
    ({"RESPONSE_CACHE_ENTRIES": "0"}, "RESPONSE_CACHE_ENTRIES"),
    ({"DOCS_DIR": "/no/such/folder"}, "DOCS_DIR"),
])
def test_bad_settings_are_refused(docs_dir, overrides, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"DOCS_DIR": str(docs_dir), **overrides})
