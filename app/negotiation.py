"""Content negotiation: the quality values of Accept-* headers, parsed once per distinct header."""

from __future__ import annotations

from functools import lru_cache

from app.documents import DEFAULT_LANGUAGE

# What `lang=` and Accept-Language may say, and the language each means. Nynorsk and
# plain "no" readers get Bokmål: closer to what they asked for than English.
LANGUAGE_TAGS = {"nb": "nb", "no": "nb", "nn": "nb", "en": "en"}
# Only this much of a header is read (and remembered): real ones are far shorter.
MAX_HEADER_CHARS = 256


def qualities(header: str) -> list[tuple[str, float]]:
    """(token, quality) for each item of an Accept-* header, in order; junk quality counts as 0."""
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


def language_from_header(accept_language: str) -> str:
    """The best of our languages for an Accept-Language header; earlier entries win ties."""
    return _language_from_header(accept_language[:MAX_HEADER_CHARS])


@lru_cache(maxsize=256)  # clients send few distinct values; each is cut to MAX_HEADER_CHARS
def _preferred_encoding(accept_encoding: str) -> str:
    accepted = dict(qualities(accept_encoding))
    for encoding in ("br", "gzip"):
        if accepted.get(encoding, accepted.get("*", 0.0)) > 0:
            return encoding
    return ""


@lru_cache(maxsize=256)
def _language_from_header(accept_language: str) -> str:
    best, best_quality = DEFAULT_LANGUAGE, 0.0
    for tag, quality in qualities(accept_language):
        language = LANGUAGE_TAGS.get(tag.split("-")[0])
        if language and quality > best_quality:
            best, best_quality = language, quality
    return best


def language_from_param(value: str | None) -> str | None:
    """The language a `lang=` value names, or None when it names none we have."""
    if not value:
        return None
    return LANGUAGE_TAGS.get(value.strip().lower().split("-")[0])
