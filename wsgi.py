"""The WSGI entry point for production servers: `python -m app.serve` runs granian on it."""

import gc

from app import create_app

app = create_app()
# What was loaded at start-up lives as long as the worker: keep the garbage collector
# from scanning it again on every full collection.
gc.freeze()
