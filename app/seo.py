"""For search engines: /sitemap.xml listing every page, and /robots.txt pointing to it."""

from __future__ import annotations

from datetime import datetime, timezone
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, current_app, request, url_for

from app.documents import DEFAULT_LANGUAGE, LANGUAGES, get_library

bp = Blueprint("seo", __name__)


def site_root() -> tuple[str, bool]:
    """The public base URL, and whether it came from the settings (else from this request)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return (base, True) if base else (request.host_url.rstrip("/"), False)


def cacheable(response: Response, configured: bool) -> Response:
    # Built from the request's Host header, an answer must not be stored for others.
    response.headers["Cache-Control"] = "public, max-age=3600" if configured else "no-store"
    return response


@bp.get("/sitemap.xml")
def sitemap():
    """Every help page, in every language it exists in, with the time its file last changed."""
    base, configured = site_root()
    entries = []
    for lang in LANGUAGES:
        extra = {} if lang == DEFAULT_LANGUAGE else {"lang": lang}
        for page in sorted(get_library(lang).pages(), key=lambda p: p.slug):
            modified = datetime.fromtimestamp(page.mtime_ns / 1e9, tz=timezone.utc).isoformat(timespec="seconds")
            entries.append(f"  <url><loc>{escape(base + url_for('help.docs', doc=page.slug, **extra))}</loc>"
                           f"<lastmod>{modified}</lastmod></url>")
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(entries) + "\n</urlset>\n")
    return cacheable(Response(body, content_type="application/xml; charset=utf-8"), configured)


@bp.get("/robots.txt")
def robots():
    """Everything may be crawled; the sitemap says what there is."""
    base, configured = site_root()
    body = f"User-agent: *\nAllow: /\nDisallow: /metrics\n\nSitemap: {base}/sitemap.xml\n"
    return cacheable(Response(body, content_type="text/plain; charset=utf-8"), configured)


def init_app(app: Flask) -> None:
    """Register the sitemap and robots.txt."""
    app.register_blueprint(bp)
