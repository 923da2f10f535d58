"""The Avatarify help centre: a Flask app serving Markdown help pages."""

from __future__ import annotations

from flask import Flask

from app.config import PROJECT_ROOT, Config, validate
from app.extensions import cache
from app.observe import Observability, configure_logging, security_headers


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: defaults, then the environment (via Config), then `overrides`."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(Config)
    if overrides:
        app.config.update(overrides)
    validate(app.config)
    # The debugger runs code sent by the browser: no setting or variable turns it on here.
    app.config["DEBUG"] = False
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    from app import api, checks, documents, health, search, seo, views

    documents.init_app(app)
    search.init_app(app)
    cache.init_app(app)
    views.init_app(app)
    health.init_app(app)
    seo.init_app(app)
    api.init_app(app)
    checks.init_app(app)
    # Outermost, so that responses from the page cache get the same headers, logs and metrics.
    app.wsgi_app = Observability(app.wsgi_app, security_headers(app.config),
                                 fast_path=app.extensions["response_cache"].lookup)
    return app
