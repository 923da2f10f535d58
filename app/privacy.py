"""What readers type (searches, comments), made safe to keep and to show: personal data
replaced before a search is kept anywhere (the insights database and the access log
alike), control characters dropped, and text no encoding takes refused."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

# Control characters other than line breaks and tabs: dropped from comments.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Between the digits of a phone number: spaces, dots, commas, slashes, hyphens and dashes,
# up to three of them ("91 / 23 / 45 / 67", "91–23–45–67", "91,23,45,67").
_DIGIT_SEPARATOR = r"[\s./,\u2010-\u2015-]{0,3}"
# Patterns of personal data, replaced in this order.
REDACTIONS = (
    # An e-mail address, also with spaces around the @ ("kari @ example.no").
    (re.compile(r"\S+\s*@\s*\S+"), "[e-post]"),
    # One written out to dodge a filter: "kari at example dot no", "kari(at)example(punktum)no".
    (re.compile(r"\S+\s*(?:\(at\)|\[at\]|\sat\s|\skrøllalfa\s)\s*\S+?\s*(?:\(dot\)|\[dot\]|\(punktum\)|\sdot\s|"
                r"\spunktum\s|\sprikk\s)\s*\S+", re.IGNORECASE), "[e-post]"),
    # 8 or more digits with separators between them: a phone number.
    (re.compile(rf"\+?\d(?:{_DIGIT_SEPARATOR}\d){{7,}}"), "[telefon]"),
    (re.compile(r"\d{5,}"), "[tall]"),
)


def redacted(text: str) -> str:
    """`text` with e-mail addresses, phone numbers and long digit runs replaced."""
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def redacted_query_string(query: str, names: tuple[str, ...] = ("q",)) -> str:
    """A URL's query string with the values of the parameters `names` (what readers type) redacted."""
    if not any(query.startswith(f"{name}=") or f"&{name}=" in query for name in names):
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(key, redacted(value) if key in names else value) for key, value in pairs])


def without_controls(text: str) -> str:
    """`text` with line breaks as \\n and no other control characters (no HTML page may show them)."""
    return CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def is_unicode(text: str) -> bool:
    """Whether `text` can be stored: JSON's escapes can make lone surrogates, which no
    encoding, and so no database, takes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
