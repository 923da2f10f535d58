"""Settings: defaults, the environment and overrides, and refusal of bad values."""

from __future__ import annotations

import logging

import pytest

from app import create_app
from app.config import ConfigError


def test_settings_come_from_the_environment_when_the_app_is_made(docs_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCS_DIR", str(docs_dir))
    monkeypatch.setenv("CACHE_THRESHOLD", "42")
    first = create_app()
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("DOCS_DIR", str(other))
    monkeypatch.delenv("CACHE_THRESHOLD")
    second = create_app()  # one process, two environments, two apps
    assert (first.config["DOCS_DIR"], first.config["CACHE_THRESHOLD"]) == (str(docs_dir), 42)
    assert (second.config["DOCS_DIR"], second.config["CACHE_THRESHOLD"]) == (str(other), 1000)
    assert len(first.extensions["library"].stores["nb"]) == 6 and len(second.extensions["library"].stores["nb"]) == 0


def test_overrides_win_over_the_environment(docs_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCS_DIR", str(docs_dir))
    monkeypatch.setenv("CACHE_THRESHOLD", "42")
    app = create_app({"DOCS_DIR": str(tmp_path), "CACHE_THRESHOLD": "7"})
    assert app.config["DOCS_DIR"] == str(tmp_path)
    assert app.config["CACHE_THRESHOLD"] == 7


def test_making_an_app_leaves_the_process_logging_alone(make_app):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    make_app(LOG_LEVEL="debug", LOG_FORMAT="text")
    assert root.handlers == handlers and root.level == level


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"CACHE_TYPE": "MemcachedCache"}, "CACHE_TYPE"),
        ({"CACHE_THRESHOLD": "many"}, "CACHE_THRESHOLD"),
        ({"CACHE_DEFAULT_TIMEOUT": "-1"}, "CACHE_DEFAULT_TIMEOUT"),
        ({"RESPONSE_CACHE_ENTRIES": "0"}, "RESPONSE_CACHE_ENTRIES"),
        ({"DOCS_DIR": "/no/such/folder"}, "DOCS_DIR"),
        ({"STRICT_START": "sometimes"}, "STRICT_START"),
        # Each of these passed the check and failed later: every worker, a prune, every write.
        ({"FEEDBACK_RATE_LIMIT": "0/minute"}, "FEEDBACK_RATE_LIMIT='0/minute' is not a rate limit"),
        ({"SEARCH_RATE_LIMIT": "30/minute;0/hour"}, "SEARCH_RATE_LIMIT="),
        ({"INSIGHTS_USERS": f"a:scrypt:1:8:1$salt${'0' * 64}"}, "INSIGHTS_USERS has 'a' without a werkzeug"),
        ({"INSIGHTS_USERS": f"a:pbkdf2:sha256:0$salt${'0' * 64}"}, "INSIGHTS_USERS has 'a'"),
        ({"INSIGHTS_USERS": f"a:scrypt:16384:0:1$salt${'0' * 64}"}, "INSIGHTS_USERS has 'a'"),
        ({"FEEDBACK_RETENTION_DAYS": "1000000"}, "FEEDBACK_RETENTION_DAYS=1000000 is more than 36500 days"),
        ({"INSIGHTS_RETENTION_DAYS": "36501"}, "INSIGHTS_RETENTION_DAYS="),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "DATABASE_URL must name a file"),
        ({"DATABASE_URL": "sqlite:///"}, "DATABASE_URL must name a file"),
        ({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}, "CACHE_SIGNING_KEY must be set"),
    ],
)
def test_bad_settings_are_refused(make_app, overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_app(**overrides)


@pytest.mark.parametrize(
    "setting", ["javascript", "https", "data", "intent", "file", "a", "avatarify!", "avatarify:", "1app", "x" * 40]
)
def test_app_url_schemes_are_the_apps_own_only(make_app, setting):
    with pytest.raises(ConfigError, match="APP_URL_SCHEMES"):
        make_app(APP_URL_SCHEMES=f"avatarify {setting}")


def test_app_url_schemes_are_read_in_lower_case_and_change_every_rendered_pages_key(make_app):
    plain, app_links = make_app(), make_app(APP_URL_SCHEMES="Avatarify  other-app")
    assert plain.config["APP_URL_SCHEMES"] == frozenset()
    assert app_links.config["APP_URL_SCHEMES"] == {"avatarify", "other-app"}
    assert plain.extensions["layout_version"] != app_links.extensions["layout_version"]
