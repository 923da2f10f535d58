"""Endpoints for operators: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging
import os

from flask import Blueprint, Flask, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from app.caching.fragments import cache
from app.caching.responses import NO_STORE
from app.content.library import get_library
from app.languages import DEFAULT_LANGUAGE
from app.observability.metrics import PAGES
from app.observability.recorder import RECORDER

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process is alive and answering; checks nothing else, so it stays cheap."""
    return no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz():
    """Ready when the docs are loaded and the cache backend answers; 503 with the reason if not.
    Files that failed to load are listed: ready while at least one page loads."""
    store = get_library().stores[DEFAULT_LANGUAGE]
    pages = len(store.pages())
    PAGES.set(pages)
    problems = []
    # The reasons name no folder, host or port (anyone may ask): the log has those.
    if pages == 0:
        problems.append("no documents in DOCS_DIR")
        log.warning("not ready: no documents in %s", store.root)
    try:
        cache.cache.get("help:readyz")  # a round trip to the backend; None is the normal answer
    except Exception as exc:  # any failure of the backend means "not reachable"
        problems.append(f"cache backend {current_app.config['CACHE_TYPE']} unreachable")
        log.warning("not ready: cache backend unreachable: %s", exc)
    body = {"status": "degraded" if problems else "ready", "pages": pages, "cache": current_app.config["CACHE_TYPE"]}
    if problems:
        body["reasons"] = problems
    failed = get_library().failed()
    if failed:
        body["failed_to_load"] = failed
    return no_store(jsonify(body)), 503 if problems else 200


@bp.get("/metrics")
def metrics():
    """Prometheus metrics, summed over every worker process when the server runs several."""
    PAGES.set(len(get_library().stores[DEFAULT_LANGUAGE]))
    RECORDER.flush()
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return no_store(Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST))


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    return response


def init_app(app: Flask) -> None:
    """Register the operator endpoints."""
    app.register_blueprint(bp)
