"""Rate-limit counters in this worker's memory, bounded in number whatever clients send.

limits' own MemoryStorage keeps a counter per client and limit with no bound, and a timer
thread reads every counter each 10 ms to expire them. With 100,000 counters (a search from
each of 50,000 networks within an hour: a /48 of IPv6 holds 65,536) that thread took a
core: 2,000 counts a millisecond apart cost 4.1 s of CPU, against 0.2 s with no other
counters (limits 5.8.0; bench/counters.py). Here a counter expires when a call finds it due, no thread runs, and at
MAX_COUNTERS the counter counted longest ago is dropped to make room: a flood's counters,
each counted once, go before those of a client still searching, and a client whose counter
went starts that window again. (Dropping the one nearest its end instead would drop a new
client's short window at once, to make room for its long one: under a flood, no burst
would be limited.)

Flask-Limiter's default strategy (fixed windows) is all it serves.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from limits.storage import Storage

# About 0.2 KB each with the keys Flask-Limiter makes (bench/counters.py): 20 MB a worker when full.
MAX_COUNTERS = 100_000


class BoundedMemoryStorage(Storage):
    """Fixed-window counts for Flask-Limiter, at most `max_counters` of them.

    Counters of one window length end in the order they began, so each length keeps its
    counters in that order, and the due ones are always at the front."""

    # Registered for memory:// in place of limits' MemoryStorage: the registry maps a scheme
    # to the last storage class that names it.
    STORAGE_SCHEME = ["memory"]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, max_counters: int = MAX_COUNTERS, **options
    ):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.max_counters = max_counters
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        # A window's length (s) -> its counters' keys, oldest first -> when each ends (epoch s).
        self._ends: dict[float, OrderedDict[str, float]] = {}
        self._length: dict[str, float] = {}  # key -> its window's length

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count `amount` more for `key`, starting its window of `expiry` seconds if it has none."""
        with self._lock:
            now = time.time()
            self._expire(now, key)
            if key not in self._counts:
                if len(self._counts) >= self.max_counters:
                    self._drop(next(iter(self._counts)))  # the one counted longest ago
                self._counts[key] = 0
                self._length[key] = expiry
                self._ends.setdefault(expiry, OrderedDict())[key] = now + expiry
            # Counted last, so it goes last: a dict keeps the order its keys were put in.
            self._counts[key] = self._counts.pop(key) + amount
            return self._counts[key]

    def get(self, key: str) -> int:
        with self._lock:
            self._expire(time.time(), key)
            return self._counts.get(key, 0)

    def get_expiry(self, key: str) -> float:
        with self._lock:
            length = self._length.get(key)
            return time.time() if length is None else self._ends[length][key]

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

    def _expire(self, now: float, key: str) -> None:
        """Drop the counters whose windows have ended: those at the front, and `key`'s (the
        clock may have gone back since an earlier one began)."""
        length = self._length.get(key)
        if length is not None and self._ends[length][key] <= now:
            self._drop(key)
        for ends in self._ends.values():
            while ends:
                first, end = next(iter(ends.items()))
                if end > now:
                    break
                self._drop(first)

    def _drop(self, key: str) -> None:
        del self._counts[key]
        del self._ends[self._length.pop(key)][key]
