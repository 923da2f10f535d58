"""What readers type (searches, comments), made safe to keep and to show: personal data
replaced before a search is kept anywhere (the insights database and the access log
alike), control characters dropped, and text no encoding takes refused."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode

# Control characters other than line breaks and tabs: dropped from comments.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Between the digits of a phone number: spaces, dots, commas, slashes, hyphens and dashes,
# up to three of them ("91 / 23 / 45 / 67", "91–23–45–67", "91,23,45,67").
_DIGIT_SEPARATOR = r"[\s./,\u2010-\u2015-]{0,3}"
# What a word of an address may hold: no spaces, and none of the brackets written around
# "at" and "dot". An address starts a word (after a space or a bracket), so each word is
# tried once: every pattern here takes time in proportion to the text, whatever a reader
# sends ("(at)" 128 times took 235 ms with looser patterns, 512 letters 10 ms).
_START = r"(?<![^\s()\[\]])"
_PART = r"[^\s()\[\]@]+"
_AT = r"(?:\s*(?:\(at\)|\[at\])\s*| (?:at|krøllalfa|alfakrøll|snabel-a) )"
_DOT = r"(?:\s*(?:\(dot\)|\[dot\]|\(punktum\))\s*| (?:dot|punktum|prikk) |\.)"
# Patterns of personal data, replaced in this order.
REDACTIONS = (
    # An e-mail address, also with spaces around the @ ("kari @ example.no").
    (re.compile(rf"{_START}{_PART} ?@ ?{_PART}"), "[e-post]"),
    # One written out to dodge a filter: "kari at example dot no", "kari(at)example(punktum)no".
    (re.compile(rf"{_START}{_PART}{_AT}{_PART}(?:{_DOT}{_PART})+", re.IGNORECASE), "[e-post]"),
    # 8 or more digits with separators between them: a phone number.
    (re.compile(rf"\+?\d(?:{_DIGIT_SEPARATOR}\d){{7,}}"), "[telefon]"),
    (re.compile(r"\d{5,}"), "[tall]"),
)


def was_redacted(text: str) -> bool:
    """Whether redacting `text` replaced something in it."""
    return any(replacement in text for _, replacement in REDACTIONS)


def normalized(text: str) -> str:
    """`text` as the redactions read it: NFKC (full-width letters and digits as ASCII), no
    control or format characters (zero-width spaces), single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(char for char in text if unicodedata.category(char)[0] != "C" or char == " ")
    return " ".join(text.split())


def redacted(text: str) -> str:
    """`text` (normalized) with e-mail addresses, phone numbers and long digit runs replaced."""
    text = normalized(text)
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def redacted_query_string(query: str, names: tuple[str, ...] = ("q",)) -> str:
    """A URL's query string with the values of the parameters `names` (what readers type)
    redacted; the names as the app reads them (`%71=` is `q=`). Unchanged, as it came, when
    nothing in it is redacted."""
    if "=" not in query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(key, redacted(value) if key in names else value) for key, value in pairs]
    return query if kept == pairs else urlencode(kept)


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
