"""Routes: a help page, the help index and the error pages, all in one layout."""

from __future__ import annotations

import hashlib
from itertools import groupby

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from app.config import PROJECT_ROOT
from app.documents import SLUG, Page, get_store
from app.extensions import cache
from app.rendering import render_markdown

bp = Blueprint("help", __name__)

MAX_SLUG_LENGTH = 100

ERROR_TEXTS = {
    400: ("Ugyldig adresse", "Adressen peker ikke på en hjelpeside vi kan vise. Sidenavn består av små bokstaver a–z, tall og bindestrek."),
    404: ("Fant ikke siden", "Vi har ingen hjelpeside med dette navnet. Kanskje den har flyttet, eller lenken er skrevet feil."),
    405: ("Ikke tillatt", "Hjelpesidene kan bare leses, ikke endres."),
    500: ("Noe gikk galt", "En feil hos oss hindret siden i å vises. Prøv igjen om litt."),
}


def requested_slug() -> str | None:
    """The `doc` parameter if it names a well-formed slug, None if absent; 400 otherwise."""
    values = request.args.getlist("doc")
    if not values:
        return None
    if len(values) > 1:
        abort(400, "doc er oppgitt flere ganger.")
    slug = values[0]
    # Checked before the pattern so that a huge value costs nothing more.
    if len(slug) > MAX_SLUG_LENGTH or not SLUG.fullmatch(slug):
        abort(400)
    return slug


@bp.get("/docs.php")
def docs():
    """A help page by `?doc=<slug>`, or the help index without it."""
    slug = requested_slug()
    if slug is None:
        return help_index()
    page = get_store().get(slug)
    if page is None:
        abort(404)
    return rendered_page(page)


@bp.get("/")
def home():
    """The site root leads to the help index."""
    return redirect(url_for("help.docs"), code=301)


def rendered_page(page: Page) -> str:
    """A page's full HTML, from the cache when this version was rendered before."""
    key = f"page:{layout_version()}:{page.slug}:{page.version}"
    html = cache.get(key)
    if html is None:
        rendered = render_markdown(page.body)
        html = render_template(
            "page.html", page=page, content=Markup(rendered.html),
            headings=[h for h in rendered.headings if h[0] == 2],
        )
        cache.set(key, html)
    return html


def help_index() -> str:
    """Every page, grouped by category, cached until a page changes."""
    store = get_store()
    key = f"index:{layout_version()}:{store.fingerprint()}"
    html = cache.get(key)
    if html is None:
        html = render_template("index.html", categories=categories(store.pages()))
        cache.set(key, html)
    return html


def categories(pages: list[Page]) -> list[tuple[str, list[Page]]]:
    """Pages grouped by category: configured categories first, then the rest by name."""
    order = {name: i for i, name in enumerate(current_app.config["CATEGORY_ORDER"])}

    def category_rank(page: Page):
        return (order.get(page.category, len(order)), page.category.casefold())

    ordered = sorted(pages, key=lambda p: (category_rank(p), p.order, p.title.casefold()))
    return [(name, list(group)) for name, group in groupby(ordered, key=lambda p: p.category)]


def layout_version() -> str:
    """A digest of the templates and stylesheet, so a new layout never meets old cache keys."""
    return current_app.extensions["layout_version"]


def _digest_layout() -> str:
    digest = hashlib.sha256()
    for folder in ("templates", "static", "app"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".html", ".css", ".svg", ".py"):
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def handle_http_error(error: HTTPException):
    """Every HTTP error as a page in the shared layout, in Norwegian."""
    code = error.code or 500
    title, text = ERROR_TEXTS.get(code, (error.name, error.description))
    response = current_app.make_response((render_template(
        "error.html", code=code, title=title, text=text,
        categories=categories(get_store().pages()) if code == 404 else [],
    ), code))
    response.headers["Cache-Control"] = "no-store"
    if error.response is None and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def init_app(app: Flask) -> None:
    """Register the routes and error pages."""
    app.extensions["layout_version"] = _digest_layout()
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, handle_http_error)
