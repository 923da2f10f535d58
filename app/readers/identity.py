"""Who a reader is, for one day: a hash of the day's random salt, the client's network and
what it did. Salts are kept in the database, shared by every worker and replica, and
deleted once their day is over, so that no hash can be tied to an address afterwards."""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.readers.database import dialect_insert
from app.readers.models import DailySalt, db


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


def daily_salts(app: Flask) -> DailySalts:
    """The app's salts of reader hashes, shared by feedback and counting (made by whichever asks first)."""
    if "daily_salts" not in app.extensions:
        with app.app_context():
            app.extensions["daily_salts"] = DailySalts(db.engine)
    return app.extensions["daily_salts"]
