"""For search engines: /sitemap.xml listing every page, and /robots.txt pointing to it.

Both name the site by PUBLIC_BASE_URL only, never by the request's Host header (which a
client chooses): without it there is no sitemap, and robots.txt does not point to one.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, abort, current_app, url_for

from app.caching.responses import SITE_FILES_CACHE_CONTROL
from app.content.library import get_library, remembered
from app.languages import DEFAULT_LANGUAGE

bp = Blueprint("seo", __name__)


@bp.get("/sitemap.xml")
def sitemap():
    """Every help page, in every language it exists in, with when it last changed."""
    base = current_app.config["PUBLIC_BASE_URL"]
    if not base:
        abort(404)  # absolute URLs need PUBLIC_BASE_URL
    body = remembered(("sitemap",), lambda: sitemap_xml(base))
    return cacheable(Response(body, content_type="application/xml; charset=utf-8"))


def sitemap_xml(base: str) -> str:
    """The sitemap's text; made once per version of the pages."""
    entries = []
    for lang, store in get_library().stores.items():
        extra = {} if lang == DEFAULT_LANGUAGE else {"lang": lang}
        for page in sorted(store.pages(), key=lambda p: p.slug):
            modified = page.last_changed.isoformat(timespec="seconds")
            entries.append(
                f"  <url><loc>{escape(base + url_for('help.docs', doc=page.slug, **extra))}</loc>"
                f"<lastmod>{modified}</lastmod></url>"
            )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "\n".join(entries) + "\n</urlset>\n"
    )


@bp.get("/robots.txt")
def robots():
    """Everything may be crawled; the sitemap, when there is one, says what there is."""
    base = current_app.config["PUBLIC_BASE_URL"]
    body = "User-agent: *\nAllow: /\nDisallow: /metrics\n"
    if base:
        body += f"\nSitemap: {base}/sitemap.xml\n"
    return cacheable(Response(body, content_type="text/plain; charset=utf-8"))


def cacheable(response: Response) -> Response:
    response.headers["Cache-Control"] = SITE_FILES_CACHE_CONTROL
    return response


def init_app(app: Flask) -> None:
    """Register the sitemap and robots.txt."""
    app.register_blueprint(bp)
