"""What readers do, counted for the authors' insights: page views, searches, dead links, old
links that arrive by an alias, and context keys the app asked for that no page names.

Counting never slows reading and never fails a request. Each worker counts in memory (a
page view is one step of a counter, see Tally), and a thread writes the counts to the
database every INSIGHTS_FLUSH_SECONDS, one transaction per batch. A batch the database
does not take (it is down, locked or slow) stays in memory and is written with the next
one: an outage loses nothing while the worker lives. A worker writes its counts as it
stops; one killed outright during an outage loses the batch it held. What waits is
bounded: at most MAX_KEYS different keys of each kind, and what does not fit is counted
in `help_insights_dropped_total`.

Nothing is counted while insights are off (INSIGHTS_USERS empty): what nobody may read is
not kept. A search is stored normalized and with what looks like personal data (e-mail
addresses, phone numbers, long digit runs) replaced; its readers are told apart by a hash
of the day's salt, the client's network (never its headers, which a client chooses) and
the query, written only at flush time and deleted after its day. Dead links are bounded
in the database too: INSIGHTS_DEAD_LINKS_PER_DAY slugs and MAX_REFERRERS hosts a slug a
day, the rest counted together; dead context keys alike, with the app's platform and
version in place of a host (and never who asked). One client brings only its share of those
lists (CLIENT_SHARES), and crawlers and pages fetched ahead are not counted at all
(app.guards.crawlers).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from itertools import count
from multiprocessing.util import Finalize
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from prometheus_client import Counter as Metric
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.guards.clients import client_network, peer_network
from app.guards.crawlers import by_a_reader
from app.privacy import redacted, was_redacted
from app.readers.count_batches import DROPPED, MAX_KEYS, Batch, CountWriter, add_count
from app.readers.group_commit import write_lock_file, write_turn
from app.readers.identity import DailySalts, daily_salts
from app.readers.models import OTHER_SLUGS, db

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
# Readers whose view of a page a worker remembers in a day (a hash each, about 60 bytes): a
# reader's view counts once a day per worker. Past it the worker starts afresh, so that
# memory stays bounded; one client alone reaches it only on a site of 50,000 pages. Its
# searches, dead links, old links and unknown places are remembered apart, as many, and
# so are the names brought under their own (CLIENT_SHARES): a client making up links
# fills those, never the memory of who has read what.
MAX_SEEN = 100_000
# Different missing pages, unknown places in the app and queries that one client (its network)
# brings in a day, in a worker, under their own names. Past its share, its requests count with
# the day's others, as past INSIGHTS_DEAD_LINKS_PER_DAY and INSIGHTS_SEARCHES_PER_DAY: one
# client alone cannot fill a day's list and push the readers' own entries out of it. A reader
# asks for a few; a whole office behind one address, some dozens.
CLIENT_SHARES = {"dead link": 50, "context": 50, "search": 200}
HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")

FLUSH_FAILURES = Metric(
    "help_insights_flush_failures", "Batches of insights the database did not take (kept for the next)"
)


def normalized_query(query: str) -> str:
    """A query as authors see it: NFKC, lower case, single spaces, no control characters,
    personal data replaced."""
    text = " ".join(unicodedata.normalize("NFKC", query).casefold().split())
    text = "".join(char for char in text if unicodedata.category(char)[0] != "C")
    return redacted(text)[:MAX_QUERY_CHARS]


def referring_host(referrer: str | None) -> str:
    """The host of a Referer header, lower case, or "" (none, or not a host name): never its path."""
    if not referrer:
        return ""
    try:
        host = urlsplit(referrer[:2000]).hostname or ""
    except ValueError:
        return ""
    return host if HOST.fullmatch(host) else ""


class Tally:
    """One worker's counts, and the thread that writes them (started by the first count).

    A page view is on every cached page's path, so it takes no lock: each page and language
    has an `itertools.count`, and a reader's first view of it in the day (a hash of the
    client's network, the page and the language, remembered in a set; MAX_SEEN) steps the
    counter, one step under the GIL: one client reloading a page adds one view a day in each
    worker. The flush reads each counter by the same step and counts the views since its
    last reading for the day of the flush: a view in the last seconds before midnight (UTC)
    may count for the next day, and the readers seen are forgotten when the day changes. A
    lock and a dict increment per view took 3.3 µs, more than the rest of a cache hit (2.6
    µs); the reader's hash and the set add 0.3 µs in process.
    """

    def __init__(
        self,
        engine: Engine,
        flush_seconds: float,
        min_clients: int,
        salts: DailySalts,
        dead_links_per_day: int = 1000,
        searches_per_day: int = 5000,
        proxy_hops: int = 0,
    ):
        self.engine = engine
        self.flush_seconds = flush_seconds
        self.min_clients = min_clients
        self.writer = CountWriter(min_clients, dead_links_per_day, searches_per_day)
        self.lock_file = write_lock_file(engine)  # SQLite: the writers of all processes take turns on it
        self.salts = salts  # the day's salt of reader hashes, shared with feedback
        self.proxy_hops = proxy_hops  # TRUSTED_PROXY_HOPS: views are counted before ProxyFix runs
        self._views: dict[tuple[str, str], count] = {}  # (slug, lang) -> its views since the start
        self._views_read: dict[tuple[str, str], int] = {}  # (slug, lang) -> the counter's value last read
        self._seen: set[int] = set()  # the readers whose views were counted today (hashes)
        self._asked: set[int] = set()  # the readers' searches, dead links and such counted today
        self._named: set[int] = set()  # what some client brought under its own name today
        self._shares: dict[tuple, int] = {}  # (client, kind) -> its different ones named today
        self._seen_day = _today()
        self._batch = Batch()  # searches and dead links
        self._failed = Batch()  # what the database did not take, written with the next batch
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._pid = None
        self._stop = threading.Event()

    def view_counter(self, slug: str, lang: str) -> Callable[[dict], None] | None:
        """What a page calls with the request's environ each time it is shown; None (its views
        not counted) past MAX_KEYS pages."""
        self._start()
        with self._lock:
            counter = self._views.get((slug, lang))
            if counter is None:
                if len(self._views) >= MAX_KEYS:
                    DROPPED.labels("views").inc()
                    return None
                counter = self._views[slug, lang] = count()
                self._views_read[slug, lang] = 0
        step, hops = counter.__next__, self.proxy_hops

        def viewed(environ: dict) -> None:
            address = environ.get("REMOTE_ADDR") or ""
            # The server's own IPv4 peer is its network as it stands (matching it took 0.5 µs).
            if hops or ":" in address:
                address = peer_network(environ, hops)
            reader = hash((address, slug, lang))
            seen = self._seen
            # A crawler's look, or a page fetched ahead, is not remembered: the reader's own
            # view from the same network that day is counted.
            if reader not in seen and by_a_reader(environ):
                if len(seen) >= MAX_SEEN:
                    seen = self._seen = set()
                seen.add(reader)
                step()

        return viewed

    def count_search(self, query: str, lang: str, results: int, corrected: str | None, client: bytes) -> None:
        """A reader searched (`client`: a digest of who, kept in memory until the flush): its
        first search of the query today (in this worker) counts, as a view does, so that one
        client repeating a query cannot push it up the authors' lists."""
        text = normalized_query(query)
        key = (_today(), lang, text)
        # A correction is made of the words as typed, split apart where redaction would have
        # seen an address ("kari@example.no" as "kari example no"): none is kept for a query
        # that had something redacted.
        corrected = normalized_query(corrected) if corrected and not was_redacted(text) else None
        with self._lock:
            reader = hash((client, "search", key))
            if reader in self._asked:
                return
            self._remember(reader)
            if not self._share(client, "search", key):
                key = (key[0], lang, "")  # past the client's share: with the day's others
            searched = self._batch.searched(key)
            if searched is None:
                return
            searched.searches += 1
            searched.no_results += results == 0
            if key[2]:
                searched.results = results
                searched.corrected = corrected
                if len(searched.clients) < self.min_clients:  # enough to pass the threshold
                    searched.clients.add(client)
        self._start()

    def first(self, client: str | None, *what) -> bool:
        """Whether this is the first request for `what` today (in this worker) of `client`
        (its network; None: count it), as a view is: one client repeating a dead link, an old
        link or an unknown place in the app counts once, not as often as it likes."""
        if client is None:
            return True
        reader = hash((client, *what))
        with self._lock:
            if reader in self._asked:
                return False
            self._remember(reader)
        return True

    def _remember(self, reader: int) -> None:
        """Remember a reader's first request of something today (the caller holds the lock)."""
        if len(self._asked) >= MAX_SEEN:
            self._asked = set()
        self._asked.add(reader)

    def _share(self, client, kind: str, key: tuple) -> bool:
        """Whether `key`, a `kind` that `client` (None: anyone) asked for, is counted under its
        own name: one some client brought so today is, and otherwise the client takes one of
        its share (CLIENT_SHARES), if it has one left. The caller holds the lock."""
        named = hash((kind, key))
        if client is None or named in self._named:
            return True
        taken = self._shares.get((client, kind), 0)
        if taken >= CLIENT_SHARES[kind]:
            return False
        if len(self._shares) >= MAX_SEEN:
            self._shares = {}
        if len(self._named) >= MAX_SEEN:
            self._named = set()
        self._shares[client, kind] = taken + 1
        self._named.add(named)
        return True

    def count_dead_link(self, slug: str, referrer: str, suggestion: str, client: str | None = None) -> None:
        """Someone asked for a page that does not exist, from `referrer` (a host, or ""); a
        phone number or long digit run in the slug is redacted as in a search."""
        key = (_today(), redacted(slug), referrer)
        if not self.first(client, "dead link", *key):
            return
        with self._lock:
            if not self._share(client, "dead link", key):
                key, suggestion = (key[0], OTHER_SLUGS, ""), ""
            if add_count(self._batch.dead_links, key, 1, "dead_links"):
                self._batch.suggestions[key] = suggestion
        self._start()

    def count_alias_hit(self, alias: str, page: str, client: str | None = None) -> None:
        """Someone followed an old link: `alias`, which leads to `page`."""
        if not self.first(client, "alias", _today(), alias):
            return
        with self._lock:
            add_count(self._batch.alias_hits, (_today(), alias, page), 1, "alias_hits")
        self._start()

    def count_dead_context(self, key: str, platform: str, app_version: str, client: str | None = None) -> None:
        """The app asked for help with a place no page names (`platform` and `app_version`
        checked by the caller); a long digit run in the key is redacted as in a search."""
        if not self.first(client, "context", _today(), key, platform, app_version):
            return
        counted = (_today(), redacted(key), platform, app_version)
        with self._lock:
            if not self._share(client, "context", counted):
                counted = (counted[0], OTHER_SLUGS, "", "")
            add_count(self._batch.dead_contexts, counted, 1, "dead_contexts")
        self._start()

    def _start(self) -> None:
        """The writer thread of this process (a worker forked from a parent gets its own)."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._pid = os.getpid()
                    threading.Thread(target=self._flush_forever, name="insights-writer", daemon=True).start()
                    # The last counts are written as the process ends. granian's workers are
                    # multiprocessing processes: they end with os._exit after running these
                    # finalizers, never atexit's handlers (which run these too elsewhere).
                    Finalize(None, self.flush, exitpriority=10)

    def _flush_forever(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def stop(self) -> None:
        """Stop the writer thread after its current batch (the counts left are not written)."""
        self._stop.set()

    def flush(self) -> bool:
        """Write what was counted, with any batch the database did not take before; whether it was written."""
        with self._flushing:
            with self._lock:
                batch, self._batch = self._batch, Batch()
                counters = list(self._views.items())
            today = _today()
            if today != self._seen_day:
                self._seen, self._asked, self._named, self._shares = set(), set(), set(), {}
                self._seen_day = today
            for key, counter in counters:
                seen = next(counter)  # the views so far; reading adds one, left out next time
                if seen > self._views_read[key]:
                    batch.views[(today, *key)] = seen - self._views_read[key]
                self._views_read[key] = seen + 1
            pending, self._failed = self._failed, Batch()
            pending.merge(batch, self.min_clients)
            if not pending:
                return True
            try:
                # Salts first: a new day's salt is written by a transaction of its own.
                salts = {day: self.salts.of(day) for day, _, _ in pending.searches}
                with write_turn(self.lock_file), self.engine.begin() as connection:
                    self.writer.write(connection, pending, salts)
                return True
            except (SQLAlchemyError, OSError):  # OSError: SQLite's file or its lock file is gone
                FLUSH_FAILURES.inc()
                log.warning(
                    "insights not written (kept for the next batch): the database did not take them", exc_info=True
                )
                self._failed = pending
                return False


def _today() -> date:
    """Today in UTC."""
    return datetime.now(UTC).date()


def reader_client() -> bytes:
    """Who sent the current request, as a digest of its network kept in memory only (salted
    before it is stored). Never its headers: one address with three user agents is one reader."""
    return hashlib.sha256(client_network().encode()).digest()


def counting() -> Tally | None:
    """The tally, when insights are on and the request is one to count: a HEAD (a link
    checker's, a monitor's) asks whether something is there, and nobody read or searched; a
    crawler or a fetch ahead of the reader is no reader (app.guards.crawlers)."""
    tally = current_app.extensions.get("tally")
    if tally is None or request.method == "HEAD" or not by_a_reader(request.environ):
        return None
    return tally


def count_search(query: str, lang: str, total: int, corrected: str | None) -> None:
    """Count a search the current request made (`total` results, and its correction), when insights are on."""
    tally = counting()
    if tally is not None and query:
        tally.count_search(query, lang, total, corrected, reader_client())


def count_dead_link(slug: str, suggestion: str) -> None:
    """Count the current request for a page that does not exist, when insights are on."""
    tally = counting()
    if tally is not None:
        tally.count_dead_link(slug, referring_host(request.headers.get("Referer")), suggestion, client_network())


def count_alias_hit(alias: str, page: str) -> None:
    """Count a request that arrived by an old slug, when insights are on."""
    tally = counting()
    if tally is not None:
        tally.count_alias_hit(alias, page, client_network())


def count_dead_context(key: str, platform: str, app_version: str) -> None:
    """Count a request for a context key that no page names, when insights are on."""
    tally = counting()
    if tally is not None:
        tally.count_dead_context(key, platform, app_version, client_network())


def view_counter(slug: str, lang: str) -> Callable[[dict], None] | None:
    """What counts one view of a page (for its CachedPage), or None while insights are off."""
    tally = current_app.extensions.get("tally")
    return tally.view_counter(slug, lang) if tally is not None else None


def init_app(app: Flask) -> None:
    """Count for insights when they are on."""
    if not app.config["INSIGHTS_USERS"]:
        return
    with app.app_context():
        engine = db.engine
    app.extensions["tally"] = Tally(
        engine,
        app.config["INSIGHTS_FLUSH_SECONDS"],
        app.config["INSIGHTS_MIN_CLIENTS"],
        daily_salts(app),
        app.config["INSIGHTS_DEAD_LINKS_PER_DAY"],
        app.config["INSIGHTS_SEARCHES_PER_DAY"],
        app.config["TRUSTED_PROXY_HOPS"],
    )
