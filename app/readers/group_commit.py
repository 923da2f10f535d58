"""Committing writes together: a worker's feedback posts share transactions (group commit).

SQLite lets one process write at a time, and each commit waits for the disk. Posts that
each committed alone reached 574 per second with a p99 of a second (threads queued on the
lock, then slept in SQLite's back-off). Here each worker has one writer thread: it takes
every write waiting, makes them in one transaction, and then wakes their requests. A
request still answers only after its write is committed. With SQLite the writers of the
worker processes also take turns on a lock file (`flock`): the kernel wakes the next one
when the lock is free, where SQLite's own wait sleeps up to 100 ms at a time.

Nothing a write holds can stop the writer: a batch that fails for a reason other than the
database being unreachable is tried again one write at a time, so that only the write at
fault fails; any error is logged in one line and counted; and a writer thread that ends
all the same is started again by the next write.
"""

from __future__ import annotations

import fcntl
import logging
import queue
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import Counter
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

# Writes waiting in one worker at most; past it a post is turned away at once (503).
MAX_WAITING = 1000
# Most writes in one transaction.
MAX_BATCH = 200
# A batch that failed this recently means the database is down or locked: new writes are
# turned away at once instead of waiting their turn.
FAILED_SECONDS = 1.0

FAILURES = Counter("help_feedback_write_failures", "Feedback writes that failed, by why.", ["reason"])


class NotSaved(Exception):
    """The write was not committed: the database is down, locked or too slow, or refused it."""


@dataclass
class _Waiting:
    statements: list[tuple[object, dict]]  # (statement, its values), made in this order
    done: threading.Event = field(default_factory=threading.Event)
    saved: bool = False


class GroupCommit:
    """One writer thread for an engine, started by the first write it is given."""

    def __init__(self, engine: Engine, lock_file: Path | None = None):
        self.engine = engine
        self.lock_file = lock_file  # taken around each transaction, by every process writing
        self._queue: queue.Queue[_Waiting] = queue.Queue(maxsize=MAX_WAITING)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._failed_at = -FAILED_SECONDS

    @property
    def failing(self) -> bool:
        """Whether a batch failed a moment ago (the database is down, locked or refused it)."""
        return time.monotonic() - self._failed_at < FAILED_SECONDS

    def save(self, statements: list[tuple[object, dict]], timeout: float) -> None:
        """Commit these statements, in one transaction with others waiting; NotSaved if they
        are not committed within `timeout`."""
        waiting = _Waiting(statements)
        try:
            self._queue.put_nowait(waiting)
        except queue.Full:
            raise NotSaved("too many writes waiting") from None
        self._start()
        if not waiting.done.wait(timeout) or not waiting.saved:
            raise NotSaved("not committed in time")

    def _start(self) -> None:
        """The writer thread, if there is none (or it did not survive a fork: a forked
        process has none of its parent's threads)."""
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._write_forever, name="feedback-writer", daemon=True)
                    self._thread.start()

    def _write_forever(self) -> None:
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                try:
                    self._write_batch(batch)
                except Exception:  # noqa: BLE001 - whatever it was, this thread must go on writing
                    FAILURES.labels("unexpected").inc(len(batch))
                    log.exception("the feedback writer failed on a batch of %d", len(batch))
                finally:
                    if not all(waiting.saved for waiting in batch):
                        self._failed_at = time.monotonic()
                    for waiting in batch:
                        waiting.done.set()
        finally:  # ended all the same (SystemExit, say): a new writer takes over at once
            FAILURES.labels("writer restarted").inc()
            log.error("the feedback writer stopped; started again")
            with self._lock:
                self._thread = None
            self._start()

    def _write_batch(self, batch: list[_Waiting]) -> None:
        """The batch in one transaction; if it fails for a write's own sake, each write alone."""
        try:
            self._transaction(batch)
        except (OperationalError, PoolTimeout, OSError) as error:  # down, locked, slow or its lock file gone
            FAILURES.labels("unavailable").inc(len(batch))
            log.warning("cannot store %d feedback writes: %s", len(batch), _first_line(error))
            return
        except Exception as error:  # noqa: BLE001 - a write the database or its driver refused
            if len(batch) == 1 or (isinstance(error, DBAPIError) and error.connection_invalidated):
                FAILURES.labels("refused").inc(len(batch))
                log.warning("cannot store %d feedback writes: %s", len(batch), _first_line(error))
                return
            for waiting in batch:
                self._write_batch([waiting])
            return
        for waiting in batch:
            waiting.saved = True

    def _transaction(self, batch: list[_Waiting]) -> None:
        # Each statement once, with the values of every write that makes it, in the order the
        # writes came (executed row by row: two answers of one reader in a batch end as the
        # later one). One call per row took 2.4 times as long for a batch of 200 votes (4.0 ms
        # against 1.6 ms, SQLite, median of 30).
        runs: dict[object, list[dict]] = {}
        for waiting in batch:
            for statement, values in waiting.statements:
                runs.setdefault(statement, []).append(values)
        with write_turn(self.lock_file), self.engine.begin() as connection:
            for statement, rows in runs.items():
                connection.execute(statement, rows)


def _first_line(error: BaseException) -> str:
    """What an error says, on one line and without the statement (whose values it may echo)."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200] if text else ''}"


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


def write_lock_file(engine: Engine) -> Path | None:
    """The file every process writing to an SQLite database takes turns on (app/readers/group_commit.py);
    None for other databases, which let several write at once."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    return Path(f"{database}.write-lock") if database and database != ":memory:" else None
