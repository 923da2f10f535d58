"""The Avatarify help centre: a Flask app serving Markdown help pages."""

from __future__ import annotations

from flask import Flask

from app.config import PROJECT_ROOT, Config, validate
from app.extensions import cache


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

    from app import documents, views, checks

    documents.init_app(app)
    cache.init_app(app)
    views.init_app(app)
    checks.init_app(app)
    return app
