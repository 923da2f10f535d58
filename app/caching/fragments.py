"""Rendered fragments kept in flask-caching (`cache`: each worker's memory, or Redis shared
by every replica), read and written by calls that treat an unreachable backend as a miss."""

from __future__ import annotations

import logging
import threading
import time

from flask_caching import Cache

log = logging.getLogger(__name__)

# Rendered pages; SimpleCache in memory unless CACHE_TYPE says otherwise.
cache = Cache()

# After a failed call the backend is left alone this long, so an outage costs one
# timeout now and then instead of one per request.
RETRY_SECONDS = 5.0


class _BackendState:
    """Whether the cache backend is usable, shared by the threads of a worker."""

    def __init__(self):
        self.down_until = 0.0
        self.lock = threading.Lock()

    def failed(self, exc: Exception) -> None:
        with self.lock:
            if self.down_until == 0.0:
                log.warning("cache backend unreachable, rendering pages locally: %s", exc)
            self.down_until = time.monotonic() + RETRY_SECONDS

    def worked(self) -> None:
        if self.down_until:
            with self.lock:
                if self.down_until:
                    log.warning("cache backend reachable again")
                    self.down_until = 0.0


_backend = _BackendState()


def cache_get(key: str):
    """The cached value, or None when absent or when the backend cannot be reached."""
    if time.monotonic() < _backend.down_until:
        return None
    try:
        value = cache.get(key)
    except Exception as exc:  # a cache must never turn a page into an error
        _backend.failed(exc)
        return None
    _backend.worked()
    return value


def cache_set(key: str, value) -> None:
    """Store a value; a backend that cannot be reached is noted and skipped."""
    if time.monotonic() < _backend.down_until:
        return
    try:
        cache.set(key, value)
    except Exception as exc:
        _backend.failed(exc)
