"""Requests recorded as they are answered, written as access log lines and added to the
metrics in batches, off the request's path."""

from __future__ import annotations

import atexit
import bisect
import collections
import functools
import itertools
import json
import logging
import multiprocessing.util
import os
import sys
import threading
import time
from time import perf_counter

from app.observability.metrics import CACHE, LATENCY, REQUESTS
from app.privacy import redacted, redacted_query_string

# Load balancers poll the first two, and an author's preview the last (four times a second): not logged.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/preview/_version"})
# The app's places (`/go/<key>`): a key is what the app or a reader wrote, redacted as a search.
GO_PREFIX = "/go/"


# Longest path and query an access line keeps; the rest is cut, and the line says how long it was.
MAX_LOGGED_CHARS = 512


class Recorder:
    """Requests recorded as tuples, turned into access log lines and metrics in batches.

    Per request this costs one deque append (atomic, no lock). Every BATCH records, and
    every FLUSH_SECONDS from a daemon thread in each process, and at a scrape of /metrics
    and the exit of a worker, the batch is written: lines reach stdout and metrics reach
    Prometheus at most FLUSH_SECONDS late.
    With several workers the metrics live in shared files, where each update takes a
    lock and a write: done once per batch instead of several times per request.
    """

    FLUSH_SECONDS = 0.2
    # Under load a request flushes every BATCH records: a pause of a fraction of a
    # millisecond, where a 0.2 s batch would hold the interpreter for several.
    BATCH = 256

    def __init__(self):
        self.log_requests = True
        self.json_lines = True
        self._records: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._bucket_of = functools.partial(bisect.bisect_left, LATENCY._upper_bounds)
        self._fields: dict[tuple, str | None] = {}  # see _line_fields
        self._started = False
        self._new_process()
        os.register_at_fork(after_in_child=self._new_process)

    def _new_process(self) -> None:
        """Fresh state for a new (forked) process: ids, and no flushing thread yet."""
        self._records.clear()
        self._started = False
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._id_prefix = os.urandom(6).hex()

    def configure(self, log_requests: bool, json_lines: bool) -> None:
        """Whether to write access lines, and as JSON or as plain text."""
        with self._lock:
            self.log_requests, self.json_lines = log_requests, json_lines
            self._fields.clear()

    def new_id(self) -> str:
        """A request id unique across processes and replicas: random per process, then a count."""
        return f"{self._id_prefix}{next(self._ids):012x}"

    def record(
        self,
        status: str,
        started: float,
        route: str,
        cache: str | None,
        method: str,
        path: str,
        query: str,
        request_id: str,
    ) -> None:
        """Note one answered request; `started` is its time.perf_counter() on arrival."""
        self._records.append(
            (status, started, perf_counter(), route, cache, method[:16], _cut(path), _cut(query), request_id)
        )
        if not self._started:
            self._start()
        elif len(self._records) >= self.BATCH:
            self.flush()

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._flush_forever, name="help-recorder", daemon=True).start()
        # Workers end through multiprocessing, which skips atexit but runs its finalizers.
        multiprocessing.util.Finalize(self, self.flush, exitpriority=10)
        atexit.register(self.flush)

    def _flush_forever(self) -> None:
        while True:
            time.sleep(self.FLUSH_SECONDS)
            try:
                self.flush()
            except Exception:  # keep flushing; the next round tries again
                logging.getLogger(__name__).exception("writing access log and metrics failed")

    def flush(self) -> None:
        """Write the log lines and add the metrics of every request recorded so far."""
        with self._lock:  # held throughout, so batches reach stdout in order
            records = [self._records.popleft() for _ in range(len(self._records))]
            if records:
                self._write(records)

    def _write(self, records: list[tuple]) -> None:
        # Requests that differ only in time, duration and id share their other fields:
        # grouped, their metrics are added per group and their line's middle is made once.
        groups: dict[tuple, tuple[str | None, list[float]]] = {}
        lines = []
        to_wall_clock = time.time() - perf_counter()
        for status, started, ended, route, cache, method, path, query, request_id in records:
            key = (status, route, cache, method, path, query)
            group = groups.get(key)
            if group is None:
                group = groups[key] = (self._line_fields(key), [])
            seconds = ended - started
            group[1].append(seconds)
            if group[0] is not None:
                lines.append(self._line(ended + to_wall_clock, group[0], seconds, request_id))
        if lines:
            _write_stdout("".join(lines).encode())
        for (status, route, cache, *_), (_, durations) in groups.items():
            REQUESTS.labels(route, status).inc(len(durations))
            # prometheus_client has no public bulk observe; these are the two values
            # Histogram.observe updates (the sum, and one non-cumulative bucket).
            child = LATENCY.labels(route)
            child._sum.inc(sum(durations))
            for bucket, count in collections.Counter(map(self._bucket_of, durations)).items():
                child._buckets[bucket].inc(count)
            if cache:
                CACHE.labels("response", cache).inc(len(durations))

    def _line_fields(self, key: tuple) -> str | None:
        """The fields of an access line that repeat between like requests; None if not logged."""
        if key in self._fields:
            return self._fields[key]
        if len(self._fields) >= 4096:  # clients choose the query: keep this bounded
            self._fields.clear()
        status, route, cache, method, path, query = key
        if not self.log_requests or path in QUIET_PATHS:
            fields = None
        else:
            # What a reader typed (a search, a page's or an app place's name) is redacted here
            # as the insights redact it: a phone number in a made-up link is no page's.
            query = redacted_query_string(query, ("q", "doc"))
            if path.startswith(GO_PREFIX):
                path = GO_PREFIX + redacted(path[len(GO_PREFIX) :])
            if self.json_lines:
                # Every string a client controls goes through the JSON string encoder.
                fields = (
                    f'"method":{_quote(method)},"path":{_quote(path)},"query":{_quote(query)},'
                    f'"status":{int(status)},"cache":"{cache or "none"}","route":"{route}"'
                )
            else:
                fields = (
                    f"{_quote(method)} {_quote(path)} query={_quote(query)} status={status} "
                    f"cache={cache or 'none'} route={route}"
                )
        self._fields[key] = fields
        return fields

    def _line(self, when: float, fields: str, seconds: float, request_id: str) -> str:
        """One access line. The request id needs no escaping: ours is hex, and a client's
        is used only if it matches REQUEST_ID."""
        if self.json_lines:
            return (
                f'{{"time":"{_utc(when)}","level":"info","event":"request",{fields},'
                f'"duration_ms":{seconds * 1000:.3f},"request_id":"{request_id}"}}\n'
            )
        return f"{_utc(when)} {fields} duration_ms={seconds * 1000:.3f} request_id={request_id}\n"


_quote = json.encoder.encode_basestring_ascii  # a JSON string literal, non-ASCII escaped


def _cut(text: str) -> str:
    """`text` as an access line keeps it: at most MAX_LOGGED_CHARS, then how long it was."""
    if len(text) <= MAX_LOGGED_CHARS:
        return text
    return f"{text[:MAX_LOGGED_CHARS]}…[{len(text)} chars]"


def _write_stdout(data: bytes) -> None:
    """Write all of `data` to stdout in as few system calls as the pipe allows."""
    fd = sys.stdout.fileno()
    while data:
        data = data[os.write(fd, data) :]


RECORDER = Recorder()


_clock = [0, ""]


def _utc(when: float) -> str:
    """A Unix time as UTC to the second; formatted once per second of log lines."""
    second = int(when)
    if _clock[0] != second:
        _clock[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))]
    return _clock[1]
