"""Fixtures: an app built from a temporary docs folder, its test client and CLI runner."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import PROJECT

from app import create_app
from app.observability.logs import configure_logging
from app.observability.recorder import RECORDER

READER_KEY = "reader-key-of-the-tests-0123456789"


@pytest.fixture(autouse=True)
def files_settle_at_once(monkeypatch):
    """Tests write a file and read it at once; only the tests of these delays wait for them."""
    from app.caching import responses as pagecache
    from app.content import store as documents

    monkeypatch.setattr(documents, "SETTLE_SECONDS", 0)
    monkeypatch.setattr(documents, "UNFINISHED_SETTLE_SECONDS", 0)
    monkeypatch.setattr(pagecache, "RECHECK_SECONDS", 0)


@pytest.fixture(autouse=True)
def failed_logins_answered_at_once(monkeypatch):
    """A failed login keeps its turn for a quarter of a second; only the test of that waits."""
    from app.readers import authors as author_auth

    monkeypatch.setattr(author_auth, "FAILED_CHECK_SECONDS", 0)


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A copy of the bundled docs in a temporary folder, free to edit."""
    folder = tmp_path / "docs"
    shutil.copytree(PROJECT / "docs", folder)
    return folder


@pytest.fixture(autouse=True)
def process_logging():
    """What wsgi.py sets up for a worker: JSON log lines and access lines (tests may change it)."""
    configure_logging("info", "json")
    yield
    RECORDER.flush()  # this test's access lines go to its own captured output


@pytest.fixture
def make_app(docs_dir: Path):
    """Build an app from the temporary docs folder with the given settings.

    Rate limits are off unless a test turns them on (test_limits.py): elsewhere they would
    only get in the way. Apps on PostgreSQL share a reader key, as replicas must.
    """

    def make(**overrides):
        if overrides.get("DATABASE_URL", "").startswith("postgresql"):
            overrides = {"READER_KEY": READER_KEY, **overrides}
        return create_app(
            {
                "TESTING": True,
                "DOCS_DIR": str(docs_dir),
                "RATELIMIT_ENABLED": False,
                "DATABASE_URL": f"sqlite:///{docs_dir.parent}/feedback.db",
                **overrides,
            }
        )

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture(scope="module")
def bundled_client(tmp_path_factory):
    """A client of one app over the bundled docs, shared by a module's tests that only read
    (many hostile requests): they must not write files or change settings."""
    app = create_app(
        {
            "TESTING": True,
            "DOCS_DIR": str(PROJECT / "docs"),
            "RATELIMIT_ENABLED": False,
            "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('bundled')}/feedback.db",
        }
    )
    return app.test_client()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server for this test, stopped afterwards."""
    from bench.servers import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


# A real PostgreSQL, one server per test module that needs it.


@pytest.fixture(scope="module")
def postgres():
    from bench.servers import PostgresServer

    server = PostgresServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def pg_url(postgres, request):
    """A fresh database on the module's PostgreSQL server for one test."""
    import psycopg

    name = "t_" + re.sub(r"\W", "_", request.node.name)[:50].lower()
    with psycopg.connect(
        f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres", autocommit=True
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return postgres.url(name)
