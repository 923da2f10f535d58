"""The help centre's Flask class: Flask, with the router's own redirects made relative."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, redirect
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
