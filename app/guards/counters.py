"""Rate-limit counters in this worker's memory, bounded in number whatever clients send.

limits' own MemoryStorage keeps a counter per client and limit with no bound, and a timer
thread reads every counter each 10 ms to expire them. With 100,000 counters (a search from
each of 50,000 networks within an hour: a /48 of IPv6 holds 65,536) that thread took a
core: 2,000 counts a millisecond apart cost 3.8 s of CPU, against 0.15 s with no other
counters (limits 5.8.0; bench/counters.py, bench/RESULTS.md). Here a counter expires when a call finds it
due, no thread runs, and at MAX_COUNTERS the counter counted longest ago is dropped to make
room: a flood's counters, each counted once, go before those of a client still counting,
and a client whose counter went starts that window again. (Dropping the one nearest its
end instead would drop a new client's short window at once, to make room for its long
one: under a flood, no burst would be limited.)

Flask-Limiter's default strategy (fixed windows) is all it serves.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from limits.storage import Storage

# Each takes about 0.6 KB of a worker's memory with the keys Flask-Limiter makes (measured
# on the production server, bench/attack.py): at most about 30 MB a worker when full. A
# client that searches holds 2 (one a limit), and keeps them while it goes on.
MAX_COUNTERS = 50_000
# The most counters one call drops because their windows ended (the rest wait for the next
# calls): a call that found 100,000 due spent 111 ms dropping them, holding the lock.
MAX_DROPPED_PER_CALL = 100


def now() -> float:
    """The clock windows are measured by: one that a change of the system's time leaves alone."""
    return time.monotonic()


class BoundedMemoryStorage(Storage):
    """Fixed-window counts for Flask-Limiter, at most `max_counters` of them.

    Counters of one window length end in the order they began, so each length keeps its
    counters in that order, and the due ones are always at the front."""

    # Registered for memory:// in place of limits' MemoryStorage: the registry maps a scheme
    # to the last storage class that names it.
    STORAGE_SCHEME = ["memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, max_counters: int = 0, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.max_counters = max_counters or MAX_COUNTERS
        if self.max_counters < 1:
            raise ValueError(f"max_counters must be at least 1, not {self.max_counters}")
        self._lock = threading.Lock()
        self._counts: OrderedDict[str, int] = OrderedDict()  # the one counted longest ago first
        # A window's length (s) -> its counters' keys, oldest first -> when each ends (`now()`).
        self._ends: dict[float, OrderedDict[str, float]] = {}
        self._length: dict[str, float] = {}  # key -> its window's length

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count `amount` more for `key`, starting its window of `expiry` seconds if it has none."""
        with self._lock:
            at = now()
            self._expire(at, key)
            if key in self._counts:
                self._counts.move_to_end(key)
            else:
                if len(self._counts) >= self.max_counters:
                    self._drop(next(iter(self._counts)))
                self._counts[key] = 0
                self._length[key] = expiry
                self._ends.setdefault(expiry, OrderedDict())[key] = at + expiry
            self._counts[key] += amount
            return self._counts[key]

    def get(self, key: str) -> int:
        with self._lock:
            self._expire(now(), key)
            return self._counts.get(key, 0)

    def get_expiry(self, key: str) -> float:
        """When `key`'s window ends, in seconds since the epoch (for Retry-After)."""
        with self._lock:
            length = self._length.get(key)
            left = 0.0 if length is None else max(self._ends[length][key] - now(), 0.0)
            return time.time() + left

    def clear(self, key: str) -> None:
        with self._lock:
            if key in self._counts:
                self._drop(key)

    def reset(self) -> int:
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
            self._ends.clear()
            self._length.clear()
            return count

    def check(self) -> bool:
        return True

    def keys(self) -> list[str]:
        """The keys counted now (Flask-Limiter's, with a client's keyed hash)."""
        with self._lock:
            return list(self._counts)

    @property
    def storage(self) -> str:
        """What `flask limiter config` shows of a storage (limits' MemoryStorage has its counts there)."""
        return f"{len(self._counts):,} counters of at most {self.max_counters:,}"

    def _expire(self, at: float, key: str) -> None:
        """Drop `key`'s counter if its window has ended, and up to MAX_DROPPED_PER_CALL others
        whose windows have."""
        length = self._length.get(key)
        if length is not None and self._ends[length][key] <= at:
            self._drop(key)
        budget = MAX_DROPPED_PER_CALL
        for ends in self._ends.values():
            while ends and budget:
                first, end = next(iter(ends.items()))
                if end > at:
                    break
                self._drop(first)
                budget -= 1

    def _drop(self, key: str) -> None:
        del self._counts[key]
        del self._ends[self._length.pop(key)][key]
