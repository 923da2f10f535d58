"""Accept-Encoding: which compressed form of a cached page a client gets."""

from __future__ import annotations

from functools import lru_cache

from werkzeug.datastructures import Accept
from werkzeug.http import parse_accept_header

# Only this much of a header is read (and remembered): real ones are far shorter.
MAX_HEADER_CHARS = 256


def preferred_encoding(accept_encoding: str) -> str:
    """'br', 'gzip' or '' (identity) for an Accept-Encoding header."""
    return _preferred_encoding(accept_encoding[:MAX_HEADER_CHARS])


@lru_cache(maxsize=256)  # clients send few distinct values; each is cut to MAX_HEADER_CHARS
def _preferred_encoding(accept_encoding: str) -> str:
    # werkzeug's parser, remembered: a cache hit pays its cost once per distinct header.
    accepted = parse_accept_header(accept_encoding.lower(), Accept)
    for encoding in ("br", "gzip"):
        if accepted[encoding] > 0:  # `*` counts for what is not named; `q=0` refuses
            return encoding
    return ""
