"""The database of reader feedback and of the authors' insights: SQLite in the instance
folder by default, PostgreSQL for replicas (DATABASE_URL), set up for each (connections,
errors, write-ahead log), and migrated by Alembic (app/migrations/).

Help pages never wait for it: only a feedback post does. What readers do (page views,
searches, dead links) is counted in memory and written in batches (app/readers/counting.py).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import click
from flask import Flask
from sqlalchemy import (
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable

from app.config import PROJECT_ROOT
from app.readers.models import db

MIGRATIONS = str(PROJECT_ROOT / "app" / "migrations")


def database_command(command: Callable) -> Callable:
    """A CLI command that reads or writes the database: one line, not a traceback, for cron
    when the database cannot be reached or has not been migrated."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        except ServiceUnavailable as exc:  # what the insights' queries answer for a failed read
            detail = exc.description.rstrip(".")
        raise click.ClickException(
            f"the database (DATABASE_URL) cannot be used: {detail}; is it up, and migrated (flask db upgrade)?"
        )

    return wrapped


# A write that waits longer than this for SQLite's lock fails (the reader gets a 503 page).
SQLITE_BUSY_MS = 2000


@event.listens_for(Engine, "handle_error")
def _reconnect_when_sqlite_was_read_only(context) -> None:
    """A connection SQLite opened while its file was read-only stays read-only after the file
    becomes writable: such an error drops the pool, and the next write opens it afresh."""
    if (
        context.engine is not None
        and context.engine.dialect.name == "sqlite"
        and "readonly database" in str(context.original_exception)
    ):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = True


@event.listens_for(Engine, "connect")
def _sqlite_settings(connection, _record) -> None:
    """SQLite: write-ahead log (readers never wait for a writer), and a bounded wait for the lock."""
    if type(connection).__module__.startswith("sqlite3"):
        cursor = connection.cursor()
        # The wait first: even switching to WAL needs the lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        # A committed vote survives the process crashing; a power cut may lose the last moment's
        # votes, never the file (SQLite's advice for WAL). FULL, a disk sync per commit, cost
        # a fifth of the posts per second (measured: 905-1,117 against 1,159-1,298).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def dialect_insert(dialect: str):
    """The INSERT with ON CONFLICT of `dialect`: SQLite's and PostgreSQL's take the same calls."""
    return {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]


def database_url(config: dict, instance_path: str) -> str:
    """DATABASE_URL, or an SQLite file in the instance folder."""
    return config["DATABASE_URL"] or f"sqlite:///{instance_path}/feedback.db"


def init_app(app: Flask) -> None:
    """Bind the database to the app; and its migrations when run by the `flask` command."""
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config, app.instance_path)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
    # Statements are logged with an error, their values never: they hold readers' comments.
    options = {"hide_parameters": True}
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        # A database that is down costs a feedback post a few seconds at most, never a page.
        options.update(
            {
                "pool_pre_ping": True,
                "pool_size": 4,
                "max_overflow": 4,
                "pool_timeout": 3,
                "connect_args": {"connect_timeout": 3},
            }
        )
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)
    db.init_app(app)
    if click.get_current_context(silent=True) is not None:  # `flask db upgrade`, `flask db migrate`, …
        bind_migrations(app)


def bind_migrations(app: Flask) -> None:
    """Flask-Migrate on the app. Only where migrations run (the launcher, the `flask` command):
    it imports Alembic, 11 MB that a serving worker never needs."""
    from flask_migrate import Migrate

    if "migrate" not in app.extensions:
        Migrate(app, db, directory=MIGRATIONS)


def upgrade_database(app: Flask) -> None:
    """Apply every migration the database lacks (what the launcher does before serving)."""
    from flask_migrate import upgrade

    bind_migrations(app)
    with app.app_context():
        upgrade(directory=MIGRATIONS)


def database_app(settings: dict) -> Flask:
    """An app with the database and nothing else, for the launcher: migrating and pruning
    need no help pages loaded."""
    app = Flask("app")  # the same instance folder as the help centre's app
    app.config.update(settings)
    init_app(app)
    return app
