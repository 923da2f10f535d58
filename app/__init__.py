"""The Avatarify help centre: a Flask app serving Markdown help pages."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: defaults, then the environment as it is now, then `overrides`.

    Only the app is set up here; what belongs to the whole process (the root logger and
    the access log's format) is set by its entry point: wsgi.py, or a test.
    """
    # Imported here, not at the top: importing the package costs nothing, so that the
    # launcher (`python -m app.serve`, imported after this package) sets its signal
    # handlers within milliseconds of starting instead of after Flask's 0.15 s of imports.
    import click

    from app.application import HelpCentre, ProxiedAddresses
    from app.caching.fragments import cache
    from app.config import PROJECT_ROOT, from_environment, validate

    app = HelpCentre(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(from_environment())
    if overrides:
        app.config.update(overrides)
    validate(app.config)
    # The debugger runs code sent by the browser: no setting or variable turns it on here.
    app.config["DEBUG"] = False
    command = click.get_current_context(silent=True)
    if command is not None and command.command.name == "run":
        # `flask run` serves with werkzeug's development server, which logs every client's
        # address and, with --debug or --debugger, wraps any app in a debugger that runs code a
        # browser sends. In the reloader's child an error here would be shown by it: so exit.
        sys.stderr.write("flask run is not this app's server (it logs addresses, its debugger runs code): make run\n")
        raise SystemExit(2)

    # Here rather than at the top, so that importing the package stays light: the launcher
    # (app/serve.py) must set up the metrics folder before prometheus_client is imported.
    from app import presentation
    from app.caching import keys, responses
    from app.content import library
    from app.guards import limits
    from app.observability.middleware import Observability, security_headers
    from app.operations import checks, health, preview
    from app.readers import authors, counting, database, feedback, insights
    from app.search import engine, related, suggest
    from app.web import api, errors, go, see_also, seo, views

    library.init_app(app)
    engine.init_app(app)
    suggest.init_app(app)
    related.init_app(app)
    # Values in Redis are shared with every replica: signed data only, never pickles.
    backend = {"RedisCache": "app.caching.signed_redis.SignedRedisCache"}.get(app.config["CACHE_TYPE"])
    cache.init_app(app, {"CACHE_TYPE": backend} if backend else None)
    responses.init_app(app, key_suffix=presentation.negotiated_language)
    keys.init_app(app)
    limits.init_app(app)
    views.init_app(app)
    see_also.init_app(app)
    go.init_app(app)
    database.init_app(app)
    feedback.init_app(app)
    authors.init_app(app)
    insights.init_app(app)
    counting.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    seo.init_app(app)
    api.init_app(app)
    checks.init_app(app)
    preview.init_app(app)
    if app.config["TRUSTED_PROXY_HOPS"]:
        # Inside the response cache's fast path: only requests that reach Flask need the client.
        app.wsgi_app = ProxiedAddresses(app.wsgi_app, x_for=app.config["TRUSTED_PROXY_HOPS"])
    # Outermost, so that responses from the page cache get the same headers, logs and metrics.
    app.wsgi_app = Observability(
        app.wsgi_app, security_headers(app.config), fast_path=app.extensions["response_cache"].lookup
    )
    return app
