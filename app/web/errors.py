"""Error pages: every HTTP error in the shared layout (or, under /api/, as a problem object),
and the 404 for a dead link, with the pages its author probably meant."""

from __future__ import annotations

import functools
import logging

from flask import Flask, Response, current_app, render_template, request
from rapidfuzz import fuzz, process
from werkzeug.exceptions import HTTPException, RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header

from app.caching.responses import NO_STORE, PRECONDITION_FAILED, settled_conditions
from app.content.library import get_library, remembered
from app.content.page import Page
from app.guards.limits import spare_slot
from app.languages import texts
from app.observability.middleware import FALLBACK_500
from app.presentation import Presentation, layout_context, page_groups
from app.readers.counting import count_dead_link
from app.search.engine import get_search
from app.web import api

log = logging.getLogger(__name__)


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
    response.headers["Cache-Control"] = NO_STORE
    # What the error says besides its page: Allow (405), WWW-Authenticate (401), Retry-After.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    retry_after = retry_seconds(error)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def retry_seconds(error: HTTPException) -> int | None:
    """Seconds a client past a rate limit should wait (a 503's own Retry-After comes with its headers)."""
    limit = getattr(error, "limit", None)  # Flask-Limiter's RateLimitExceeded
    return limit.limit.get_expiry() if limit is not None else None


def error_page(code: int, error: HTTPException) -> str:
    """The page for an error status: the same for every request, so rendered once per version."""
    presentation = Presentation.of_request()

    # An area may say it in its own words ("feedback 400"); else the status's words, else werkzeug's.
    area = f"{request.blueprint} {code}"

    def render() -> str:
        words = texts(presentation.lang)["errors"]
        title, text = words.get(area) or words.get(code) or (error.name, error.description)
        categories = way_on(presentation.lang) if code == 404 else []
        return render_template(
            "error.html", title=title, text=text, categories=categories, **layout_context(presentation, {})
        )

    return remembered(("error", area, presentation.variant), render)


def page_not_found(slug: str, presentation: Presentation) -> Response:
    """A 404 for an unknown slug that suggests the pages its author probably meant.

    While this worker is busy with other expensive work, the page goes without suggestions.
    """
    with spare_slot() as free:
        found = suggestions(slug, presentation.lang) if free else []
    count_dead_link(slug, found[0].slug if found else "")
    title, text = texts(presentation.lang)["errors"][404]
    return not_found(presentation, title, text, found, layout_context(presentation, {}))


def not_found(presentation: Presentation, title: str, text: str, found: list[Page], layout: dict, **more) -> Response:
    """A 404 in the layout (never stored) that offers the pages `found`, or the way on to
    every page when there are none."""
    categories = [] if found else way_on(presentation.lang)
    html = render_template(
        "error.html", title=title, text=text, suggestions=found, categories=categories, **more, **layout
    )
    response = current_app.make_response((html, 404))
    response.headers["Cache-Control"] = NO_STORE
    return response


def suggestions(slug: str, lang: str) -> list[Page]:
    """Pages a reader who asked for `slug` probably meant: similar slugs, then a search."""
    pages = remembered(("pages by slug", lang), lambda: {page.slug: page for page in get_library().pages_for(lang)})

    def find() -> list[str]:
        # rapidfuzz's C scan: 10,000 slugs in about a millisecond, where difflib took 50.
        similar = process.extract(slug, list(pages), scorer=fuzz.ratio, limit=3, score_cutoff=60)
        found = [match for match, _, _ in similar]
        # Only pages with every word of the slug in their title or a heading (typos corrected): no guesses.
        searched = get_search().find(slug.replace("-", " "), lang, limit=5, forgiving=False)
        found += [hit.page.slug for hit in searched.hits]
        return list(dict.fromkeys(found))[:5]

    return [pages[s] for s in remembered((slug, lang), find, "suggested") if s in pages]


def way_on(lang: str) -> list[tuple[str, list[Page]]]:
    """A way on from a dead link: the first category's pages (at most eight)."""
    return remembered(("way on", lang), lambda: [(name, group[:8]) for name, group in page_groups(lang)[:1]])


def precondition_failed_without_body(response: Response) -> Response:
    """A 412 without the file, which werkzeug would send whole (a static file's): the answer
    says why. (The API answers a problem object.)"""
    if response.status_code == 412 and response.mimetype != "application/problem+json":
        if hasattr(response.response, "close"):  # the file werkzeug opened to send
            response.response.close()
        response.set_data(PRECONDITION_FAILED)
        response.mimetype = "text/plain"
        response.headers["Cache-Control"] = NO_STORE
    return response


def preconditions_before_ranges(view):
    """The static files' view, with its preconditions as RFC 9110 has them
    (`settled_conditions`), before its ranges: werkzeug refuses a range it cannot send (416)
    before it looks at If-Match or If-None-Match. Such a request
    is asked again without its range: a precondition's 412 or 304 is the answer, and so is
    the whole file for a range that is no single range of bytes (another unit, several,
    nonsense: RFC 9110 14.2 has them ignored). A single range past the end stays a 416."""

    @functools.wraps(view)
    def static(**kwargs):
        try:
            return settled_conditions(view(**kwargs), request.environ)
        except RequestedRangeNotSatisfiable:
            asked = request.environ.pop("HTTP_RANGE", None)
            response = settled_conditions(view(**kwargs), request.environ)
            ranges = parse_range_header(asked)
            if response.status_code in (304, 412) or not ranges or ranges.units != "bytes" or len(ranges.ranges) != 1:
                return response
            response.close()
            raise

    return static


def init_app(app: Flask) -> None:
    """Answer every HTTP error with its page."""
    app.register_error_handler(HTTPException, handle_http_error)
    if "static" in app.view_functions:
        app.view_functions["static"] = preconditions_before_ranges(app.view_functions["static"])
    app.after_request(precondition_failed_without_body)
