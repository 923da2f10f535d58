"""Start the production server: `python -m app.serve`, as `make run` and the container do.

The settings and every document are checked here first, so a bad value stops the
process with one line and a non-zero status before any port is opened. Then the
process becomes granian (exec), which serves `wsgi:app` and receives the signals.
"""

from __future__ import annotations

import os
import sys
import tempfile

from app.config import Config, ConfigError, validate
from app.documents import load_libraries

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
    "GRANIAN_BLOCKING_THREADS": "8",
    # On SIGTERM, in-flight requests get this long to finish before workers are killed.
    "GRANIAN_WORKERS_KILL_TIMEOUT": "20",
}


def check() -> None:
    """Raise ConfigError for a bad setting or a page that fails to load, as the app would."""
    settings = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    validate(settings)
    load_libraries(settings["DOCS_DIR"])


def main() -> int:
    try:
        check()
    except ConfigError as exc:
        print(f"avatarify-help: cannot start: {exc}", file=sys.stderr)
        return 2
    for name, value in SERVER_DEFAULTS.items():
        os.environ.setdefault(name, value)
    # Workers are separate processes: Prometheus metrics are summed through files here.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="help-metrics-"))
    os.execv(sys.executable, [sys.executable, "-m", "granian", "wsgi:app"])


if __name__ == "__main__":
    sys.exit(main())
