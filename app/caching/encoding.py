"""Accept-Encoding: which compressed form of a cached page a client gets."""

from __future__ import annotations

from functools import lru_cache

# Only this much of a header is read (and remembered): real ones are far shorter.
MAX_HEADER_CHARS = 256


def qualities(header: str) -> list[tuple[str, float]]:
    """(token, quality) for each item of an Accept-* header, in order; junk quality counts as 0.

    Hand-written for the cache hit's path, like `pagecache.CachedPage.not_modified`: see there
    why werkzeug's parsers are not used.
    """
    items = []
    for item in header.lower().split(","):
        token, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        items.append((token.strip(), quality))
    return items


def preferred_encoding(accept_encoding: str) -> str:
    """'br', 'gzip' or '' (identity) for an Accept-Encoding header."""
    return _preferred_encoding(accept_encoding[:MAX_HEADER_CHARS])


@lru_cache(maxsize=256)  # clients send few distinct values; each is cut to MAX_HEADER_CHARS
def _preferred_encoding(accept_encoding: str) -> str:
    accepted = dict(qualities(accept_encoding))
    for encoding in ("br", "gzip"):
        if accepted.get(encoding, accepted.get("*", 0.0)) > 0:
            return encoding
    return ""
