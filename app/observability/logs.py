"""The process's log: JSON lines (or plain text) on stdout, access lines included."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import traceback

from flask import has_request_context, request
from flask.logging import default_handler

from app.observability.recorder import RECORDER


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
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Flask gives the app's logger ("app", the package's own) a plain handler of its own when
    # it is made before this: each error was written twice, once as JSON and once as text.
    logging.getLogger("app").removeHandler(default_handler)
    if threading.excepthook is not _log_thread_exception:
        _installed_before[:] = [threading.excepthook]
        threading.excepthook = _log_thread_exception


_installed_before: list = []  # the hook ours replaced: another tool's is still called


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    """An exception no thread caught, as an error line of the log rather than a traceback on
    stderr among the JSON lines (Python's own hook, which wrote that, is not called; a hook
    another tool installed, a test runner's or an error tracker's, still is). limits'
    in-memory store, which the rate limits used before app/guards/counters.py, printed such
    tracebacks under load (two expiry timers at once)."""
    if args.exc_type is not SystemExit:
        name = args.thread.name if args.thread else "?"
        logging.getLogger("app.threads").error(
            "uncaught exception in thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
        )
    if _installed_before and _installed_before[0] is not threading.__excepthook__:
        _installed_before[0](args)
