"""Routes: a help page, the help index and the error pages, all in one layout."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from itertools import groupby

import os

from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from app.config import PROJECT_ROOT
from app.documents import SLUG, Page, get_store
from app.extensions import cache_get, cache_set
from app.observe import CACHE
from app.pagecache import CachedPage, ResponseCache
from app.rendering import render_markdown
from app.search import MAX_QUERY_CHARS, get_index, page_sections

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
        abort(400)
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
        if "q" in request.args:
            return search_results(request.args.get("q", ""))
        request.environ["help.route"] = "index"
        return help_index()
    request.environ["help.route"] = "page"
    store = get_store()
    page = store.get(slug)
    if page is None:
        return page_not_found(slug)
    path = store.path_of(slug)

    def make() -> CachedPage:
        return CachedPage(rendered_page(page).encode(), page.mtime_ns / 1e9,
                          is_fresh=file_unchanged(path, page.mtime_ns, page.size))

    return respond(response_cache().page(f"doc={slug}", make))


@bp.get("/")
def home():
    """The site root leads to the help index."""
    return redirect(url_for("help.docs"), code=301)


def rendered_page(page: Page) -> str:
    """A page's full HTML, from the cache when this version was rendered before."""
    key = f"page:{layout_version()}:{page.slug}:{page.version}"
    html = cache_get(key)
    CACHE.labels("render", "miss" if html is None else "hit").inc()
    if html is None:
        rendered = render_markdown(page.body)
        # The page's own heading comes first; a table of contents, if any, goes under it.
        heading, closing, rest = rendered.html.partition("</h1>")
        if not heading.lstrip().startswith("<h1") or not closing:
            heading, closing, rest = "", "", rendered.html
        with_prose = set(page_sections(page.body)[0])
        sections = [h for h in rendered.headings if h[0] == 2 and h[2] in with_prose]
        html = render_template(
            "page.html", page=page, heading=Markup(heading + closing), content=Markup(rest),
            # Only pages with several sections of prose (chip groups do not count) get one.
            contents=sections if len(sections) >= 3 else [],
            canonical=canonical_url(url_for("help.docs", doc=page.slug)),
        )
        cache_set(key, html)
    return html


def help_index() -> Response:
    """Every page, grouped by category, cached until a page changes."""
    store = get_store()
    fingerprint = store.fingerprint()

    def make() -> CachedPage:
        key = f"index:{layout_version()}:{fingerprint}"
        html = cache_get(key)
        if html is None:
            html = render_template("index.html", categories=categories(store.pages()),
                                   canonical=canonical_url(url_for("help.docs")))
            cache_set(key, html)
        newest = max((p.mtime_ns for p in store.pages()), default=0)
        return CachedPage(html.encode(), newest / 1e9, is_fresh=lambda: store.fingerprint() == fingerprint)

    return respond(response_cache().page("", make))


def search_results(query: str) -> Response:
    """The search page: results for `q`, or just the search box when it is empty."""
    request.environ["help.route"] = "search"
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    hits = get_index().search(query) if query else []
    response = current_app.make_response(render_template("search.html", query=query, hits=hits))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def page_not_found(slug: str) -> Response:
    """A 404 for an unknown slug that suggests the pages its author probably meant."""
    store = get_store()
    slugs = [page.slug for page in store.pages()]
    suggested = difflib.get_close_matches(slug, slugs, n=3, cutoff=0.6)
    suggested += [hit.page.slug for hit in get_index().search(slug.replace("-", " "), limit=5)]
    pages = [page for page in (store.get(s) for s in dict.fromkeys(suggested)) if page][:5]
    title, text = ERROR_TEXTS[404]
    response = current_app.make_response((render_template(
        "error.html", title=title, text=text, suggestions=pages,
        categories=[] if pages else way_on(store)), 404))
    response.headers["Cache-Control"] = "no-store"
    return response


def canonical_url(path: str) -> str | None:
    """The absolute URL of `path` on the public site, when PUBLIC_BASE_URL says where that is.

    Never built from the request's Host header: pages are cached and shared, and a forged
    host must not end up in them.
    """
    base = current_app.config["PUBLIC_BASE_URL"]
    return f"{base}{path}" if base else None


def file_unchanged(path, mtime_ns: int, size: int) -> Callable[[], bool]:
    """A check, run on every cache hit, that the file at `path` still has this mtime and size."""
    def check() -> bool:
        try:
            stat = os.stat(path)
        except OSError:
            return False
        return stat.st_mtime_ns == mtime_ns and stat.st_size == size
    return check


def respond(page: CachedPage) -> Response:
    """A Flask response for a cached page, following the same rules as the fast path."""
    status, headers, body = page.answer(request.environ)
    request.environ.setdefault("help.cache", "miss")
    return Response(body, status=int(status[:3]), headers=headers)


def response_cache() -> ResponseCache:
    """The current app's full-page response cache."""
    return current_app.extensions["response_cache"]


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


def _digest_layout(public_base_url: str) -> str:
    digest = hashlib.sha256(public_base_url.encode())
    for folder in ("templates", "static", "app"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".html", ".css", ".svg", ".py"):
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def handle_http_error(error: HTTPException):
    """Every HTTP error as a page in the shared layout, in Norwegian."""
    code = error.code or 500
    response = current_app.make_response((error_page(code, error), code))
    response.headers["Cache-Control"] = "no-store"
    if error.response is None and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def error_page(code: int, error: HTTPException) -> str:
    """The page for an error status; the same for every request, so rendered once per docs version."""
    store = get_store()
    key = (code, store.fingerprint() if code == 404 else "")
    pages = current_app.extensions["error_pages"]
    if pages.get(code, (None,))[0] != key:
        title, text = ERROR_TEXTS.get(code, (error.name, error.description))
        pages[code] = (key, render_template("error.html", title=title, text=text,
                                            categories=way_on(store) if code == 404 else []))
    return pages[code][1]


def label_route() -> None:
    """Name the route for metrics and logs; views refine it."""
    request.environ["help.route"] = request.endpoint or "unmatched"


def way_on(store) -> list[tuple[str, list[Page]]]:
    """A way on from a dead link: the first category's pages (at most eight)."""
    return [(name, group[:8]) for name, group in categories(store.pages())[:1]]


def init_app(app: Flask) -> None:
    """Register the routes and error pages."""
    app.extensions["layout_version"] = _digest_layout(app.config["PUBLIC_BASE_URL"])
    app.extensions["error_pages"] = {}
    app.extensions["response_cache"] = app.wsgi_app = ResponseCache(
        app.wsgi_app, app.config["RESPONSE_CACHE_ENTRIES"])
    app.register_blueprint(bp)
    app.before_request(label_route)
    app.register_error_handler(HTTPException, handle_http_error)
