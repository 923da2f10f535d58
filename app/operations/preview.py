"""The author's preview (`make preview`: the same app with PREVIEW=true, on 127.0.0.1): drafts
are shown (the Library's stores' doing), a help page reloads itself within a second of a
save, and `/preview/<slug>` shows a page's languages side by side with where the translation
stands and what `make check` would say of it.

None of it exists in production: the blueprint is registered only in preview, so its routes
are 404s there, and only preview HTML names its script. The script is a file of this site
(outside static/, so production cannot serve it) that polls `/preview/_version` on this site:
the CSP every response carries (`script-src 'self'; connect-src 'self'`) allows it as it is.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request, url_for

from app.caching.responses import NO_STORE
from app.config import PROJECT_ROOT
from app.content.library import get_library
from app.content.links import with_page_links
from app.content.page import SLUG
from app.content.rendering import render_markdown
from app.languages import CODES, DEFAULT_LANGUAGE, LANGUAGES
from app.operations.checks import page_report
from app.presentation import Presentation, layout_context

bp = Blueprint("preview", __name__, url_prefix="/preview")

SCRIPT = (PROJECT_ROOT / "app" / "operations" / "preview.js").read_bytes()


def watched(slug: str) -> dict[str, str]:
    """What a page's reload script compares: the page's version in every language, as
    `/preview/_version` answers it (a page's rendition is keyed by the same)."""
    return {"doc": slug, "version": ".".join(get_library().versions(slug))}


def previewed_links(html: str) -> str:
    """A page's links, as pages write them (`docs.php?doc=...`, relative), made links to the
    previews of the pages they name, and the rest (the index, a search) links from the root:
    from `/preview/<slug>` they would lead to nowhere."""

    def previewed(path: str, parameters: list[tuple[str, str]], anchor: str) -> str:
        slug = dict(reversed(parameters)).get("doc", "")  # the first, as Flask reads it
        if SLUG.fullmatch(slug):
            target = url_for("preview.side_by_side", slug=slug)
        else:
            target = "/docs.php" + (f"?{urlencode(parameters)}" if parameters else "")
        return target + (f"#{anchor}" if anchor else "")

    return with_page_links(html, previewed)


def requested(slug: str | None) -> str:
    """`slug` if it is one; 400 otherwise (it is only ever looked up in the Library)."""
    if slug is None or not SLUG.fullmatch(slug):
        abort(400)
    return slug


@bp.get("/_reload.js")
def reload_script() -> Response:
    """The reload script (preview only)."""
    return Response(SCRIPT, mimetype="text/javascript", headers={"Cache-Control": NO_STORE})


@bp.get("/_version")
def version() -> Response:
    """`{"version": ..., "failed": ...}` of the page `doc=` in every language: the version
    changes when a file does (a stat per language, not a read); `failed` says why a file
    does not load ("" while every one does). Polled four times a second; not logged."""
    slug = requested(request.args.get("doc"))
    # A save that fails to load leaves the version as it was (the last good one is shown): the
    # script says so on the page instead of reloading it.
    failed = [f"{code}: {error}" for code in CODES if (error := get_library().stores[code].errors.get(slug))]
    response = jsonify(version=watched(slug)["version"], failed=" ".join(failed))
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/<slug>")
def side_by_side(slug: str) -> Response:
    """Page `slug` in each language side by side (drafts too), where its translations stand,
    and the problems and warnings `make check` would report for it."""
    slug = requested(slug)
    library = get_library()
    columns = []
    for code in CODES:
        page = library.stores[code].get(slug)
        html, failed = "", library.stores[code].errors.get(slug, "")
        if page is not None:
            try:
                html = previewed_links(render_markdown(page.body, current_app.config["APP_URL_SCHEMES"]).html)
            except Exception as exc:  # noqa: BLE001 - say it, as the server would log it
                failed = f"cannot be rendered: {type(exc).__name__}"
        columns.append(
            {
                "lang": code,
                "name": LANGUAGES[code].name,
                "page": page,
                "html": html,
                "failed": failed,
                "drift": library.drift(slug, code),
            }
        )
    if not any(column["page"] or column["failed"] for column in columns):
        abort(404)
    problems, warnings = page_report(library, slug, current_app.config["APP_URL_SCHEMES"])
    presentation = Presentation(lang=DEFAULT_LANGUAGE, explicit_lang=False, embed=False, theme=None)
    response = current_app.make_response(
        render_template(
            "preview.html",
            slug=slug,
            columns=columns,
            problems=problems,
            warnings=warnings,
            watch=watched(slug),
            wide=True,
            noindex=True,
            **layout_context(presentation, {"slug": slug}, endpoint="preview.side_by_side"),
        )
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


def init_app(app: Flask) -> None:
    """Register the preview's routes, only when the app runs with PREVIEW on."""
    if app.config["PREVIEW"]:
        app.register_blueprint(bp)
