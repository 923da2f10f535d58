"""A full-page response cache in front of Flask, and the HTTP caching rules it follows.

A help page is read far more often than it changes. The first request for a page goes
through Flask, which renders it and stores a `CachedPage`: the body, its gzip and brotli
forms (made once, when first asked for), a strong ETag derived from the content and the
headers. Later requests whose query is exactly `doc=<slug>` (or empty, for the index) are
answered from it before Flask routes anything, once the page is known to be fresh (a stat
of its file, at most every RECHECK_SECONDS). Any other spelling of the URL reaches the
view, which answers from the same `CachedPage`, so every path follows the same
conditional-request rules.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime

import brotli
from flask import Flask, Response, current_app

from app.caching.encoding import preferred_encoding

PAGE_PATH = "/docs.php"
# How long browsers and CDNs may keep an answer, by kind: every answer the app makes takes
# its value here (static files take Flask's SEND_FILE_MAX_AGE_DEFAULT).
CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"  # pages, the index, API reads
SEARCH_CACHE_CONTROL = "public, max-age=60"
SITE_FILES_CACHE_CONTROL = "public, max-age=3600"  # robots.txt and the sitemap
NO_STORE = "no-store"  # errors, and answers about this moment (health, metrics)
PRIVATE = "no-store, private"  # the authors' insights: kept by no browser or proxy
# Below this size compression saves less than it costs the client.
MIN_COMPRESS_BYTES = 512
STATUS_OK, STATUS_NOT_MODIFIED = "200 OK", "304 Not Modified"
STATUS_PRECONDITION_FAILED = "412 Precondition Failed"
PRECONDITION_FAILED = b"A precondition (If-Match, If-Unmodified-Since) does not hold for this resource as it is now.\n"
# A cached page checks that its file is unchanged at most this often. The check (a stat)
# was a fifth of a cache hit's cost. An edit is served at most this much later; files
# are only read once they have been unchanged for documents.SETTLE_SECONDS anyway.
RECHECK_SECONDS = 0.1


def _compress(encoding: str, body: bytes) -> bytes:
    """Compress `body`; mtime=0 keeps gzip output identical on every replica."""
    if encoding == "br":
        return brotli.compress(body, quality=5)
    return gzip.compress(body, compresslevel=6, mtime=0)


class CachedPage:
    """One version of one page: its bytes, encodings, validators and headers."""

    __slots__ = ("body", "etag", "last_modified", "is_fresh", "count_view", "_checked_until", "_variants", "_lock")

    def __init__(
        self, body: bytes, mtime: float, is_fresh: Callable[[], bool], count_view: Callable[[dict], None] | None = None
    ):
        self.body = body
        self.etag = hashlib.sha256(body).hexdigest()[:32]
        self.last_modified = int(mtime)
        self.is_fresh = is_fresh  # True while the source of the page is unchanged
        self.count_view = count_view  # called with each GET's environ, for insights (app/readers/counting.py)
        self._checked_until = time.monotonic() + RECHECK_SECONDS  # made from the source just now
        self._variants: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def fresh(self) -> bool:
        """True while the page's source is unchanged, checked at most every RECHECK_SECONDS."""
        now = time.monotonic()
        if now < self._checked_until:
            return True
        if not self.is_fresh():
            return False
        self._checked_until = now + RECHECK_SECONDS
        return True

    def variant(self, encoding: str) -> tuple[bytes, list[tuple[str, str]], list[tuple[str, str]]]:
        """The body in `encoding` ('' for none) and its headers, made on first use."""
        found = self._variants.get(encoding)
        if found is None:
            with self._lock:
                found = self._variants.get(encoding)
                if found is None:
                    found = self._variants[encoding] = self._make_variant(encoding)
        return found

    def tag(self, encoding: str) -> str:
        """The ETag of the body in `encoding`: a strong ETag names exactly one sequence of
        bytes, so each encoding has its own."""
        return f'"{self.etag}-{encoding}"' if encoding else f'"{self.etag}"'

    def _make_variant(self, encoding: str) -> tuple[bytes, list[tuple[str, str]], list[tuple[str, str]]]:
        """The body in `encoding`, its headers for a 200 and its headers for a 304."""
        body = _compress(encoding, self.body) if encoding else self.body
        etag = self.tag(encoding)
        # A 304 carries the validators and caching headers, never a body or its length.
        not_modified = [
            ("Cache-Control", CACHE_CONTROL),
            ("ETag", etag),
            ("Last-Modified", formatdate(self.last_modified, usegmt=True)),
            ("Vary", "Accept-Encoding, Accept-Language"),
        ]
        ok = [("Content-Type", "text/html; charset=utf-8"), *not_modified, ("Content-Length", str(len(body)))]
        if encoding:
            ok.append(("Content-Encoding", encoding))
        return body, ok, not_modified

    def not_modified(self, if_none_match: str | None, if_modified_since: str | None) -> bool:
        """RFC 9110 conditional GET: If-None-Match (weak comparison) wins over If-Modified-Since.

        Hand-written, with `negotiation.preferred_encoding`, on purpose: both read the raw
        environ in 1.4 µs, where werkzeug's `Request` with `accept_encodings`, `if_none_match`
        and `if_modified_since` took 33 µs, ten times what the rest of a cache hit costs.
        """
        if if_none_match is not None:
            if if_none_match.strip() == "*":
                return True
            for tag in if_none_match.split(","):
                tag = tag.strip().removeprefix("W/").strip('"')
                if tag.split("-", 1)[0] == self.etag:
                    return True
            return False
        if if_modified_since:
            since = _timestamp(if_modified_since)
            return since is not None and self.last_modified <= since
        return False

    def answer(self, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
        """Status, headers (a new list) and body for one request (the caller drops a HEAD's body)."""
        encoding = (
            preferred_encoding(environ.get("HTTP_ACCEPT_ENCODING", "")) if len(self.body) >= MIN_COMPRESS_BYTES else ""
        )
        body, ok, not_modified = self.variant(encoding)
        if_match, unmodified_since = environ.get("HTTP_IF_MATCH"), environ.get("HTTP_IF_UNMODIFIED_SINCE")
        if (if_match or unmodified_since) and precondition_fails(
            self.tag(encoding), self.last_modified, if_match, unmodified_since
        ):
            return STATUS_PRECONDITION_FAILED, _precondition_failed_headers(), PRECONDITION_FAILED
        if self.count_view is not None and environ.get("REQUEST_METHOD") == "GET":
            self.count_view(environ)
        if self.not_modified(environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_IF_MODIFIED_SINCE")):
            return STATUS_NOT_MODIFIED, not_modified.copy(), b""
        return STATUS_OK, ok.copy(), body


def precondition_fails(
    etag: str, last_modified: float | None, if_match: str | None, if_unmodified_since: str | None
) -> bool:
    """RFC 9110 13.2.2: If-Match (strong comparison with `etag`, the version sent), else
    If-Unmodified-Since (ignored unless one valid date) does not hold. An If-Match that
    lists no tag (blank, ",") is none, as werkzeug reads it."""
    tags = [tag.strip() for tag in (if_match or "").split(",") if tag.strip()]
    if tags:
        return "*" not in tags and etag not in tags
    since = _timestamp(if_unmodified_since) if if_unmodified_since else None
    return since is not None and last_modified is not None and last_modified > since


def settled_conditions(response: Response, environ: dict) -> Response:
    """A GET of a static file or the API after werkzeug's `make_conditional`, put right where
    it is not RFC 9110 (13.2.2): werkzeug sends a range before it looks at any precondition,
    ignores If-Unmodified-Since, takes `If-Match: *` for a failure and a matching If-Match
    for a reason to ignore If-None-Match. A 412's body is the caller's to replace."""
    etag = response.headers.get("ETag")
    if (
        environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
        or not etag
        or response.status_code not in (200, 206, 304, 412)
    ):
        return response
    modified = response.last_modified.timestamp() if response.last_modified else None
    if precondition_fails(etag, modified, environ.get("HTTP_IF_MATCH"), environ.get("HTTP_IF_UNMODIFIED_SINCE")):
        status = 412
    elif _not_modified(etag, modified, environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_IF_MODIFIED_SINCE")):
        status = 304
    elif response.status_code in (304, 412):  # werkzeug's misreading: the whole file
        status = 200
    else:
        return response  # as werkzeug made it, a range or the whole
    if status != 200:
        response.headers.pop("Content-Range", None)
    response.status_code = status
    return response


def _not_modified(etag: str, modified: float | None, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """If-None-Match (weak comparison), else If-Modified-Since, says the client has it."""
    tags = [tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",") if tag.strip()]
    if tags:
        return "*" in tags or etag.removeprefix("W/") in tags
    since = _timestamp(if_modified_since) if if_modified_since else None
    return since is not None and modified is not None and modified <= since


def _timestamp(http_date: str) -> float | None:
    """The moment an HTTP date names, or None if it names none (or more than one: RFC 9110
    13.1.3 and 13.1.4 ignore those)."""
    if http_date.count(",") > 1:
        return None
    try:
        return parsedate_to_datetime(http_date).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _precondition_failed_headers() -> list[tuple[str, str]]:
    """A 412's headers: it answers one request, and no cache keeps it."""
    return [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Cache-Control", NO_STORE),
        ("Content-Length", str(len(PRECONDITION_FAILED))),
    ]


class ResponseCache:
    """Fresh cached pages, answered by `lookup` before the framework sees the request.

    Pages are keyed by their canonical query string (`doc=<slug>`, or '' for the index)
    and `key_suffix(environ)`; entries are bounded by `max_entries` and their bodies by
    `max_bytes` (gzip and brotli forms add less than half again), whatever clients send.
    The outermost WSGI layer (observe.Observability) asks `lookup` first.
    """

    def __init__(
        self,
        max_entries: int,
        key_suffix: Callable[[dict], str] = lambda environ: "",
        max_bytes: int = 64 * 1024 * 1024,
    ):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        # Added to the query to make the key: what else a page's bytes depend on.
        self.key_suffix = key_suffix
        self._pages: dict[str, CachedPage] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def lookup(self, environ) -> tuple[str, list[tuple[str, str]], list[bytes], str] | None:
        """Status, headers, body and route ('help.page' or 'help.index') for a request that a fresh
        cached page answers; None to let the app answer."""
        if environ.get("PATH_INFO") != PAGE_PATH or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        query = environ.get("QUERY_STRING", "")
        page = self._pages.get(f"{query}|{self.key_suffix(environ)}")
        if page is None or not page.fresh():
            return None
        status, headers, body = page.answer(environ)
        return (
            status,
            headers,
            [] if environ["REQUEST_METHOD"] == "HEAD" else [body],
            "help.page" if query.startswith("doc=") else "help.index",
        )

    def page(self, key: str, make: Callable[[], CachedPage]) -> tuple[CachedPage, bool]:
        """The page cached under `key` if still fresh, else a new one from `make()`; and
        whether it came from the cache."""
        page = self._pages.get(key)
        if page is not None and page.fresh():
            return page, True
        page = make()
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            while self._pages and (
                len(self._pages) >= self.max_entries or self._bytes + len(page.body) > self.max_bytes
            ):
                # Insertion order: the oldest page goes first.
                self._bytes -= len(self._pages.pop(next(iter(self._pages))).body)
            if len(page.body) <= self.max_bytes:
                self._pages[key] = page
                self._bytes += len(page.body)
        return page, False

    def __len__(self) -> int:
        return len(self._pages)


def get_response_cache() -> ResponseCache:
    """The current app's full-page response cache."""
    return current_app.extensions["response_cache"]


def init_app(app: Flask, key_suffix: Callable[[dict], str]) -> None:
    """Give the app its response cache; `key_suffix` is what a page depends on besides its query."""
    app.extensions["response_cache"] = ResponseCache(
        app.config["RESPONSE_CACHE_ENTRIES"], key_suffix=key_suffix, max_bytes=app.config["RESPONSE_CACHE_BYTES"]
    )
