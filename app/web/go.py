"""`/go/<key>`: the help for a place in the app, by a context key that pages name in their
front matter (`contexts: [screen.upload]`), so that a build of the app links to "the help
for this screen" without knowing a slug.

One page: a redirect to it. Several: a short page to choose from. None: a 404 with the
pages a search for the key's words finds, counted for the authors as a dead key with the
app's platform and version (never who asked). Keys are looked up in the index of the pages
(`Library.addresses`), never joined into a path; each answer is made from what is kept per
version of the pages, so it costs no more than a dead link's 404. Measured in process (the
test client, 2 cores): a dead slug's 404 1.1 ms; here a redirect 0.37 ms, a chooser
0.47 ms, a dead key's 404 0.76 ms.
"""

from __future__ import annotations

import re

from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template, request, url_for

from app.caching.responses import CACHE_CONTROL
from app.content.library import get_library, remembered
from app.content.page import CONTEXT_KEY, MAX_CONTEXT_KEY_LENGTH, Page
from app.guards.limits import asks_for_missing_context, not_found_limit, spare_slot
from app.languages import texts
from app.presentation import Presentation, layout_context
from app.readers.counting import count_dead_context
from app.search.engine import get_search
from app.web.errors import not_found

bp = Blueprint("go", __name__)

# What the app may say about itself, for the authors' insights: short, and from these only.
# Anything else is left out (never stored, never shown).
PLATFORMS = frozenset({"ios", "android", "web"})
APP_VERSION = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,4}){0,3}")
KEY_WORDS = re.compile(r"[._-]+")


def requested_key(key: str) -> str:
    """The context key in lower case; 400 unless it is one (the length is checked first, so
    that a huge value costs nothing more)."""
    if len(key) > MAX_CONTEXT_KEY_LENGTH or not key.isascii():
        abort(400)
    key = key.lower()
    if not CONTEXT_KEY.fullmatch(key):
        abort(400)
    return key


def app_details() -> tuple[str, str]:
    """`platform` and `app_version` when they are what an app would send, else ''."""
    platform = request.args.get("platform", "")[:16].lower()
    version = request.args.get("app_version", "")[:24]
    return (platform if platform in PLATFORMS else "", version if APP_VERSION.fullmatch(version) else "")


@bp.get("/go/", defaults={"key": ""})
@bp.get("/go/<path:key>")
@not_found_limit(asks_for_missing_context)
def context(key: str):
    """The page (or pages) that help with the place in the app that `key` names."""
    key = requested_key(key)
    presentation = Presentation.of_request()
    slugs = get_library().addresses().contexts.get(key, ())
    if len(slugs) == 1:
        response = redirect(url_for("help.docs", doc=slugs[0], **presentation.link_args()), code=302)
        # Kept a while: the pages may name the key elsewhere later.
        response.headers["Cache-Control"] = CACHE_CONTROL
        return response
    if slugs:
        return chooser(key, slugs, presentation)
    return dead_key(key, presentation)


def chooser(key: str, slugs: tuple[str, ...], presentation: Presentation) -> Response:
    """A short page listing the pages that name `key`, in the reader's language where they
    exist; made once per version of the pages and presentation."""

    def render() -> str:
        library = get_library()
        pages = [found[0] for slug in slugs if (found := library.find(slug, presentation.lang))]
        pages.sort(key=lambda page: (page.order, page.title.casefold()))
        return render_template(
            "chooser.html", pages=pages, **layout_context(presentation, {"key": key}, endpoint="go.context")
        )

    response = current_app.make_response(remembered(("go", key, presentation.variant), render))
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Vary"] = "Accept-Language"
    return response


def dead_key(key: str, presentation: Presentation) -> Response:
    """A 404 for a key no page names: the pages a search for its words finds (none while this
    worker is busy with other expensive work) and the way to every page."""
    words = KEY_WORDS.sub(" ", key).strip()
    with spare_slot() as free:
        found = searched(words, presentation.lang) if free else []
    count_dead_context(key, *app_details())
    title, text = texts(presentation.lang)["go_missing"]
    layout = layout_context(presentation, {"key": key}, endpoint="go.context")
    heading = texts(presentation.lang)["go_found"].format(words=words)
    return not_found(presentation, title, text, found, layout, suggestions_heading=heading)


def searched(words: str, lang: str) -> list[Page]:
    """The pages a search for `words` finds (at most five), in `lang` where they exist;
    remembered per version of the pages beside the dead links' suggestions (a flood of
    made-up keys pushes out only those)."""
    library = get_library()

    def find() -> list[str]:
        return [hit.page.slug for hit in get_search().find(words, lang, limit=5).hits]

    slugs = remembered(("go", words, lang), find, "suggested")
    return [found[0] for slug in slugs if (found := library.find(slug, lang))]


def init_app(app: Flask) -> None:
    """Register `/go/<key>`."""
    app.register_blueprint(bp)
