"""Routes: a help page, the help index and search, all in one layout."""

from __future__ import annotations

import contextlib
import logging
import os
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from app.caching.fragments import cache_get, cache_set
from app.caching.keys import Rendition, rendition
from app.caching.responses import CACHE_CONTROL, SEARCH_CACHE_CONTROL, CachedPage, get_response_cache
from app.content.library import get_library, remembered
from app.content.page import MAX_SLUG_LENGTH, SLUG, Page
from app.content.rendering import render_markdown
from app.content.sections import page_sections
from app.content.translations import OUTDATED
from app.guards.limits import not_found_limit, search_limit, work_slot
from app.languages import CODES, DEFAULT_LANGUAGE, NAMES, long_date
from app.observability.metrics import CACHE, DOCUMENT_ERRORS
from app.presentation import Presentation, canonical_url, carry_args, category_shown, layout_context, page_groups
from app.readers.counting import count_alias_hit, count_search, view_counter
from app.search.engine import get_search
from app.search.query import Results, typed
from app.web import see_also
from app.web.errors import page_not_found

log = logging.getLogger(__name__)

bp = Blueprint("help", __name__)


def requested_slug() -> str | None:
    """The `doc` parameter if it names a well-formed slug, None if absent; 400 otherwise.

    A slug that is well-formed but for its case (`What-Is-IP-Adapter`, from an old link)
    is answered with a permanent redirect to the page, or to the page it is an alias of.
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
        if SLUG.fullmatch(lower) and get_library().find(lower, DEFAULT_LANGUAGE) is not None:
            args = [(k, lower if k == "doc" else v) for k, v in request.args.items(multi=True)]
            abort(redirect(f"{request.path}?{urlencode(args)}", code=301))
        target = get_library().addresses().aliases.get(lower) if SLUG.fullmatch(lower) else None
        if target is not None:
            abort(moved(lower, target, Presentation.of_request()))
        abort(400)
    return slug


@bp.get("/docs.php")
@search_limit(doc_wins=True)
@not_found_limit()
def docs():
    """A help page by `?doc=<slug>`, search by `?q=`, or the help index."""
    slug = requested_slug()
    presentation = Presentation.of_request()
    if slug is None:
        if "q" in request.args:
            return search_results(request.args.get("q", ""), presentation)
        return help_index(presentation)
    request.environ["help.route"] = "help.page"
    library = get_library()
    found = library.find(slug, presentation.lang)
    if found is None:
        if library.unreadable(slug, presentation.lang):
            abort(503)  # there, but failing to load: as a page that fails to render
        target = library.addresses().aliases.get(slug)
        if target is not None:
            return moved(slug, target, presentation)
        return page_not_found(slug, presentation)
    page, lang = found

    def shows() -> tuple[str, bool]:
        """What the page shows of others: their titles, and (not yet translated) the name its
        translated neighbours give its category."""
        shown, settled = see_also.digest(page, presentation.lang)
        return f"{shown}:{category_shown(page, lang, presentation.lang)}", settled

    current = rendition("page", lang, presentation.variant, slug, depends=shows)

    def make() -> CachedPage:
        # The page that thanks a reader for a vote is the same reading again: no second view.
        html = rendered_page(page, lang, presentation, current)
        return CachedPage(
            html.encode(),
            last_changed(),
            current.is_fresh,
            count_view=None if presentation.thanks else view_counter(slug, lang),
        )

    return respond(*get_response_cache().page(presentation.cache_key(doc=slug), make))


def moved(alias: str, target: str, presentation: Presentation) -> Response:
    """An old slug that a page names in `aliases:`: a permanent redirect to the page, keeping
    `lang`, `embed` and `theme` (the browser keeps the #anchor). Counted for the authors."""
    request.environ["help.route"] = "help.alias"
    count_alias_hit(alias, target)
    response = redirect(url_for("help.docs", doc=target, **presentation.link_args()), code=301)
    # Kept a while, not for ever as a bare 301 would be: the pages may change their aliases.
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@bp.get("/")
def home():
    """The site root leads to the help index."""
    return redirect(url_for("help.docs"), code=301)


def page_path(slug: str, lang: str) -> str:
    """A page's address in `lang`, as the sitemap and the canonical link give it."""
    return url_for("help.docs", doc=slug, **({"lang": lang} if lang != DEFAULT_LANGUAGE else {}))


def rendered_page(page: Page, lang: str, presentation: Presentation, current: Rendition) -> str:
    """A page's full HTML, from the shared cache when this rendition was made before."""
    html = cache_get(current.key)
    CACHE.labels("render", "miss" if html is None else "hit").inc()
    if html is None:
        try:
            rendered = render_markdown(page.body, current_app.config["APP_URL_SCHEMES"])
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
            "page.html",
            page=page,
            content_lang=lang,
            category=category_shown(page, lang, presentation.lang),
            heading=Markup(carry_args(heading + closing, presentation)),
            content=Markup(carry_args(rest, presentation)),
            # Only pages with several sections of prose (chip groups do not count) get one.
            contents=sections if len(sections) >= 3 else [],
            canonical=canonical_url(page_path(page.slug, lang)),
            # Each language's canonical address, as the sitemap gives it, where PUBLIC_BASE_URL
            # says where the site is; else one that names its language.
            alternates=[
                (other, canonical_url(page_path(page.slug, other)) or url_for("help.docs", doc=page.slug, lang=other))
                for other, version in zip(CODES, current.versions, strict=True)
                if version
            ],
            next_steps=see_also.next_steps(page, presentation.lang),
            see_also=see_also.see_also(page, presentation.lang),
            noindex=presentation.thanks,  # the same page, thanking a reader who voted
            # A translation the Norwegian page has moved on from says so, and leads to it. (The
            # rendition's key holds the version of the page in every language: a change to the
            # Norwegian page is a new key for the English one.)
            outdated=get_library().drift(page.slug, lang) == OUTDATED,
            original_url=url_for(
                "help.docs",
                doc=page.slug,
                lang=DEFAULT_LANGUAGE,
                **{name: value for name, value in presentation.link_args().items() if name != "lang"},
            ),
            original_lang=DEFAULT_LANGUAGE,
            reviewed=long_date(page.reviewed, presentation.lang) if page.reviewed else "",
            # In an author's preview, what the reload script compares (see app/operations/preview.py).
            watch={"doc": page.slug, "version": ".".join(current.versions)},
            **layout_context(presentation, {"doc": page.slug}),
        )
        cache_set(current.key, html)
    return html


def help_index(presentation: Presentation) -> Response:
    """Every page in the reader's language (else Norwegian), grouped by category."""
    request.environ["help.route"] = "help.index"

    def make() -> CachedPage:
        current = rendition("index", presentation.lang, presentation.variant)
        html = cache_get(current.key)
        groups = page_groups(presentation.lang)
        if html is None:
            html = render_template(
                "index.html",
                categories=groups,
                canonical=canonical_url(url_for("help.docs")),
                **layout_context(presentation, {}),
            )
            cache_set(current.key, html)
        return CachedPage(html.encode(), last_changed(), current.is_fresh)

    return respond(*get_response_cache().page(presentation.cache_key(), make))


def search_results(query: str, presentation: Presentation) -> Response:
    """The search page: results for `q`, or just the search box when it is empty."""
    request.environ["help.route"] = "help.search"
    query = typed(query)
    exact = request.args.get("eksakt") == "1"
    results = Results(query)
    if query:
        with work_slot():
            results = get_search().find(query, presentation.lang, exact=exact)
        if not exact:  # the same reader's second look, as typed: one client would rewrite what a query found
            count_search(query, presentation.lang, results.total, results.corrected)
    here = {"q": query, **({"eksakt": "1"} if exact else {})}
    response = current_app.make_response(
        render_template(
            "search.html", query=query, results=results, language_names=NAMES, **layout_context(presentation, here)
        )
    )
    response.headers["Cache-Control"] = SEARCH_CACHE_CONTROL
    response.headers["Vary"] = "Accept-Language"
    return response


def respond(page: CachedPage, cached: bool) -> Response:
    """A Flask response for a cached page, following the same rules as the fast path."""
    status, headers, body = page.answer(request.environ)
    request.environ["help.cache"] = "hit" if cached else "miss"
    return Response(body, status=int(status[:3]), headers=headers)


OWN = (".py", ".html", ".json")  # the app's own files a page is made with (not its .pyc)


def last_changed() -> float:
    """A rendered page's Last-Modified: when anything a page or the index shows last changed.
    A page shows other pages' titles (related pages, next steps), its translation's state and
    the layout, so its own file's time was not enough: with only If-Modified-Since, a client
    kept a page whose related page had a new title (its ETag did change). So: the newest of
    the pages readers see (drafts too only in PREVIEW), of the docs folders (a page removed)
    and of the app's own files (templates, static files, code), the same on every replica of
    one image. Settings are not in it (a new PUBLIC_BASE_URL changes the ETag, not this).
    Remembered while the pages stay the same; the app's files change with a restart, so
    they are read once."""
    return remembered(("last-changed",), _last_changed)


def _last_changed() -> float:
    stores = get_library().stores.values()
    times = [page.mtime_ns for store in stores for page in store.pages()]
    times += _modified([folder for store in stores for folder in store.folders])
    if "own_files_changed" not in current_app.extensions:  # once a process (1.2 ms at 10,000 pages)
        own = [current_app.root_path, os.path.join(current_app.root_path, current_app.template_folder)]
        paths = [
            os.path.join(root, name)
            for top in own
            for root, _, files in os.walk(top)
            for name in files
            if name.endswith(OWN)
        ]
        paths += [os.path.join(root, name) for root, _, files in os.walk(current_app.static_folder) for name in files]
        current_app.extensions["own_files_changed"] = max(_modified(paths), default=0)
    return max([*times, current_app.extensions["own_files_changed"]]) / 1e9


def _modified(paths: list[str]) -> list[int]:
    """The modification times (ns) of those of `paths` that can be read."""
    times = []
    for path in paths:
        with contextlib.suppress(OSError):  # a dangling link, a file gone since it was listed: no date
            times.append(os.stat(path).st_mtime_ns)
    return times


def uncached_failed_precondition(response: Response) -> Response:
    """A 412 (a precondition that did not hold: pages, the API, static files) answers that request
    alone: kept by no cache, where the API's and static files' `public` Cache-Control would
    have let a shared cache serve it to every client."""
    if response.status_code == 412:
        response.headers["Cache-Control"] = "no-store"
    return response


def relative_redirect(response: Response) -> Response:
    """Redirects name no host: werkzeug builds some (slash merging) from the request's Host."""
    location = response.headers.get("Location")
    if location and 300 <= response.status_code < 400:
        parts = urlsplit(location)
        if parts.netloc:
            response.headers["Location"] = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return response


def label_route() -> None:
    """Name the route for metrics and logs (`blueprint.view`); views refine it."""
    request.environ["help.route"] = request.endpoint or "unmatched"


def init_app(app: Flask) -> None:
    """Register the routes."""
    app.register_blueprint(bp)
    app.before_request(label_route)
    app.after_request(relative_redirect)
    app.after_request(uncached_failed_precondition)
