"""Translations and what they were made from: a translated page records the text digest of the
default language's page in `translated_from:` (`flask translated` writes it), so that a
change to the original shows as drift however the files' times were set by a checkout.

`drift` says where a translation stands; `recorded` is the one careful edit of a file that
`flask translated` makes: the `translated_from:` line written or added, every other byte kept.
"""

from __future__ import annotations

import re

import yaml

from app.content.page import FRONT_MATTER, YAML_TEXT, Page

# Where a translation stands against the page it was translated from.
CURRENT = "current"  # translated from the original as it is now
OUTDATED = "outdated"  # the original has changed since
UNRECORDED = "unrecorded"  # no `translated_from:`: nobody has said what it was translated from
UNTRANSLATED = "untranslated"  # the original has no translation (not a problem)
STATES = (OUTDATED, UNRECORDED, UNTRANSLATED, CURRENT)  # the most in need of a translator first

KEY = "translated_from"
# The key's line in front matter, its value (plain or quoted) apart from a comment after it.
KEY_LINE = re.compile(rf"^({KEY}[ \t]*:[ \t]*)(\"[^\"\r\n]*\"|'[^'\r\n]*'|[^\s#]*)", re.MULTILINE)
_resolver = yaml.resolver.Resolver()


def drift(original: Page | None, translation: Page | None) -> str | None:
    """Where `translation` stands against `original` (the default language's page of the same
    slug); None when there is no original to translate from."""
    if original is None:
        return None
    if translation is None:
        return UNTRANSLATED
    if not translation.translated_from:
        return UNRECORDED
    return CURRENT if translation.translated_from == original.text_digest else OUTDATED


def recorded(text: str, digest: str) -> str:
    """`text` (a document) with `translated_from: <digest>` in its front matter: the key's value
    replaced where it is, else a line added at the end of the front matter, else front matter
    made for it. Every other byte stays as it was, line endings and byte order mark included."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    document = text[len(bom) :]
    first_line = document.split("\n", 1)[0]
    newline = "\r\n" if first_line.endswith("\r") else "\n"
    # Sixteen decimal digits would be a number to YAML, and one with a leading 0 lose it.
    value = digest if _resolver.resolve(yaml.ScalarNode, digest, (True, False)) == YAML_TEXT else f'"{digest}"'
    match = FRONT_MATTER.match(document)
    if match is None:
        return f"{bom}---{newline}{KEY}: {value}{newline}---{newline}{document}"
    if match.group(1) is None:  # empty front matter: the line goes between its two ---
        opening = len(first_line) + 1
        return f"{bom}{document[:opening]}{KEY}: {value}{newline}{document[opening:]}"
    start, end = match.span(1)
    inner = document[start:end]
    line = KEY_LINE.search(inner)
    if line is not None:
        inner = inner[: line.start(2)] + value + inner[line.end(2) :]
    else:
        inner = f"{inner}{newline}{KEY}: {value}"
    return bom + document[:start] + inner + document[end:]
