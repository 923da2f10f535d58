"""The database of reader feedback and of the authors' insights: SQLite in the instance
folder by default, PostgreSQL for replicas (DATABASE_URL); the schema is kept by Alembic
migrations in app/migrations/.

Help pages never wait for it: only a feedback post does. What readers do (page views,
searches, dead links) is counted in memory and written in batches (app/tally.py).
"""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from app.config import PROJECT_ROOT

MIGRATIONS = str(PROJECT_ROOT / "app" / "migrations")
# A write that waits longer than this for SQLite's lock fails (the reader gets a 503 page).
SQLITE_BUSY_MS = 2000

db = SQLAlchemy()


class Vote(db.Model):
    """One reader's answer to "Var denne siden nyttig?" for one page on one day.

    `reader` is a hash of the day's salt, the client's network, the page and one of
    FEEDBACK_VOTES_PER_ADDRESS seats (chosen by the user agent): it tells readers behind one
    address apart that far and no further, and names nobody once the salt is deleted.
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Comment(db.Model):
    """What a reader wrote about a page: kept apart from the votes, so that no later post
    (another reader's behind the same address, say) replaces it; deleted after
    FEEDBACK_RETENTION_DAYS. Nothing in it says who wrote it."""

    __tablename__ = "feedback_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    slug: Mapped[str] = mapped_column(String(100), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DailySalt(db.Model):
    """The random salt of one day's reader hashes, shared by every worker and replica; deleted
    once its day is over, so that no hash can be tied to an address afterwards."""

    __tablename__ = "feedback_salts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))


class PageViews(db.Model):
    """How often a help page was shown in one language on one day."""

    __tablename__ = "insights_page_views"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    views: Mapped[int] = mapped_column(Integer)


class SearchCount(db.Model):
    """One query (normalized, personal data redacted) in one language on one day.

    `readers` counts the different readers who sent it that day (rows of SearchReader);
    authors see a query only from INSIGHTS_MIN_CLIENTS of them. Once its day is over, a
    query below that is folded into the day's row with the empty query, and its readers
    are deleted.
    """

    __tablename__ = "insights_searches"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    query: Mapped[str] = mapped_column(String(200), primary_key=True)  # "": the day's folded rare queries
    searches: Mapped[int] = mapped_column(Integer)
    no_results: Mapped[int] = mapped_column(Integer)  # how many of them found nothing
    results: Mapped[int] = mapped_column(Integer)  # what the latest one found
    corrected: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the latest one's correction
    readers: Mapped[int] = mapped_column(Integer)


class SearchReader(db.Model):
    """One reader who sent one query on one day: a hash of the day's salt, the client and the
    query, which names nobody once the salt is gone (and is itself deleted after its day)."""

    __tablename__ = "insights_search_readers"
    __table_args__ = (Index("ix_insights_search_readers_query", "day", "lang", "query"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reader: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    query: Mapped[str] = mapped_column(String(200))


class DeadLink(db.Model):
    """Requests for a help page that does not exist, per day and referring host ("" for none),
    with the first page the 404 page suggested ("" for none). At most
    INSIGHTS_DEAD_LINKS_PER_DAY slugs a day, and MAX_REFERRERS hosts a slug; the requests
    beyond them are counted under the slug OTHER_SLUGS and the host OTHER_HOSTS."""

    __tablename__ = "insights_dead_links"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    referrer: Mapped[str] = mapped_column(String(253), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
    suggestion: Mapped[str] = mapped_column(String(100))


# What stands for the requests beyond a day's limit of dead links: no slug or host can be it.
OTHER_SLUGS = "*"
OTHER_HOSTS = "*"


@event.listens_for(Engine, "handle_error")
def _reconnect_when_sqlite_was_read_only(context) -> None:
    """A connection SQLite opened while its file was read-only stays read-only after the file
    becomes writable: such an error drops the pool, and the next write opens it afresh."""
    if context.engine is not None and context.engine.dialect.name == "sqlite" \
            and "readonly database" in str(context.original_exception):
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


def stored_salt(engine: Engine, day: date) -> bytes:
    """The salt of `day`'s reader hashes, made by whichever worker or replica needs it first."""
    insert = dialect_insert(engine.dialect.name)(DailySalt).values(day=day, salt=os.urandom(32))
    with engine.begin() as connection:
        connection.execute(insert.on_conflict_do_nothing())
    with engine.connect() as connection:
        return connection.execute(select(DailySalt.salt).where(DailySalt.day == day)).scalar_one()


class DailySalts:
    """The salt of each day's reader hashes, read from the database once per day and process
    (votes and searches share it); only the latest day's is kept."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._memo: dict[date, bytes] = {}
        self._lock = threading.Lock()

    def of(self, day: date) -> bytes:
        salt = self._memo.get(day)
        if salt is None:
            salt = stored_salt(self.engine, day)
            with self._lock:
                self._memo.clear()
                self._memo[day] = salt
        return salt


def reader_hash(salt: bytes, *parts: str) -> str:
    """Who did something, for one day: a hash of the day's salt and `parts` (the client's
    network and what it did), which names nobody once the salt is deleted."""
    return hashlib.sha256(salt + "\0".join(parts).encode()).hexdigest()


def write_lock_file(engine: Engine) -> Path | None:
    """The file every process writing to an SQLite database takes turns on (app/group_commit.py);
    None for other databases, which let several write at once."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    return Path(f"{database}.write-lock") if database and database != ":memory:" else None


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
        options.update({"pool_pre_ping": True, "pool_size": 4, "max_overflow": 4, "pool_timeout": 3,
                        "connect_args": {"connect_timeout": 3}})
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)
    db.init_app(app)
    with app.app_context():
        app.extensions["daily_salts"] = DailySalts(db.engine)
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
