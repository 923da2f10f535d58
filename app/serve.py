"""Start the production server: `python -m app.serve`, as `make run` and the container do.

The settings and every document are checked here first, and the feedback database is
migrated to the current schema, so a bad value or an unreachable database stops the
process with one line and a non-zero status before any port is opened. Then granian
serves `wsgi:app` as a child process: this launcher passes it the stop signals, waits
for it, and removes the metrics folder it made when the server has stopped. Meanwhile it
deletes feedback comments past their retention period once a day.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import suppress
from urllib.parse import urlsplit

from flask import Flask

from app.config import PROJECT_ROOT, ConfigError, from_environment, validate
from app.db import database_app, upgrade_database
from app.documents import SNAPSHOT_VARIABLE, Library, load_library
from app.feedback import prune_daily
from app.synonyms import SynonymError, read_synonyms

# granian's settings, overridable through the same GRANIAN_* variables it reads itself.
SERVER_DEFAULTS = {
    "GRANIAN_INTERFACE": "wsgi",
    "GRANIAN_HOST": "127.0.0.1",
    "GRANIAN_PORT": "8000",
    "GRANIAN_WORKERS": "2",
    # A worker that dies is replaced instead of taking the server down.
    "GRANIAN_RESPAWN_FAILED_WORKERS": "true",
    # The app writes its own access log: one JSON line per request.
    "GRANIAN_LOG_ACCESS_ENABLED": "false",
    # Threads per worker that run the app. The interpreter runs one at a time anyway, and
    # each thread that renders keeps its own Markdown and bleach instances: a bounded pool
    # keeps memory flat (with granian's default the pool grew to 50 threads under load).
    # 8 serve about 20 % more cached pages than 5 on 2 cores, though granian warns above
    # twice the cores plus one: the log configuration below drops that one warning.
    "GRANIAN_BLOCKING_THREADS": "8",
    "GRANIAN_LOG_CONFIG": str(PROJECT_ROOT / "app" / "granian-logging.json"),
    # On SIGTERM, in-flight requests get this long to finish before workers are killed.
    "GRANIAN_WORKERS_KILL_TIMEOUT": "20",
}
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal for the child when its parent dies


def _stop_with_launcher() -> None:
    """In the server's process, before it starts: get SIGTERM if the launcher is killed
    outright (SIGKILL cannot be passed on), so no server is left running on its own."""
    with suppress(OSError, AttributeError):  # not Linux: the signals above still reach it
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class DeliberateThreadCount(logging.Filter):
    """Drop granian's start-up warning about the thread count: ours is measured (see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Configuration allows spawning up to")


def check() -> tuple[dict, Library]:
    """The checked settings and pages; ConfigError for a bad setting, a page that fails to
    load or a broken synonyms file, as the app would."""
    settings = from_environment()
    validate(settings)
    library = load_library(settings["DOCS_DIR"])
    try:
        read_synonyms(settings["DOCS_DIR"])
    except SynonymError as exc:
        raise ConfigError(str(exc)) from None
    return settings, library


def warnings_for(settings: dict) -> list[str]:
    """What is allowed but unsafe in production."""
    found = []
    urls = [("RATELIMIT_STORAGE_URI", settings["RATELIMIT_STORAGE_URI"])]
    if settings["CACHE_TYPE"] == "RedisCache":
        urls.append(("CACHE_REDIS_URL", settings["CACHE_REDIS_URL"]))
    for name, url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("redis", "rediss") and not parts.password:
            found.append(f"{name} has no password: anyone who reaches that Redis can read and fill it "
                         "(see the README's section on Redis)")
    return found


def prepare_database(settings: dict) -> Flask:
    """Bring the feedback database's schema up to date (Alembic); the app that did it."""
    app = database_app(settings)
    try:
        upgrade_database(app)
    except Exception as exc:  # noqa: BLE001 - any failure: say it in one line and stop
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"the feedback database cannot be brought up to date: {message}") from None
    return app


def main() -> int:
    try:
        settings, library = check()
        app = prepare_database(settings)
    except ConfigError as exc:
        print(f"avatarify-help: cannot start: {exc}", file=sys.stderr)
        return 2
    # Comments past FEEDBACK_RETENTION_DAYS are deleted now and then once a day.
    stop_pruning = threading.Event()
    threading.Thread(target=prune_daily, args=(app, stop_pruning), name="feedback-prune", daemon=True).start()
    for warning in warnings_for(settings):
        print(f"avatarify-help: warning: {warning}", file=sys.stderr)
    for name, value in SERVER_DEFAULTS.items():
        os.environ.setdefault(name, value)
    # Workers are separate processes: Prometheus metrics are summed through files here.
    metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="help-metrics-")
    # The pages just checked, for the workers: each would otherwise parse every one again
    # (at 10,000 pages, 2 s of each worker's start).
    snapshot_dir = tempfile.mkdtemp(prefix="help-pages-")
    os.environ[SNAPSHOT_VARIABLE] = os.path.join(snapshot_dir, "pages.json")
    library.write_snapshot(os.environ[SNAPSHOT_VARIABLE])
    try:
        server = subprocess.Popen([sys.executable, "-m", "granian", "wsgi:app"], preexec_fn=_stop_with_launcher)
        for sig in FORWARDED_SIGNALS:
            signal.signal(sig, lambda number, frame: server.send_signal(number))
        return server.wait()
    finally:
        stop_pruning.set()
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        shutil.rmtree(snapshot_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
