"""The help centre's Flask class (Flask, with the router's own redirects made relative), and
how it reads the client's address behind a proxy."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, redirect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect


class HelpCentre(Flask):
    """Flask, with the router's own redirects (`/api//docs` to `/api/docs`) answered without
    a body: werkzeug's names an absolute URL built from the request's Host, and no answer
    carries a host taken from the request. Flask passes them to no error handler."""

    def handle_http_exception(self, e):
        if isinstance(e, RequestRedirect):
            response = redirect(urlsplit(e.new_url)._replace(scheme="", netloc="").geturl(), code=e.code)
            response.set_data(b"")
            return response
        return super().handle_http_exception(e)


class ProxiedAddresses(ProxyFix):
    """werkzeug's ProxyFix, reading X-Forwarded-For as the plain comma-separated list proxies
    write. werkzeug's list parser finds nothing in a header with an unbalanced quote: a client
    that sent `"x` (the proxy adding `, its address`) was taken for the proxy itself, a second
    identity for votes, counts and rate limits. Addresses hold no commas or quotes."""

    def _get_real_value(self, trusted: int, value: str | None) -> str | None:
        if not (trusted and value):
            return None
        values = [part.strip() for part in value.split(",")]
        return values[-trusted] if len(values) >= trusted else None
