"""Committing votes together: a worker's feedback posts share transactions (group commit).

SQLite lets one process write at a time, and each commit waits for the disk. Posts that
each committed alone reached 574 per second with a p99 of a second (threads queued on the
lock, then slept in SQLite's back-off). Here each worker has one writer thread: it takes
every vote waiting, writes them in one transaction, and then wakes their requests. A
request still answers only after its vote is committed. With SQLite the writers of the
worker processes also take turns on a lock file (`flock`): the kernel wakes the next one
when the lock is free, where SQLite's own wait sleeps up to 100 ms at a time.
"""

from __future__ import annotations

import fcntl
import logging
import queue
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

# Votes waiting in one worker at most; past it a post is turned away at once (503).
MAX_WAITING = 1000
# Most votes in one transaction.
MAX_BATCH = 200


class NotSaved(Exception):
    """The vote was not committed: the database is down, locked or too slow."""


@dataclass
class _Waiting:
    values: dict
    done: threading.Event = field(default_factory=threading.Event)
    saved: bool = False


class VoteWriter:
    """One writer thread for an engine, started by the first vote it is given."""

    def __init__(self, engine: Engine, statement, lock_file: Path | None = None):
        self.engine = engine
        self.statement = statement
        self.lock_file = lock_file  # taken around each transaction, by every process writing
        self._queue: queue.Queue[_Waiting] = queue.Queue(maxsize=MAX_WAITING)
        self._started = False
        self._lock = threading.Lock()

    def save(self, values: dict, timeout: float) -> None:
        """Commit one vote with others waiting; NotSaved if it is not committed within `timeout`."""
        waiting = _Waiting(values)
        try:
            self._queue.put_nowait(waiting)
        except queue.Full:
            raise NotSaved("too many votes waiting") from None
        self._start()
        if not waiting.done.wait(timeout) or not waiting.saved:
            raise NotSaved("not committed in time")

    def _start(self) -> None:
        if not self._started:
            with self._lock:
                if not self._started:
                    threading.Thread(target=self._write_forever, name="vote-writer", daemon=True).start()
                    self._started = True

    def _write_forever(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            saved = self._write(batch)
            for waiting in batch:
                waiting.saved = saved
                waiting.done.set()

    def _write(self, batch: list[_Waiting]) -> bool:
        """One transaction for the batch; False (and every vote in it unsaved) if it fails."""
        try:
            with write_turn(self.lock_file), self.engine.begin() as connection:
                # Executed row by row: two answers of one reader in a batch end as the later one.
                connection.execute(self.statement, [waiting.values for waiting in batch])
            return True
        except SQLAlchemyError:
            log.exception("cannot store %d feedback votes", len(batch))
            return False


def write_turn(lock_file: Path | None):
    """This process's turn to write, when processes take turns on a lock file (SQLite)."""
    return _locked(lock_file) if lock_file else nullcontext()


@contextmanager
def _locked(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
