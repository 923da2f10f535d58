"""The JSON API the Avatarify app reads: the list of pages, one page, the context keys and aliases,
search, and its OpenAPI document."""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import BadRequest, HTTPException

from app.caching.fragments import cache_get, cache_set
from app.caching.keys import rendition
from app.caching.responses import (
    CACHE_CONTROL,
    NO_STORE,
    PRECONDITION_FAILED,
    SEARCH_CACHE_CONTROL,
    settled_conditions,
)
from app.config import PROJECT_ROOT
from app.content.library import get_library, remembered
from app.content.links import chip_targets
from app.content.page import SLUG, Page
from app.content.rendering import render_markdown
from app.content.translations import CURRENT, OUTDATED
from app.guards.limits import search_limit, suggest_limit, work_slot
from app.languages import CODES, language_from_header
from app.presentation import Presentation, carry_args
from app.readers.counting import count_search
from app.readers.feedback import feedback_limit, json_body, json_feedback, own_origin, record
from app.search.engine import get_search
from app.search.query import MAX_QUERY_CHARS, Hit, Results, typed
from app.search.suggest import get_suggester
from app.web import see_also

bp = Blueprint("api", __name__, url_prefix="/api")

TRANSLATION_OUTDATED = {OUTDATED: True, CURRENT: False}
OPENAPI = json.loads((PROJECT_ROOT / "app" / "web" / "openapi.json").read_text(encoding="utf-8"))


class Problem(HTTPException):
    """An API error, answered as an RFC 9457 problem object."""

    def __init__(self, status: int, title: str, detail: str):
        super().__init__(detail)
        self.code, self.title, self.detail = status, title, detail


def requested_language() -> str:
    """`lang=` if given (400 if it names no language we have), else Accept-Language."""
    value = request.args.get("lang")
    if value is None:
        return language_from_header(request.headers.get("Accept-Language", ""))
    if value not in CODES:
        raise Problem(400, "Unknown language", f"lang must be one of: {', '.join(CODES)}")
    return value


def summary(page: Page, lang: str, languages: list[str]) -> dict:
    return {
        "slug": page.slug,
        "lang": lang,
        "title": page.title,
        "description": page.description,
        "category": page.category,
        "languages": languages,
        "updated": page.last_changed.isoformat(timespec="seconds"),
    }


@bp.get("/docs")
def list_docs():
    """Every page, in the asked language where it exists; made once per version of the pages."""
    lang = requested_language()
    return json_body_response(remembered(("api docs", lang), lambda: docs_list(lang)))


def docs_list(lang: str) -> bytes:
    """The body of /api/docs in `lang`."""
    library = get_library()
    in_language = {code: {page.slug for page in store.pages()} for code, store in library.stores.items()}
    docs = [
        summary(page, found, [code for code in CODES if slug in in_language[code]])
        for slug, (page, found) in sorted(library.pages_in(lang).items())
    ]
    return json.dumps({"lang": lang, "docs": docs}, ensure_ascii=False).encode()


@bp.get("/docs/<slug>")
def get_doc(slug: str):
    """One page: its metadata, sanitized HTML, headings and the pages its chips lead to."""
    lang = requested_language()
    if not SLUG.fullmatch(slug):
        raise Problem(400, "Malformed slug", "A slug is lower-case letters a-z, digits and hyphens.")
    library = get_library()
    found = library.find(slug, lang)
    if found is None:
        if library.unreadable(slug, lang):
            raise Problem(503, "Page unavailable", f"The help page {slug!r} cannot be shown just now.")
        raise Problem(404, "No such page", f"There is no help page named {slug!r}.")
    page, content_lang = found
    aliases, contexts = library.addresses().of_page(slug)
    # Besides the page's text, its addresses: other pages may claim one of its aliases.
    addressed = hashlib.sha256(f"{aliases}{contexts}".encode()).hexdigest()[:12]
    # `lang=` chosen by the app is kept in the page's internal links, as on the page itself.
    explicit = "lang" in request.args
    current = rendition(
        "api", content_lang, f"{lang}:{int(explicit)}:{addressed}", slug, depends=lambda: see_also.digest(page, lang)
    )
    body = cache_get(current.key)
    if body is None:
        rendered = render_markdown(page.body, current_app.config["APP_URL_SCHEMES"])
        related = []
        for target in chip_targets(rendered.html, page.slug):
            other = library.find(target, lang)
            if other:
                related.append({"slug": target, "title": other[0].title})
        body = json.dumps(
            {
                **summary(
                    page, content_lang, [code for code, version in zip(CODES, current.versions, strict=True) if version]
                ),
                "requested_lang": lang,
                "html": carry_args(rendered.html, Presentation(lang, explicit, embed=False, theme=None)),
                "headings": [
                    {"level": level, "anchor": anchor, "text": text} for level, anchor, text in rendered.headings
                ],
                "related": related,
                "aliases": aliases,
                "contexts": contexts,
                "next_steps": [link._asdict() for link in see_also.next_steps(page, lang)],
                "see_also": [link._asdict() for link in see_also.see_also(page, lang)],
                # A translation the Norwegian page has moved on from: true; false while they
                # match; null for the Norwegian page and a translation that records nothing.
                "translation_outdated": TRANSLATION_OUTDATED.get(library.drift(slug, content_lang)),
            },
            ensure_ascii=False,
        ).encode()
        cache_set(current.key, body)
    return json_body_response(body)


@bp.get("/contexts")
def list_contexts():
    """Every context key with its pages, and every alias with its page: what a build of the app
    checks its links against before release. Made once per version of the pages."""
    return json_body_response(remembered(("api contexts",), contexts_list))


def contexts_list() -> bytes:
    """The body of /api/contexts."""
    addresses = get_library().addresses()
    return json.dumps(
        {
            "contexts": [{"key": key, "pages": list(slugs)} for key, slugs in addresses.contexts.items()],
            "aliases": [{"alias": alias, "page": slug} for alias, slug in sorted(addresses.aliases.items())],
        },
        ensure_ascii=False,
    ).encode()


@bp.get("/search", endpoint="search")  # the route the logs and metrics name api.search
@search_limit()
def search_json():
    """Search results as JSON: title, category and a passage with its matches marked."""
    lang = requested_language()
    query = typed(request.args.get("q", ""))
    found = Results(query)
    exact = request.args.get("exact") in ("1", "true")
    if query:
        with work_slot():
            found = get_search().find(query, lang, exact=exact)
    response = json_response(
        {
            "query": query,
            "lang": lang,
            "total": found.total,
            "corrected_query": found.corrected or None,
            "suggested_query": found.suggested or None,
            "results": [hit_json(hit) for hit in found.hits],
            "partial_results": [hit_json(hit) for hit in found.partial],
        }
    )
    response.headers["Cache-Control"] = SEARCH_CACHE_CONTROL
    # Counted once answered (a failed If-Match is a 412 above); as on the search page, a
    # second look as typed is not counted.
    if query and not exact:
        count_search(query, lang, found.total, found.corrected)
    return response


def hit_json(hit: Hit) -> dict:
    """A search hit as the API gives it: title, category and a passage with its matches marked."""
    return {
        "slug": hit.page.slug,
        "title": hit.page.title,
        "category": hit.page.category,
        "lang": hit.lang,
        "section": {"heading": hit.section.heading, "anchor": hit.section.anchor} if hit.section else None,
        "passage": [{"text": text, "match": marked} for text, marked in hit.passage],
        "passage_lang": hit.passage_lang or hit.lang,
    }


@bp.get("/suggest")
@suggest_limit()
def suggest_json():
    """Up to 8 page titles and headings for what a reader has typed so far (for the search
    box while typing); not counted as a search."""
    lang = requested_language()
    so_far = request.args.get("q", "")[:MAX_QUERY_CHARS]
    suggestions = [
        {
            "slug": found.slug,
            "title": found.title,
            "lang": found.lang,
            "heading": found.heading,
            "anchor": found.anchor,
        }
        for found in get_suggester().suggest(so_far, lang)
    ]
    response = json_response({"query": so_far, "lang": lang, "suggestions": suggestions})
    response.headers["Cache-Control"] = SEARCH_CACHE_CONTROL
    return response


@bp.post("/feedback")
@feedback_limit()
def post_feedback():
    """A reader's vote from the app: JSON only (a browser must ask first, by CORS preflight)."""
    origin = request.headers.get("Origin")
    if origin and origin != own_origin() and origin not in current_app.config["API_ALLOWED_ORIGINS"]:
        raise Problem(403, "Cross-site request", "Feedback is taken from the help centre and the app only.")
    if request.mimetype != "application/json":
        raise Problem(415, "Unsupported media type", "Send feedback as application/json.")
    try:
        data = json_body()
    except BadRequest:
        data = None
    if not isinstance(data, dict):
        raise Problem(400, "Malformed feedback", "The body must be a JSON object (see the OpenAPI document).")
    try:
        record(json_feedback(data))
    except HTTPException as error:
        if error.code in (400, 404):
            raise Problem(
                error.code, "Invalid feedback" if error.code == 400 else "No such page", error.description
            ) from None
        raise
    return Response(
        json.dumps({"recorded": True}), status=201, content_type="application/json", headers={"Cache-Control": NO_STORE}
    )


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return json_response(OPENAPI)


def json_response(data: dict) -> Response:
    return json_body_response(json.dumps(data, ensure_ascii=False).encode())


def json_body_response(body: bytes) -> Response:
    """JSON with a strong ETag of its bytes; 304 when the client has them already."""
    response = Response(body, content_type="application/json")
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response = settled_conditions(response.make_conditional(request), request.environ)
    if response.status_code == 412:  # werkzeug keeps the body: a problem object instead
        raise Problem(412, "Precondition Failed", PRECONDITION_FAILED.decode().strip())
    return response


def problem(error: HTTPException) -> Response:
    """An error under /api/ as an RFC 9457 problem object."""
    status = error.code or 500
    title = getattr(error, "title", None) or error.name
    detail = (
        error.detail
        if isinstance(error, Problem)
        else ("Something went wrong on our side." if status >= 500 else error.description)
    )
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": request.path}
    response = Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json")
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.after_request
def cors(response: Response) -> Response:
    """Let the configured app origins read API answers from a browser or web view."""
    origin = request.headers.get("Origin")
    response.vary.add("Origin")
    response.vary.add("Accept-Language")
    if origin and origin in current_app.config["API_ALLOWED_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "ETag, X-Request-ID"
        if request.method == "OPTIONS":
            allowed = request.url_rule.methods if request.url_rule else ()
            response.headers["Access-Control-Allow-Methods"] = ", ".join(
                method for method in ("GET", "HEAD", "POST", "OPTIONS") if method in allowed
            )
            response.headers["Access-Control-Allow-Headers"] = (
                "Accept-Language, Content-Type, If-None-Match, X-Request-ID"
            )
            response.headers["Access-Control-Max-Age"] = "600"
    return response


def init_app(app: Flask) -> None:
    """Register the API; its errors are problem objects (see errors.handle_http_error)."""
    app.register_blueprint(bp)
