"""Who may read the authors' insights: HTTP Basic authentication against INSIGHTS_USERS, at a
cost no flood of bad passwords can raise.

A password check (werkzeug's scrypt) costs about 65 ms of CPU and 32 MiB: bad passwords
from 250 addresses on 16 connections, each checked, took cached pages from 43,700 to 757
requests per second. So:
- a request without credentials (a browser's first, before it asks its user) is answered
  401 at once: nothing is hashed, and it is no failed login;
- credentials found right are remembered for CREDENTIALS_SECONDS as a keyed hash (never the
  password), so an author's further requests cost no check;
- a client past INSIGHTS_AUTH_RATE_LIMIT failed logins gets 429 without a check (a fresh
  address is not affected);
- one check runs at a time in the whole server: the workers take turns on a lock file
  (`flock`, which the kernel lets go of when a worker dies), and a request that finds a
  check running gets 503 with Retry-After at once, without hashing;
- a check that fails keeps its turn until FAILED_CHECK_SECONDS have passed, so that the
  checks of a flood are spaced: at most a quarter of one core goes to them, and readers
  keep the rest.
"""

from __future__ import annotations

import fcntl
import hmac
import os
import threading
import time
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

from flask import Flask, abort, current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, ServiceUnavailable, Unauthorized
from werkzeug.security import check_password_hash, generate_password_hash

from app.guards.limits import limiter, rate_limit

CREDENTIALS_SECONDS = 300
MAX_REMEMBERED = 64
# Shortest turn of a failed check (a check itself takes about 65 ms).
FAILED_CHECK_SECONDS = 0.25


class PasswordChecks:
    """One password check at a time: in this process (a lock), and across the server's
    workers when they share a folder for the lock file (the launcher's metrics folder)."""

    def __init__(self, folder: str | None):
        self.path = Path(folder) / "password-check.lock" if folder else None
        self._lock = threading.Lock()
        self._handles: dict[int, int] = {}  # pid -> its own descriptor: flock is per open file

    @contextmanager
    def turn(self):
        """Yields whether this request may check a password now (no waiting)."""
        if not self._lock.acquire(blocking=False):
            yield False
            return
        try:
            handle = self._handle()
            if handle is None:
                yield True
                return
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def _handle(self) -> int | None:
        if self.path is None:
            return None
        pid = os.getpid()
        if pid not in self._handles:  # a worker forked from the launcher opens its own
            try:
                self._handles = {pid: os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)}
            except OSError:
                return None  # no shared folder: the lock in this process still holds
        return self._handles[pid]


class Authors:
    """The authors of INSIGHTS_USERS, and the credentials lately found right."""

    def __init__(self, users: dict[str, str], checks: PasswordChecks):
        self.users = users
        self.checks = checks
        self._key = os.urandom(32)
        self._remembered: dict[bytes, float] = {}  # keyed hash of name and password -> until when
        method = next(iter(users.values())).split("$")[0] if users else "scrypt"
        # An unknown name is checked against a hash of the same kind: it costs what a wrong password does.
        self._unknown = generate_password_hash(os.urandom(16).hex(), method=method) if users else ""

    def known(self, name: str, password: str) -> bool:
        """Whether these credentials are an author's: remembered, else checked (one at a time);
        503 when a check is running already."""
        token = hmac.new(self._key, f"{name}\0{password}".encode("utf-8", "replace"), "sha256").digest()
        now = time.monotonic()
        if self._remembered.get(token, 0) > now:
            return True
        with self.checks.turn() as mine:
            if not mine:
                raise ServiceUnavailable("Another login is being checked; try again in a moment.", retry_after=1)
            right = check_password_hash(self.users.get(name, self._unknown), password) and name in self.users
            if not right:
                time.sleep(max(0.0, FAILED_CHECK_SECONDS - (time.monotonic() - now)))
        if right:
            if len(self._remembered) >= MAX_REMEMBERED:
                self._remembered.clear()
            self._remembered[token] = now + CREDENTIALS_SECONDS
        return right


def failed_logins_limit():
    """The rate limit on failed logins (a 401 for credentials that were given), per client."""
    return limiter.limit(
        rate_limit("INSIGHTS_AUTH_RATE_LIMIT"),
        scope="insights-auth",
        deduct_when=lambda response: response.status_code == 401 and request.authorization is not None,
    )


def authenticated(view):
    """Let authors in: 404 while insights are off, 403 cross-site, 401 without good credentials."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        authors = current_app.extensions.get("authors")
        if authors is None:
            abort(404)
        if request.headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
            raise Forbidden()
        auth = request.authorization
        if auth is None or auth.type != "basic" or not authors.known(auth.username or "", auth.password or ""):
            raise Unauthorized(www_authenticate=WWWAuthenticate("basic", {"realm": "Innsikt", "charset": "UTF-8"}))
        return view(*args, **kwargs)

    return wrapper


def init_app(app: Flask) -> None:
    """The authors who may read the insights; none while INSIGHTS_USERS is empty."""
    if app.config["INSIGHTS_USERS"]:
        checks = PasswordChecks(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        app.extensions["authors"] = Authors(app.config["INSIGHTS_USERS"], checks)
