"""What every response carries, cache hits included: security headers, a request id,
a JSON access log line and Prometheus metrics. Applied as the outermost WSGI layer."""

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
import re
import sys
import threading
import time
import traceback
from time import perf_counter

from flask import has_request_context, request
from flask.logging import default_handler
from prometheus_client import Counter, Gauge, Histogram

from app.privacy import redacted_query_string

# A client's X-Request-ID is echoed only if it is plainly an id: no spaces, quotes or
# control characters that could forge a log line or a header.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
QUIET_PATHS = frozenset({"/healthz", "/readyz"})  # load balancers poll these; not logged

REQUESTS = Counter("help_requests_total", "HTTP requests answered.", ["route", "status"])
LATENCY = Histogram(
    "help_request_duration_seconds", "Time to answer a request, in seconds.", ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
CACHE = Counter("help_cache_requests_total", "Page cache look-ups.", ["layer", "result"])
PAGES = Gauge("help_pages_loaded", "Help pages in the docs folder.", multiprocess_mode="mostrecent")
DOCUMENT_ERRORS = Counter("help_document_errors_total",
                          "Pages that failed to load or render (the others, and their last good versions, are served).",
                          ["stage"])
SHARED_CACHE_REJECTED = Counter("help_shared_cache_rejected_total",
                                "Values read from the shared cache (Redis) that failed their signature check.")
# Longest path and query an access line keeps; the rest is cut, and the line says how long it was.
MAX_LOGGED_CHARS = 512
# A plain page for when even the error page fails: nothing in it can fail.
FALLBACK_500 = ('<!doctype html><html lang="nb"><meta charset="utf-8"><title>Noe gikk galt</title>'
                "<h1>Noe gikk galt</h1><p>En feil hos oss hindret siden i å vises. Prøv igjen om litt.</p>"
                '<p lang="en">Something went wrong on our side. Please try again shortly.</p></html>').encode()


def security_headers(config) -> list[tuple[str, str]]:
    """The headers every response carries, computed once from the settings."""
    csp = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
           f"form-action 'self'; frame-ancestors {config['FRAME_ANCESTORS']}")
    headers = [
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ]
    if config["HSTS_SECONDS"]:
        headers.append(("Strict-Transport-Security", f"max-age={config['HSTS_SECONDS']}; includeSubDomains"))
    return headers


class Observability:
    """WSGI middleware: add headers and a request id, then record the request.

    A cache hit costs about 2.6 µs of Python in all, so this layer stays small:
    `fast_path` (the response cache's lookup) is asked first and answered without a
    wrapped start_response; the request is recorded as one tuple, and `Recorder` writes
    the log lines and metrics in batches.
    """

    def __init__(self, app, headers: list[tuple[str, str]], fast_path=None):
        self.app = app
        self.headers = headers
        self.fast_path = fast_path

    def __call__(self, environ, start_response):
        started = perf_counter()
        given = environ.get("HTTP_X_REQUEST_ID")
        request_id = given if given and REQUEST_ID.fullmatch(given) else RECORDER.new_id()
        answer = self.fast_path(environ) if self.fast_path else None
        if answer is not None:
            status, headers, body, route = answer
            headers += self.headers
            headers.append(("X-Request-ID", request_id))
            start_response(status, headers)
            RECORDER.record(status[:3], started, route, "hit", environ["REQUEST_METHOD"], environ["PATH_INFO"],
                            environ.get("QUERY_STRING", ""), request_id)
            return body
        environ["help.request_id"] = request_id
        answered = []

        def observed_start_response(status, headers, exc_info=None):
            answered.append(status)
            headers.extend(self.headers)
            headers.append(("X-Request-ID", request_id))
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, observed_start_response)
        except Exception:  # the app's own error handling failed: still answer, log and count
            logging.getLogger(__name__).exception("unhandled error answering %s", environ.get("PATH_INFO", "")[:200])
            if answered:
                raise  # headers went out already; the server ends the connection
            answered.append("500")
            start_response("500 Internal Server Error",
                           [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(FALLBACK_500))),
                            ("Cache-Control", "no-store"), *self.headers, ("X-Request-ID", request_id)],
                           sys.exc_info())
            body = [FALLBACK_500]
        RECORDER.record(answered[0][:3] if answered else "500", started, environ.get("help.route", "unmatched"),
                        environ.get("help.cache"), environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
                        environ.get("QUERY_STRING", ""), request_id)
        return body


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

    def record(self, status: str, started: float, route: str, cache: str | None, method: str, path: str,
               query: str, request_id: str) -> None:
        """Note one answered request; `started` is its time.perf_counter() on arrival."""
        self._records.append((status, started, perf_counter(), route, cache, method[:16], _cut(path), _cut(query),
                              request_id))
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
            # What a reader searched for is redacted here as the insights redact it.
            query = redacted_query_string(query)
            if self.json_lines:
                # Every string a client controls goes through the JSON string encoder.
                fields = (f'"method":{_quote(method)},"path":{_quote(path)},"query":{_quote(query)},'
                          f'"status":{int(status)},"cache":"{cache or "none"}","route":"{route}"')
            else:
                fields = (f"{_quote(method)} {_quote(path)} query={_quote(query)} status={status} "
                          f"cache={cache or 'none'} route={route}")
        self._fields[key] = fields
        return fields

    def _line(self, when: float, fields: str, seconds: float, request_id: str) -> str:
        """One access line. The request id needs no escaping: ours is hex, and a client's
        is used only if it matches REQUEST_ID."""
        if self.json_lines:
            return (f'{{"time":"{_utc(when)}","level":"info","event":"request",{fields},'
                    f'"duration_ms":{seconds * 1000:.3f},"request_id":"{request_id}"}}\n')
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
        data = data[os.write(fd, data):]


RECORDER = Recorder()
_clock = [0, ""]


def _utc(when: float) -> str:
    """A Unix time as UTC to the second; formatted once per second of log lines."""
    second = int(when)
    if _clock[0] != second:
        _clock[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))]
    return _clock[1]


class JsonFormatter(logging.Formatter):
    """Log records as JSON lines, with the stack trace of an exception in `error`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = "".join(traceback.format_exception(*record.exc_info))
        if has_request_context():
            entry["request_id"] = request.environ.get("help.request_id")
        return json.dumps(entry, ensure_ascii=True)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (a test's capture, say), not what it was."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(level: str, fmt: str) -> None:
    """Send the app's logs and access lines to stdout, as JSON lines or plain text."""
    RECORDER.configure(log_requests=logging.getLevelName(level.upper()) <= logging.INFO, json_lines=fmt == "json")
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Flask gives the app's logger ("app", the package's own) a plain handler of its own when
    # it is made before this: each error was written twice, once as JSON and once as text.
    logging.getLogger("app").removeHandler(default_handler)
