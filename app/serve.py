"""Start the production server: `python -m app.serve`, as `make run` and the container do.

The settings and every document are checked here first, and the feedback database is
migrated to the current schema, so a bad value or an unreachable database stops the
process with one line and a non-zero status before any port is opened (a page that fails
to load is reported and answered with 503 instead, unless STRICT_START is on). SIGTERM or
SIGINT meanwhile stop it at once, with status 0 (see StartUp). Then this process
runs granian serving `wsgi:app`: granian forks the workers from it, so they start with the
app's code and the checked pages already in memory (shared with this process until one of
them writes to it) instead of importing and reading everything again. Meanwhile it prunes
what readers left past its retention (comments, salts, rare searches, old counts: see
app/readers/retention.py) once a day, and when the server has stopped it removes the
metrics folder it made.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import logging
import multiprocessing
import os
import pkgutil
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from flask import Flask

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
    "GRANIAN_LOG_CONFIG": os.path.join(os.path.dirname(__file__), "granian-logging.json"),
    # On SIGTERM, in-flight requests get this long to finish before workers are killed: below
    # the 10 s that docker stop and compose wait before SIGKILL, with time for the rest of the
    # stop (measured: under 0.2 s). The slowest page renders in about a second.
    "GRANIAN_WORKERS_KILL_TIMEOUT": "8",
}
PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal for the child when its parent dies
# A worker whose launcher is gone ends this long after, whatever its own stop is doing: the
# in-flight requests' time (GRANIAN_WORKERS_KILL_TIMEOUT) and a little more.
ORPHAN_SECONDS = 10
# A migration under way when the launcher is stopped gets this long to finish before it is
# killed: on SQLite each statement of a migration commits alone (Alembic: "non-transactional
# DDL"), and one cut in the middle leaves tables that the next start cannot create again.
# Measured in the container: 0.3 s to make a new database, Alembic's import included. Kept
# well inside the 3 s a stop during the start may take.
MIGRATION_STOP_SECONDS = 1.5


class StartUp:
    """The launcher until granian runs: SIGTERM and SIGINT stop it at once, with status 0.

    Python leaves SIGTERM to its default action, and the kernel drops such a signal sent to
    PID 1, which the launcher is in a container: `docker stop` during the start waited its
    10 s and killed it. Set on the first line of main(), these handlers stop the processes
    that read pages or migrate (a migration under way first gets MIGRATION_STOP_SECONDS to
    finish), remove the metrics folder and exit. granian replaces them with its own before
    it forks the workers.
    """

    def __init__(self):
        self.launcher = os.getpid()
        self.metrics_dir: str | None = None
        self.migration: Future | None = None
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)

    def stop(self, signum: int, frame) -> None:
        if os.getpid() != self.launcher:  # a forked process that has not set its own handlers yet
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        # os.write, not print: the signal may have come in the middle of a print.
        os.write(2, f"avatarify-help: {signal.Signals(signum).name} while starting: stopped\n".encode())
        deadline = time.monotonic() + MIGRATION_STOP_SECONDS
        while self.migration is not None and not self.migration.done() and time.monotonic() < deadline:
            time.sleep(0.02)
        children = multiprocessing.active_children()
        for child in children:
            child.kill()
        for child in children:
            child.join(1)
        if self.metrics_dir:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
        os._exit(0)  # at once: no waiting for pools and threads at exit


def _stop_with_launcher(launcher: int) -> None:
    """In a worker, just forked: stop when the launcher stops, even when it is killed
    outright (SIGKILL cannot be passed on).

    Until granian sets the worker's own handlers, SIGTERM and SIGINT do what they do by
    default: the launcher's handlers, inherited, would only set a flag the worker never reads.
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    with suppress(OSError, AttributeError):  # not Linux: the signals above still reach it
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != launcher:  # it was gone before the line above
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=_end_when_orphaned, args=(launcher,), name="launcher-watch", daemon=True).start()


def _end_when_orphaned(launcher: int, seconds: float = ORPHAN_SECONDS) -> None:
    """In a worker: end it `seconds` after its launcher is gone, if SIGTERM has not.

    granian's worker can hang in its SIGTERM handler: once in about 40 runs of the test that
    SIGKILLs the launcher, a worker was still there 25 minutes on, its main thread in
    granian/_signals.py's handler (py-spy), setting the event its main loop waits on.
    """
    while os.getppid() == launcher:
        time.sleep(1)
    time.sleep(seconds)
    os._exit(1)


class DeliberateThreadCount(logging.Filter):
    """Drop granian's start-up warning about the thread count: ours is measured (see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Configuration allows spawning up to")


def warnings_for(settings: dict) -> list[str]:
    """What is allowed but unsafe in production."""
    found = []
    urls = [("RATELIMIT_STORAGE_URI", settings["RATELIMIT_STORAGE_URI"])]
    if settings["CACHE_TYPE"] == "RedisCache":
        urls.append(("CACHE_REDIS_URL", settings["CACHE_REDIS_URL"]))
    for name, url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("redis", "rediss") and not parts.password:
            found.append(
                f"{name} has no password: anyone who reaches that Redis can read and fill it "
                "(see the README's section on Redis)"
            )
    return found


def check_preview(settings: dict) -> None:
    """ConfigError when a preview (drafts shown: PREVIEW) would listen beyond this machine,
    unless PREVIEW_ALLOW_PUBLIC says so (a production-looking PUBLIC_BASE_URL is refused by
    the settings' own check)."""
    from app.config import LOOPBACK_HOSTS, ConfigError

    host = os.environ.get("GRANIAN_HOST", SERVER_DEFAULTS["GRANIAN_HOST"])
    if settings["PREVIEW"] and not settings["PREVIEW_ALLOW_PUBLIC"] and host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"PREVIEW=true shows drafts, and GRANIAN_HOST={host!r} would serve them beyond this machine: "
            "bind 127.0.0.1, or set PREVIEW_ALLOW_PUBLIC=true if that is meant"
        )


def check_synonyms(settings: dict) -> None:
    """ConfigError if the docs folder's synonyms file is broken, as check-docs says it."""
    from app.config import ConfigError
    from app.search.synonyms import SynonymError, read_synonyms

    try:
        read_synonyms(settings["DOCS_DIR"])
    except SynonymError as exc:
        raise ConfigError(str(exc)) from None


def metrics_folder() -> str | None:
    """Make the folder the workers' metrics are summed through, unless PROMETHEUS_MULTIPROC_DIR
    names one (None then); ConfigError if there is no writable place for it."""
    from app.config import ConfigError

    named = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if named:
        if not (os.path.isdir(named) and os.access(named, os.W_OK | os.X_OK)):
            raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR={named!r} is not a writable folder")
        return None
    try:
        made = tempfile.mkdtemp(prefix="help-metrics-")
    except OSError:  # tempfile found no writable folder: TMPDIR, /tmp, /var/tmp, /usr/tmp, the working folder
        raise ConfigError(
            f"no writable folder for the workers' metrics (uid {os.getuid()} tried TMPDIR, /tmp, "
            "/var/tmp and the working folder): mount a tmpfs on /tmp (docker run --tmpfs /tmp), "
            "or set TMPDIR or PROMETHEUS_MULTIPROC_DIR to a writable folder"
        ) from None
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return made


def check_database_folder(settings: dict) -> None:
    """ConfigError naming the place, the user and what to do when an SQLite database cannot
    be written there (SQLite only said "unable to open database file"). SQLite writes its
    journal beside the file: the folder must be writable too."""
    from flask import Flask
    from sqlalchemy.engine import make_url

    from app.config import ConfigError
    from app.readers.database import database_url

    url = make_url(database_url(settings, Flask("app").instance_path))  # the folder database_app uses
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = os.path.abspath(url.database)
    where = os.path.dirname(path)
    while not os.path.exists(where):  # a missing folder is made: its nearest parent must be writable
        where = os.path.dirname(where)
    otherwise = "or set DATABASE_URL to another place or to PostgreSQL"
    if not os.path.isdir(where):
        raise ConfigError(f"the feedback database {path} cannot be written: {where} is not a folder; {otherwise}")
    place = None if os.access(where, os.W_OK | os.X_OK) else where
    if place is None and os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        place = path
    if place is None:
        return
    uid, gid = os.getuid(), os.getgid()
    if os.statvfs(place).f_flag & os.ST_RDONLY:
        why = (
            f"is on a read-only file system (this runs as uid {uid}): mount a writable volume there that "
            f"uid {uid} may write (chown {uid}:{gid})"
        )
    else:
        why = (
            f"is not writable by uid {uid} (gid {gid}), the user this runs as: give it to that user "
            f"(chown {uid}:{gid} the volume, or the bind-mounted folder on the host)"
        )
    raise ConfigError(f"the feedback database {path} cannot be written: {place} {why}; {otherwise}")


def prepare_database(settings: dict, start: StartUp | None = None) -> Flask:
    """Bring the feedback database's schema up to date (Alembic); ConfigError if it cannot
    be. The migration runs in a forked process: Alembic's 11 MB leave with it, and the
    workers, forked from this process, never carry them. Returns the database-only app
    the daily pruning uses."""
    from app.config import ConfigError
    from app.readers.database import database_app

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        migration = pool.submit(_migrate, settings)
        if start:
            start.migration = migration
        try:
            failure = migration.result()
        except BrokenProcessPool:
            failure = "the process migrating it ended before it was done"
    if failure:
        raise ConfigError(f"the feedback database cannot be brought up to date: {failure}")
    return database_app(settings)


def _migrate(settings: dict) -> str:
    """In a forked process: migrate, and say what went wrong in one line ('' if nothing).
    A stop (SIGTERM, or a terminal's SIGINT to every process) is the launcher's to decide:
    it lets a migration under way finish first (StartUp.stop)."""
    from app.readers.database import database_app, upgrade_database

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    try:
        upgrade_database(database_app(settings))
    except Exception as exc:  # noqa: BLE001 - any failure: say it in one line and stop
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ""


def import_app() -> list[str]:
    """Import every module of the app, its packages' modules too, and so what they use: the
    workers, forked from this process, inherit them instead of each importing its own.
    The names of the modules imported."""
    import app

    names = []
    # walk_packages, not iter_modules: that lists the top level only, and the packages'
    # modules would be imported after the fork, in every worker.
    for module in pkgutil.walk_packages(app.__path__, prefix="app."):
        # Never Alembic's environment: importing it runs the migrations.
        if not module.name.startswith("app.migrations"):
            importlib.import_module(module.name)
            names.append(module.name)
    return names


def serve(start: StartUp | None = None) -> int:
    """Check the settings and pages, migrate, then run granian in this process until it stops."""
    from granian.cli import cli

    from app.config import ConfigError, from_environment, validate
    from app.content.preload import ReadAhead, hand_over
    from app.operations.startup import check_address_free

    # Little made while starting is garbage: the collector waits until the end (see below).
    gc.disable()
    try:
        settings = from_environment()
        validate(settings)
        check_preview(settings)
        host, port = (os.environ.get(name, SERVER_DEFAULTS[name]) for name in ("GRANIAN_HOST", "GRANIAN_PORT"))
        check_address_free(host, port)
        # One process per core reads a share of the pages. Meanwhile this one imports the
        # rest of the app (at 10,000 pages on 2 cores, both take about a second).
        processes = len(os.sched_getaffinity(0))
        with ReadAhead(settings["DOCS_DIR"], processes=processes, drafts=settings["PREVIEW"]) as reading:
            check_synonyms(settings)
            import_app()
            library = reading.loaded(strict=settings["STRICT_START"])
        check_database_folder(settings)
        app = prepare_database(settings, start)
    except ConfigError as exc:
        return cannot_start(exc)
    for warning in warnings_for(settings):
        print(f"avatarify-help: warning: {warning}", file=sys.stderr)
    hand_over(library)
    from app.readers.retention import PRUNING, prune_daily

    # Comments past FEEDBACK_RETENTION_DAYS are deleted now and then once a day, in a thread
    # that workers are never forked in the middle of: it may hold a lock they would need.
    launcher = os.getpid()

    def in_worker() -> None:
        PRUNING.release()
        _stop_with_launcher(launcher)

    os.register_at_fork(before=PRUNING.acquire, after_in_parent=PRUNING.release, after_in_child=in_worker)
    stop_pruning = threading.Event()
    threading.Thread(target=prune_daily, args=(app, stop_pruning), name="prune", daemon=True).start()
    for name, value in SERVER_DEFAULTS.items():
        os.environ.setdefault(name, value)
    # What the workers inherit lives as long as they do: kept out of the collector's scans,
    # which would otherwise copy every page of memory they touch into each worker.
    gc.freeze()
    gc.enable()
    try:
        cli.main(["wsgi:app"], prog_name="granian", auto_envvar_prefix="GRANIAN", standalone_mode=False)
    finally:
        stop_pruning.set()
    return 0


def cannot_start(error: Exception) -> int:
    """Say why in one line on stderr; the status of a start refused."""
    print(f"avatarify-help: cannot start: {error}", file=sys.stderr)
    return 2


def main() -> int:
    start = StartUp()  # first: a stop from now on is never lost
    from app.config import ConfigError

    # Workers are separate processes: Prometheus metrics are summed through files here. The
    # variable must be set before prometheus_client is first imported, by the app's modules.
    try:
        metrics_dir = start.metrics_dir = metrics_folder()
    except ConfigError as exc:
        return cannot_start(exc)
    try:
        return serve(start)
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
