"""The ceiling for any Python app under granian: a WSGI callable returning fixed bytes and headers.

bench/run.py serves it with the page body and the same response headers the help centre
sends on a cache hit, so the gap between the two is the help centre's own Python.
"""

import json
import os
from pathlib import Path

BODY = Path(os.environ["BARE_BODY"]).read_bytes()
HEADERS = [tuple(pair) for pair in json.loads(os.environ["BARE_HEADERS"])]


def app(environ, start_response):
    start_response("200 OK", list(HEADERS))
    return [BODY]
