"""Fixtures: an app built from a temporary docs folder, its test client and CLI runner."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from app import create_app
from app.observability.logs import configure_logging
from app.observability.recorder import RECORDER

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_PAGE = FIXTURES / "seed-what-is-ip-adapter.md"
# The shared attack corpus lives beside the project checkout (CI has it); it is read, never copied.
CORPUS = Path(os.environ.get("HELP_CORPUS_DIR", PROJECT.parent / "shared" / "corpus"))


def corpus_payloads(name: str) -> list:
    """Payloads from one corpus file as pytest params, or one param that skips with the reason."""
    path = CORPUS / name
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"attack corpus not found at {path}"))]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    return [pytest.param(row["payload"], id=f"{row['source']}#{i}") for i, row in enumerate(rows)]


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
    only get in the way.
    """
    def make(**overrides):
        return create_app({"TESTING": True, "DOCS_DIR": str(docs_dir), "RATELIMIT_ENABLED": False,
                           "DATABASE_URL": f"sqlite:///{docs_dir.parent}/feedback.db", **overrides})
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture(scope="module")
def bundled_client():
    """A client of one app over the bundled docs, shared by a module's tests that only read
    (many hostile requests): they must not write files or change settings."""
    app = create_app({"TESTING": True, "DOCS_DIR": str(PROJECT / "docs"), "RATELIMIT_ENABLED": False,
                      "DATABASE_URL": "sqlite:///:memory:"})
    return app.test_client()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def write(folder: Path, slug: str, text: str) -> Path:
    """Write a document and give it a fresh mtime so the store sees the change."""
    path = folder / f"{slug}.md"
    old_mtime_ns = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    mtime_ns = max(path.stat().st_mtime_ns, old_mtime_ns + 1_000_000)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    time.sleep(max(0.0, mtime_ns / 1e9 - time.time()))  # never leave a file dated in the future
    return path


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server for this test, stopped afterwards."""
    from servers import RedisServer
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


# A real PostgreSQL, one server per test module that needs it.

@pytest.fixture(scope="module")
def postgres():
    from servers import PostgresServer
    server = PostgresServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def pg_url(postgres, request):
    """A fresh database on the module's PostgreSQL server for one test."""
    import psycopg
    name = "t_" + re.sub(r"\W", "_", request.node.name)[:50].lower()
    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres",
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return postgres.url(name)
