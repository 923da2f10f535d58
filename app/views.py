"""Routes: a help page, the help index, search and the error pages, all in one layout."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from itertools import groupby
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from rapidfuzz import fuzz, process
from werkzeug.exceptions import HTTPException

from app import api
from app.config import PROJECT_ROOT
from app.documents import (DEFAULT_LANGUAGE, LANGUAGES, SLUG, Page, find_page, get_library, page_versions, pages_in,
                           remembered)
from app.extensions import cache_get, cache_set
from app.i18n import LANGUAGE_NAMES, texts
from app.limits import not_found_limit, search_limit, spare_slot, work_slot
from app.negotiation import language_from_header, language_from_param
from app.observe import CACHE, DOCUMENT_ERRORS, FALLBACK_500
from app.pagecache import CachedPage, ResponseCache
from app.rendering import render_markdown
from app.search import MAX_QUERY_CHARS, get_index, page_sections

log = logging.getLogger(__name__)

bp = Blueprint("help", __name__)

MAX_SLUG_LENGTH = 100
THEMES = frozenset({"dark", "light"})
# Internal links in a rendered page, to carry the reader's lang, embed and theme along.
INTERNAL_HREF = re.compile(r'href="((?:\./|/)?docs\.php\?doc=[a-z0-9][a-z0-9-]*)(#[^"]*)?"')


@dataclass(frozen=True)
class Presentation:
    """How a request wants pages shown: language, embedded in the app or not, theme."""

    lang: str  # the reader's language: the layout's words, and the pages when they exist
    explicit_lang: bool  # chosen by `lang=` (kept in links) rather than by Accept-Language
    embed: bool
    theme: str | None

    @classmethod
    def of_request(cls) -> Presentation:
        """Read `lang`, `embed` and `theme`; values that mean nothing are ignored."""
        chosen = language_from_param(request.args.get("lang"))
        theme = request.args.get("theme")
        return cls(
            lang=chosen or language_from_header(request.headers.get("Accept-Language", "")),
            explicit_lang=chosen is not None,
            embed=request.args.get("embed") in ("1", "true"),
            theme=theme if theme in THEMES else None,
        )

    def link_args(self) -> dict[str, str]:
        """The parameters every internal link carries, in their canonical order."""
        args = {}
        if self.explicit_lang:
            args["lang"] = self.lang
        if self.embed:
            args["embed"] = "1"
        if self.theme:
            args["theme"] = self.theme
        return args

    def query(self, **first: str) -> str:
        """The canonical query string for a URL showing this presentation."""
        return urlencode({**first, **self.link_args()})

    def cache_key(self, **first: str) -> str:
        """The response cache key: the canonical query, and the negotiated language if not in it."""
        return f"{self.query(**first)}|{'' if self.explicit_lang else self.lang}"

    @property
    def variant(self) -> str:
        return f"{self.lang}:{int(self.explicit_lang)}:{int(self.embed)}:{self.theme or ''}"


def requested_slug() -> str | None:
    """The `doc` parameter if it names a well-formed slug, None if absent; 400 otherwise.

    A slug that is well-formed but for its case (`What-Is-IP-Adapter`, from an old link)
    is answered with a permanent redirect to the page, when there is one.
    """
    values = request.args.getlist("doc")
    if not values:
        return None
    if len(values) > 1:
        abort(400)
    slug = values[0]
    # Checked before the pattern so that a huge value costs nothing more.
    if len(slug) > MAX_SLUG_LENGTH:
        abort(400)
    if not SLUG.fullmatch(slug):
        lower = slug.lower()
        if SLUG.fullmatch(lower) and find_page(lower, DEFAULT_LANGUAGE) is not None:
            args = [(k, lower if k == "doc" else v) for k, v in request.args.items(multi=True)]
            abort(redirect(f"{request.path}?{urlencode(args)}", code=301))
        abort(400)
    return slug


@bp.get("/docs.php")
@search_limit()
@not_found_limit()
def docs():
    """A help page by `?doc=<slug>`, search by `?q=`, or the help index."""
    slug = requested_slug()
    view = Presentation.of_request()
    if slug is None:
        if "q" in request.args:
            return search_results(request.args.get("q", ""), view)
        request.environ["help.route"] = "help.index"
        return help_index(view)
    request.environ["help.route"] = "help.page"
    found = find_page(slug, view.lang)
    if found is None:
        return page_not_found(slug, view)
    page, lang = found
    # What the page's bytes depend on: its text in each language, and whether it exists there.
    libraries = current_app.extensions["libraries"]
    versions = page_versions(libraries, slug)

    def make() -> CachedPage:
        return CachedPage(rendered_page(page, lang, view, versions).encode(), page.mtime_ns / 1e9,
                          is_fresh=lambda: page_versions(libraries, slug) == versions)

    return respond(*response_cache().page(view.cache_key(doc=slug), make))


@bp.get("/")
def home():
    """The site root leads to the help index."""
    return redirect(url_for("help.docs"), code=301)


def rendered_page(page: Page, lang: str, view: Presentation, versions: tuple[str, ...]) -> str:
    """A page's full HTML, from the cache when this version was rendered before.

    `versions` (the page's version in each language) is in the key: a page's bytes change
    when its text does, and when another language's version comes or goes (hreflang).
    """
    key = f"page:{layout_version()}:{lang}:{page.slug}:{'.'.join(versions)}:{view.variant}"
    html = cache_get(key)
    CACHE.labels("render", "miss" if html is None else "hit").inc()
    if html is None:
        try:
            rendered = render_markdown(page.body)
        except Exception:  # noqa: BLE001 - one page that fails to render hurts only itself
            DOCUMENT_ERRORS.labels("render").inc()
            log.exception("cannot render page %s (%s)", page.slug, lang)
            abort(503)
        # The page's own heading comes first; a table of contents, if any, goes under it.
        heading, closing, rest = rendered.html.partition("</h1>")
        if not heading.lstrip().startswith("<h1") or not closing:
            heading, closing, rest = "", "", rendered.html
        sections = [h for h in rendered.headings if h[0] == 2]
        if len(sections) >= 3:  # worth a table of contents, unless some are only chip groups
            with_prose = set(page_sections(page.body)[0])
            sections = [h for h in sections if h[2] in with_prose]
        html = render_template(
            "page.html", page=page, content_lang=lang,
            heading=Markup(carry_args(heading + closing, view)), content=Markup(carry_args(rest, view)),
            # Only pages with several sections of prose (chip groups do not count) get one.
            contents=sections if len(sections) >= 3 else [],
            canonical=canonical_url(url_for("help.docs", doc=page.slug, **({"lang": lang} if lang != DEFAULT_LANGUAGE else {}))),
            alternates=[(other, url_for("help.docs", doc=page.slug, lang=other))
                        for other, version in zip(LANGUAGES, versions) if version],
            **layout_context(view, {"doc": page.slug}),
        )
        cache_set(key, html)
    return html


def carry_args(html: str, view: Presentation) -> str:
    """Add the reader's lang, embed and theme to every internal link in a rendered page."""
    args = view.link_args()
    if not args:
        return html
    extra = "&amp;" + "&amp;".join(f"{k}={v}" for k, v in args.items())
    return INTERNAL_HREF.sub(lambda m: f'href="{m.group(1)}{extra}{m.group(2) or ""}"', html)


def layout_context(view: Presentation, here: dict[str, str]) -> dict:
    """What base.html needs: words, language, theme, links that keep the presentation."""
    args = view.link_args()
    switch = {k: v for k, v in args.items() if k != "lang"}
    return {
        "t": texts(view.lang),
        "lang": view.lang,
        "view": view,
        "link_args": args,
        "languages": [(code, LANGUAGE_NAMES[code], url_for("help.docs", **here, lang=code, **switch))
                      for code in LANGUAGES],
    }


def help_index(view: Presentation) -> Response:
    """Every page in the reader's language (else Norwegian), grouped by category."""
    stores = [get_library(lang) for lang in dict.fromkeys((view.lang, DEFAULT_LANGUAGE))]
    fingerprint = "+".join(store.fingerprint() for store in stores)

    def make() -> CachedPage:
        key = f"index:{layout_version()}:{fingerprint}:{view.variant}"
        html = cache_get(key)
        pages = pages_for(view.lang)
        if html is None:
            html = render_template("index.html", categories=categories(pages),
                                   canonical=canonical_url(url_for("help.docs")),
                                   **layout_context(view, {}))
            cache_set(key, html)
        newest = max((p.mtime_ns for p in pages), default=0)
        return CachedPage(html.encode(), newest / 1e9,
                          is_fresh=lambda: "+".join(s.fingerprint() for s in stores) == fingerprint)

    return respond(*response_cache().page(view.cache_key(), make))


def pages_for(lang: str) -> list[Page]:
    """Every page a reader of `lang` is shown: in `lang` where it exists, else in Norwegian."""
    return [page for page, _ in pages_in(lang).values()]


def search_results(query: str, view: Presentation) -> Response:
    """The search page: results for `q`, or just the search box when it is empty."""
    request.environ["help.route"] = "help.search"
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    hits = []
    if query:
        with work_slot():
            hits = get_index(view.lang).search(query)
    response = current_app.make_response(render_template(
        "search.html", query=query, hits=hits, **layout_context(view, {"q": query})))
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Vary"] = "Accept-Language"
    return response


def suggestions(slug: str, lang: str) -> list[Page]:
    """Pages a reader who asked for `slug` probably meant: similar slugs, then a search."""
    pages = remembered(("pages by slug", lang), lambda: {page.slug: page for page in pages_for(lang)})

    def find() -> list[str]:
        # rapidfuzz's C scan: 10,000 slugs in about a millisecond, where difflib took 50.
        similar = process.extract(slug, list(pages), scorer=fuzz.ratio, limit=3, score_cutoff=60)
        found = [match for match, _, _ in similar]
        found += [hit.page.slug for hit in get_index(lang).search(slug.replace("-", " "), limit=5)]
        return list(dict.fromkeys(found))[:5]

    return [pages[s] for s in remembered((slug, lang), find, "suggested") if s in pages]


def page_not_found(slug: str, view: Presentation) -> Response:
    """A 404 for an unknown slug that suggests the pages its author probably meant.

    While this worker is busy with other expensive work, the page goes without suggestions.
    """
    t = texts(view.lang)
    title, text = t["errors"][404]
    with spare_slot() as free:
        found = suggestions(slug, view.lang) if free else []
    response = current_app.make_response((render_template(
        "error.html", title=title, text=text, suggestions=found,
        categories=[] if found else way_on(view.lang), **layout_context(view, {})), 404))
    response.headers["Cache-Control"] = "no-store"
    return response


def canonical_url(path: str) -> str | None:
    """The absolute URL of `path` on the public site, when PUBLIC_BASE_URL says where that is.

    Never built from the request's Host header: pages are cached and shared, and a forged
    host must not end up in them.
    """
    base = current_app.config["PUBLIC_BASE_URL"]
    return f"{base}{path}" if base else None


def respond(page: CachedPage, cached: bool) -> Response:
    """A Flask response for a cached page, following the same rules as the fast path."""
    status, headers, body = page.answer(request.environ)
    request.environ["help.cache"] = "hit" if cached else "miss"
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
    """Every HTTP error as a page in the shared layout, in the reader's language.

    If even that fails, a plain page says so: an error page never becomes an empty 500.
    """
    code = error.code or 500
    try:
        if request.path.startswith("/api/"):
            response = api.problem(error)
        else:
            response = current_app.make_response((error_page(code, error), code))
    except Exception:  # noqa: BLE001
        log.exception("the error page for %s failed", code)
        response = Response(FALLBACK_500, status=500, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    if getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    retry_after = retry_seconds(error)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def retry_seconds(error: HTTPException) -> int | None:
    """Seconds a client should wait before trying again after a 429 or 503, if known."""
    limit = getattr(error, "limit", None)  # Flask-Limiter's RateLimitExceeded
    if limit is not None:
        return limit.limit.get_expiry()
    retry_after = getattr(error, "retry_after", None)
    return int(retry_after) if isinstance(retry_after, (int, float)) else None


def relative_redirect(response: Response) -> Response:
    """Redirects name no host: werkzeug builds some (slash merging) from the request's Host."""
    location = response.headers.get("Location")
    if location and 300 <= response.status_code < 400:
        parts = urlsplit(location)
        if parts.netloc:
            response.headers["Location"] = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return response


def error_page(code: int, error: HTTPException) -> str:
    """The page for an error status: the same for every request, so rendered once per version."""
    view = Presentation.of_request()

    def render() -> str:
        title, text = texts(view.lang)["errors"].get(code, (error.name, error.description))
        return render_template("error.html", title=title, text=text,
                               categories=way_on(view.lang) if code == 404 else [], **layout_context(view, {}))

    return remembered(("error", code, view.variant), render)


def label_route() -> None:
    """Name the route for metrics and logs (`blueprint.view`); views refine it."""
    request.environ["help.route"] = request.endpoint or "unmatched"


def way_on(lang: str) -> list[tuple[str, list[Page]]]:
    """A way on from a dead link: the first category's pages (at most eight)."""
    return remembered(("way on", lang), lambda: [(name, group[:8]) for name, group in categories(pages_for(lang))[:1]])


def negotiated_language(environ) -> str:
    """The response cache key's suffix: the Accept-Language choice, unless `lang=` decides."""
    if "lang=" in environ.get("QUERY_STRING", ""):
        return ""
    return language_from_header(environ.get("HTTP_ACCEPT_LANGUAGE", ""))


def init_app(app: Flask) -> None:
    """Register the routes and error pages."""
    app.extensions["layout_version"] = _digest_layout(app.config["PUBLIC_BASE_URL"])
    app.extensions["response_cache"] = ResponseCache(
        app.config["RESPONSE_CACHE_ENTRIES"], key_suffix=negotiated_language,
        max_bytes=app.config["RESPONSE_CACHE_BYTES"])
    app.register_blueprint(bp)
    app.before_request(label_route)
    app.after_request(relative_redirect)
    app.register_error_handler(HTTPException, handle_http_error)
