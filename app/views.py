"""Routes: a help page, the help index, search and the error pages, all in one layout."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Callable
from typing import TypeVar
from dataclasses import dataclass
from itertools import groupby
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from app import api
from app.config import PROJECT_ROOT
from app.documents import DEFAULT_LANGUAGE, LANGUAGES, SLUG, Page, find_page, get_library, pages_in
from app.extensions import cache_get, cache_set
from app.i18n import LANGUAGE_NAMES, texts
from app.negotiation import language_from_header, language_from_param
from app.observe import CACHE
from app.pagecache import CachedPage, ResponseCache
from app.rendering import render_markdown
from app.search import MAX_QUERY_CHARS, get_index, page_sections

bp = Blueprint("help", __name__)
T = TypeVar("T")

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
    """A help page by `?doc=<slug>`, search by `?q=`, or the help index."""
    slug = requested_slug()
    view = Presentation.of_request()
    if slug is None:
        if "q" in request.args:
            return search_results(request.args.get("q", ""), view)
        request.environ["help.route"] = "index"
        return help_index(view)
    request.environ["help.route"] = "page"
    found = find_page(slug, view.lang)
    if found is None:
        return page_not_found(slug, view)
    page, lang = found
    is_fresh = file_unchanged(get_library(lang).path_of(slug), page.mtime_ns, page.size)
    if lang != view.lang:
        # Shown in Norwegian until the page exists in the reader's language.
        wanted, fallback_fresh = get_library(view.lang), is_fresh
        is_fresh = lambda: fallback_fresh() and wanted.get(slug) is None  # noqa: E731

    def make() -> CachedPage:
        return CachedPage(rendered_page(page, lang, view).encode(), page.mtime_ns / 1e9, is_fresh)

    return respond(*response_cache().page(view.cache_key(doc=slug), make))


@bp.get("/")
def home():
    """The site root leads to the help index."""
    return redirect(url_for("help.docs"), code=301)


def rendered_page(page: Page, lang: str, view: Presentation) -> str:
    """A page's full HTML, from the cache when this version was rendered before."""
    key = f"page:{layout_version()}:{lang}:{page.slug}:{page.version}:{view.variant}"
    html = cache_get(key)
    CACHE.labels("render", "miss" if html is None else "hit").inc()
    if html is None:
        rendered = render_markdown(page.body)
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
                        for other in LANGUAGES if get_library(other).get(page.slug)],
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
    request.environ["help.route"] = "search"
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    hits = get_index(view.lang).search(query) if query else []
    response = current_app.make_response(render_template(
        "search.html", query=query, hits=hits, **layout_context(view, {"q": query})))
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Vary"] = "Accept-Language"
    return response


def suggestions(slug: str, lang: str) -> list[Page]:
    """Pages a reader who asked for `slug` probably meant: similar slugs, then a search."""
    pages = {page.slug: page for page in pages_for(lang)}

    def find() -> list[str]:
        found = difflib.get_close_matches(slug, list(pages), n=3, cutoff=0.6)
        found += [hit.page.slug for hit in get_index(lang).search(slug.replace("-", " "), limit=5)]
        return list(dict.fromkeys(found))[:5]

    return [pages[s] for s in remembered(("suggest", slug, lang), find) if s in pages]


def page_not_found(slug: str, view: Presentation) -> Response:
    """A 404 for an unknown slug that suggests the pages its author probably meant."""
    t = texts(view.lang)
    title, text = t["errors"][404]
    found = suggestions(slug, view.lang)
    response = current_app.make_response((render_template(
        "error.html", title=title, text=text, suggestions=found,
        categories=[] if found else way_on(view.lang), **layout_context(view, {})), 404))
    response.headers["Cache-Control"] = "no-store"
    return response


def remembered(key: tuple, make: Callable[[], T]) -> T:
    """`make()`, remembered under `key` while the pages stay the same (at most 1,024 keys).

    For what depends only on the pages and the request's presentation: error pages, and
    the suggestions for a dead link, which is followed again and again and costs a
    millisecond or more with a thousand pages (difflib compares the slug with every other).
    """
    memo = current_app.extensions["remembered"]
    state = "+".join(get_library(lang).fingerprint() for lang in LANGUAGES)
    if memo.get("state") != state or len(memo) > 1024:
        memo.clear()
        memo["state"] = state
    found = memo.get(key)
    if found is None:
        found = memo[key] = make()
    return found


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
    """Every HTTP error as a page in the shared layout, in the reader's language."""
    if request.path.startswith("/api/"):
        return api.problem(error)
    code = error.code or 500
    response = current_app.make_response((error_page(code, error), code))
    response.headers["Cache-Control"] = "no-store"
    if error.response is None and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
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
    """Name the route for metrics and logs; views refine it."""
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
    app.extensions["remembered"] = {}
    app.extensions["response_cache"] = ResponseCache(
        app.config["RESPONSE_CACHE_ENTRIES"], key_suffix=negotiated_language)
    app.register_blueprint(bp)
    app.before_request(label_route)
    app.register_error_handler(HTTPException, handle_http_error)
