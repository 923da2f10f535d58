"""The database of reader feedback: SQLite in the instance folder by default, PostgreSQL for
replicas (DATABASE_URL); the schema is kept by Alembic migrations in app/migrations/.

Help pages never touch it: only a feedback post does.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Boolean, Date, DateTime, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from app.config import PROJECT_ROOT

MIGRATIONS = str(PROJECT_ROOT / "app" / "migrations")
# A write that waits longer than this for SQLite's lock fails (the reader gets a 503 page).
SQLITE_BUSY_MS = 2000

db = SQLAlchemy()


class Vote(db.Model):
    """One reader's answer to "Var denne siden nyttig?" for one page on one day.

    `reader` is a hash of the day's salt, the client's address and user agent and the page:
    it tells two readers apart for a day, and names nobody (the salt is deleted after its day).
    """

    __tablename__ = "feedback_votes"
    __table_args__ = (UniqueConstraint("day", "reader", name="one_vote_per_reader_page_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    reader: Mapped[str] = mapped_column(String(64))
    slug: Mapped[str] = mapped_column(String(100), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    helpful: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(String(200), default="")  # comma-separated REASONS codes
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)  # deleted after the retention period
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DailySalt(db.Model):
    """The random salt of one day's reader hashes, shared by every worker and replica; deleted
    once its day is over, so that no hash can be tied to an address afterwards."""

    __tablename__ = "feedback_salts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))


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


def database_url(config: dict, instance_path: str) -> str:
    """DATABASE_URL, or an SQLite file in the instance folder."""
    return config["DATABASE_URL"] or f"sqlite:///{instance_path}/feedback.db"


def init_app(app: Flask) -> None:
    """Bind the database to the app; and its migrations when run by the `flask` command."""
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config, app.instance_path)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        # A database that is down costs a feedback post a few seconds at most, never a page.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {
            "pool_pre_ping": True, "pool_size": 4, "max_overflow": 4, "pool_timeout": 3,
            "connect_args": {"connect_timeout": 3}})
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
