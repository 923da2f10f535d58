"""Who a reader is, for one day: a hash of the day's random salt, keyed by READER_KEY, the
client's network and what it did. Salts are kept in the database, shared by every worker and
replica, and deleted once their day is over, so that no hash can be tied to an address
afterwards. The key is not: without it, a copy of the database (a backup, a replica) cannot
test an address against the day's hashes."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import threading
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.config import ConfigError
from app.readers.database import dialect_insert
from app.readers.models import DailySalt, db

KEY_SUFFIX = ".reader-key"
MIN_KEY_CHARS = 32  # as READER_KEY (app/config.py)


def stored_salt(engine: Engine, day: date) -> bytes:
    """The salt of `day`'s reader hashes, made by whichever worker or replica needs it first."""
    insert = dialect_insert(engine.dialect.name)(DailySalt).values(day=day, salt=os.urandom(32))
    with engine.begin() as connection:
        connection.execute(insert.on_conflict_do_nothing())
    with engine.connect() as connection:
        return connection.execute(select(DailySalt.salt).where(DailySalt.day == day)).scalar_one()


class DailySalts:
    """The salt of each day's reader hashes, read from the database once per day and process
    (votes and searches share it) and keyed by `key`; only the latest day's is kept."""

    def __init__(self, engine: Engine, key: str):
        self.engine = engine
        self._key = key.encode()
        self._memo: dict[date, bytes] = {}
        self._lock = threading.Lock()

    def of(self, day: date) -> bytes:
        salt = self._memo.get(day)
        if salt is None:
            salt = hmac.digest(self._key, stored_salt(self.engine, day), "sha256")
            with self._lock:
                self._memo.clear()
                self._memo[day] = salt
        return salt


def reader_hash(salt: bytes, *parts: str) -> str:
    """Who did something, for one day: a hash of the day's salt and `parts` (the client's
    network and what it did), which names nobody once the salt is deleted."""
    return hashlib.sha256(salt + "\0".join(parts).encode()).hexdigest()


def daily_salts(app: Flask) -> DailySalts:
    """The app's salts of reader hashes, shared by feedback and counting (made by whichever asks first)."""
    if "daily_salts" not in app.extensions:
        with app.app_context():
            app.extensions["daily_salts"] = DailySalts(db.engine, reader_key(app.config["READER_KEY"], db.engine))
    return app.extensions["daily_salts"]


def reader_key(setting: str, engine: Engine) -> str:
    """READER_KEY, or else the key in a file beside the SQLite file (`<file>.reader-key`,
    its owner's only), made by the first process that needs it: every worker and server on
    that file, before a restart and after, hashes a reader alike, and a copy of the database
    file alone tests no address. (PostgreSQL requires READER_KEY: app/config.py.) An
    in-memory database has a key of its own. ConfigError for a key file that is no secret."""
    database = engine.url.database
    if setting or engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return setting or secrets.token_hex(32)
    path = Path(database).with_name(Path(database).name + KEY_SUFFIX)
    try:
        if not path.exists() and not path.is_symlink():
            _make_key(path)
        found = path.lstat()
        key = path.read_text().strip() if stat.S_ISREG(found.st_mode) else ""
    except OSError as error:
        raise ConfigError(f"the reader key {path} cannot be made or read: {error}") from None
    if not stat.S_ISREG(found.st_mode) or found.st_mode & 0o077 or len(key) < MIN_KEY_CHARS:
        raise ConfigError(
            f"the reader key {path} must be a file of at least {MIN_KEY_CHARS} characters that only its "
            "owner may read (chmod 600), not a link: delete it to have a new one made, or set READER_KEY"
        )
    return key


def _make_key(path: Path) -> None:
    """A new key at `path`, written whole and on disk, then linked into place: a process never
    reads half a key, and of two that make one at once, the second keeps the first's."""
    made = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
            file.flush()
            os.fsync(file.fileno())
        os.link(made, path)
    except FileExistsError:
        pass
    finally:
        made.unlink(missing_ok=True)
