"""Limits that keep expensive requests from starving cheap ones.

Two kinds, both declared next to the routes they guard:
- a per-client rate limit (Flask-Limiter) on searches and on dead links, in memory by
  default and in Redis for replicas (`RATELIMIT_STORAGE_URI`). A client is known by a
  keyed hash of its address (an IPv6 /64 counts as one address), never by the address.
- a per-worker cap on how many expensive requests run at once (`EXPENSIVE_WORK_SLOTS`):
  past it a search is answered 503 with Retry-After at once, so a flood from many
  addresses cannot hold every thread while cached pages wait.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import threading
from contextlib import contextmanager, suppress

from flask import Flask, current_app, request
from flask_limiter import Limiter
from werkzeug.exceptions import ServiceUnavailable

from app.documents import get_library
from app.pages import SLUG

# How long a request waits for a free slot before it is turned away.
SLOT_WAIT_SECONDS = 0.01


def client_address() -> str:
    """The client's address, an IPv6 one as its /64: one subscriber has a whole /64 to choose from."""
    address = request.remote_addr or ""
    if ":" in address:
        with suppress(ValueError):
            address = str(ipaddress.ip_network(f"{address}/64", strict=False))
    return address


def client_key() -> str:
    """Who a request comes from, for rate limits: a keyed hash, so no address is stored."""
    secret = current_app.extensions["client_key_secret"]
    return hmac.new(secret, client_address().encode(), hashlib.sha256).hexdigest()[:24]


limiter = Limiter(client_key, default_limits=[])


def search_limit():
    """The rate limit on searches, for a route's decorator: one count for the page and the API."""
    return limiter.shared_limit(lambda: current_app.config["SEARCH_RATE_LIMIT"], scope="search",
                                exempt_when=lambda: "q" not in request.args or "doc" in request.args)


def not_found_limit():
    """The rate limit on requests for pages that do not exist (each costs a look for similar
    ones); a client past it still gets every page that exists."""
    return limiter.limit(lambda: current_app.config["NOT_FOUND_RATE_LIMIT"], scope="not-found",
                         exempt_when=lambda: not asks_for_missing_page())


def asks_for_missing_page() -> bool:
    """Whether `?doc=` names a well-formed slug that no language has a page for."""
    slug = request.args.get("doc")
    return (slug is not None and SLUG.fullmatch(slug) is not None
            and not any(get_library().versions(slug)))


@contextmanager
def work_slot(wait: float = SLOT_WAIT_SECONDS):
    """Hold one of this worker's slots for expensive work; 503 with Retry-After when all are busy."""
    slots = current_app.extensions["work_slots"]
    if not slots.acquire(timeout=wait):
        raise ServiceUnavailable("Too many searches at once; try again in a moment.", retry_after=1)
    try:
        yield
    finally:
        slots.release()


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
    limiter.init_app(app)
