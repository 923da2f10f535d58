"""Limits that keep expensive requests from starving cheap ones.

Two kinds, both declared next to the routes they guard:
- a per-client rate limit (Flask-Limiter) on searches, dead links, feedback and failed
  logins, in memory by default (a bounded store of our own, app/guards/counters.py) and in
  Redis for replicas (`RATELIMIT_STORAGE_URI`). A client is known by a keyed hash of its
  network (app/guards/clients.py), never by its address.
  In memory each worker counts alone, so each allows its share of a limit (the limit
  divided by GRANIAN_WORKERS): a client never gets more than the limit, and may get less
  when its requests keep to one worker. Redis counts exactly.
- a per-worker cap on how many expensive requests run at once (`EXPENSIVE_WORK_SLOTS`,
  `DATABASE_SLOTS`): past it a request is answered 503 with Retry-After at once, so a
  flood from many addresses, or a database that hangs, cannot hold every thread while
  cached pages wait.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import parse_many
from werkzeug.exceptions import ServiceUnavailable

from app.content.library import get_library
from app.content.page import MAX_CONTEXT_KEY_LENGTH, SLUG
from app.guards.clients import client_network
from app.guards.counters import BoundedMemoryStorage  # memory:// from here on

# How long a request waits for a free slot before it is turned away.
SLOT_WAIT_SECONDS = 0.01
# ... for a slot to wait on a database that answers: a burst of votes takes turns (each
# holds its slot for the few milliseconds of a group commit).
DATABASE_SLOT_WAIT_SECONDS = 0.5


# The settings that hold a rate limit per client.
RATE_LIMITS = (
    "SEARCH_RATE_LIMIT",
    "SUGGEST_RATE_LIMIT",
    "NOT_FOUND_RATE_LIMIT",
    "FEEDBACK_RATE_LIMIT",
    "INSIGHTS_AUTH_RATE_LIMIT",
)


def client_key() -> str:
    """Who a request comes from, for rate limits: a keyed hash, so no address is stored."""
    secret = current_app.extensions["client_key_secret"]
    return hmac.new(secret, client_network().encode(), hashlib.sha256).hexdigest()[:24]


limiter = Limiter(client_key, default_limits=[])


def rate_limit(name: str):
    """The limit a setting names, as this worker applies it (see per_worker), for a decorator."""
    return lambda: current_app.extensions["rate_limits"][name]


def per_worker(limits: str, workers: int) -> str:
    """`limits` (`30/10 seconds;300/hour`) as one of `workers` processes counting alone
    should apply it: each amount divided; an amount smaller than the workers instead
    stretches the window (`1/minute` over 2 workers is `1/2 minute` each), so that together
    they allow no more than the limit on average."""
    shares = []
    for item in parse_many(limits):
        if item.amount >= workers:
            shares.append(f"{item.amount // workers}/{item.multiples} {item.GRANULARITY.name}")
        else:
            shares.append(f"1/{item.multiples * -(-workers // item.amount)} {item.GRANULARITY.name}")
    return ";".join(shares)


def search_limit(doc_wins: bool = False):
    """The rate limit on searches, for a route's decorator: one count for the page and the API.
    `doc_wins`: the route shows `?doc=`'s page instead of searching when both are given."""
    return limiter.shared_limit(
        rate_limit("SEARCH_RATE_LIMIT"),
        scope="search",
        exempt_when=lambda: "q" not in request.args or (doc_wins and "doc" in request.args),
    )


def suggest_limit():
    """The rate limit on suggestions while typing (a request a keystroke, each cheap)."""
    return limiter.limit(rate_limit("SUGGEST_RATE_LIMIT"), scope="suggest")


def not_found_limit(asks_for_nothing: Callable[[], bool] | None = None):
    """The rate limit on requests for pages that do not exist (each costs a look for similar
    ones), for a route's decorator: unknown slugs and unknown context keys (`asks_for_nothing`
    says which the route's request is) count together. A client past it still gets every
    page that exists."""
    asks = asks_for_nothing or asks_for_missing_page
    return limiter.shared_limit(rate_limit("NOT_FOUND_RATE_LIMIT"), scope="not-found", exempt_when=lambda: not asks())


def asks_for_missing_page() -> bool:
    """Whether `?doc=` names a well-formed slug that no language has a page for, nor an alias."""
    slug = request.args.get("doc")
    if slug is None or SLUG.fullmatch(slug) is None:
        return False
    library = get_library()
    return not any(library.versions(slug)) and slug not in library.addresses().aliases


def asks_for_missing_context() -> bool:
    """Whether `/go/<key>` names no context key (in any case) that a page names."""
    key = (request.view_args or {}).get("key", "")[: MAX_CONTEXT_KEY_LENGTH + 1]  # cut first: it may be long
    return key.lower() not in get_library().addresses().contexts


@contextmanager
def work_slot(
    wait: float = SLOT_WAIT_SECONDS,
    kind: str = "work_slots",
    busy: str = "Too many searches at once; try again in a moment.",
):
    """Hold one of this worker's slots for expensive work; 503 with Retry-After when all are busy."""
    slots = current_app.extensions[kind]
    if not slots.acquire(timeout=wait):
        raise ServiceUnavailable(busy, retry_after=1)
    try:
        yield
    finally:
        slots.release()


class DatabaseSlots:
    """This worker's slots for requests that wait on the database, and how long their
    holders have held them: a holder past STUCK_SECONDS means the database is stuck."""

    # A healthy commit took up to 0.57 s on 2 loaded cores (two servers, 32 voters at once and
    # PostgreSQL on one machine): at 0.25 s such a burst was turned away now and then (503).
    STUCK_SECONDS = 1.0

    def __init__(self, slots: int):
        self._free = threading.BoundedSemaphore(slots)
        self._held: dict[int, float] = {}  # a holder's id -> time.monotonic() it took its slot

    @property
    def stuck(self) -> bool:
        now = time.monotonic()
        return any(now - since > self.STUCK_SECONDS for since in list(self._held.values()))

    @contextmanager
    def slot(self, wait: float):
        if not self._free.acquire(timeout=0 if self.stuck else wait):
            raise ServiceUnavailable("The database is busy; try again in a moment.", retry_after=1)
        token = object()
        self._held[id(token)] = time.monotonic()
        try:
            yield
        finally:
            del self._held[id(token)]
            self._free.release()


def database_slot(wait: float = DATABASE_SLOT_WAIT_SECONDS):
    """Hold one of this worker's slots for a request that waits on the database (a vote, the
    authors' pages): a locked or unreachable database holds at most DATABASE_SLOTS threads.
    A database that answers does so in milliseconds, so a burst waits its turn (`wait`); while
    a holder has waited past DatabaseSlots.STUCK_SECONDS, or when the caller passes 0 (it
    knows the database just failed), a request is turned away at once."""
    return current_app.extensions["database_slots"].slot(wait)


@contextmanager
def spare_slot():
    """Hold a slot if one is free at once; yields whether it was (for work a page can do without)."""
    slots = current_app.extensions["work_slots"]
    free = slots.acquire(blocking=False)
    try:
        yield free
    finally:
        if free:
            slots.release()


def init_app(app: Flask) -> None:
    """Set up the rate limiter and this worker's slots for expensive work."""
    signing_key = app.config.get("CACHE_SIGNING_KEY") or ""
    # With the signing key every replica hashes a client alike (for limits kept in Redis).
    app.extensions["client_key_secret"] = signing_key.encode() or os.urandom(32)
    app.extensions["work_slots"] = threading.BoundedSemaphore(app.config["EXPENSIVE_WORK_SLOTS"])
    app.extensions["database_slots"] = DatabaseSlots(app.config["DATABASE_SLOTS"])
    # The launcher sets GRANIAN_WORKERS before it forks the workers; without it (a test, the
    # flask command) this is the only process.
    workers = int(os.environ.get("GRANIAN_WORKERS", "1") or 1)
    shared = not str(app.config["RATELIMIT_STORAGE_URI"]).startswith("memory://")
    app.extensions["rate_limits"] = {
        name: app.config[name] if shared or workers <= 1 else per_worker(app.config[name], workers)
        for name in RATE_LIMITS
    }
    limiter.init_app(app)
    # The storage just made is alive (Flask-Limiter keeps the last one's death otherwise).
    limiter._storage_dead = False
    if limiter._in_memory_fallback_enabled:
        # Counts while Redis is away: Flask-Limiter makes limits' MemoryStorage itself, unbounded.
        limiter._fallback_storage = BoundedMemoryStorage()
        limiter._fallback_limiter = type(limiter._fallback_limiter)(limiter._fallback_storage)
