"""The WSGI entry point for production servers: `python -m app.serve` runs granian on it."""

import gc

from app import create_app
from app.observability.logs import configure_logging

app = create_app()
# Process-wide: the root logger's handler and the access log's format, once per process.
configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
# What was loaded at start-up lives as long as the worker: keep the garbage collector
# from scanning it again on every full collection.
gc.freeze()
