"""A page's sections: its prose under each heading, with the anchors the rendered page
gives those headings (for search passages and the table of contents)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markdown.extensions.toc import unique

from app.content.page import plain_text
from app.content.rendering import heading_id

HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)


HTML_BLOCK = re.compile(r"^<(\w+)[^>]*>.*?(?:^</\1>[ \t]*$|\Z)", re.M | re.S)


# Markers a page does not show as text: a quote's (nested too), a bullet's, a rule. (A
# numbered item keeps its number, which the index has as a word, and a reader too.)
QUOTE_MARKER = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M)
BULLET = re.compile(r"[ \t]*[-*+][ \t]+")
RULE = re.compile(r"[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*")


FENCE = re.compile(r"^(```|~~~).*?(?:^\1[ \t]*$|\Z)", re.M | re.S)


@dataclass(frozen=True)
class Section:
    """A part of a page: its heading's anchor and text ('' for the part before the first
    heading) and its prose as plain text."""

    anchor: str
    heading: str
    text: str


def sections(body: str) -> list[Section]:
    """The parts of a Markdown body with prose, under their headings, with the anchors the
    rendered page gives those headings.

    Raw HTML blocks (the chip link groups) are navigation, repeated on every page, so they
    and headings with nothing else under them are left out. The page's title (level 1)
    starts no section of its own: what follows it belongs to the first part.
    """
    # The substring tests skip the patterns' scans on the many pages without fences or HTML.
    if "<" in body:
        body = HTML_BLOCK.sub("", body)
    if "```" in body or "~~~" in body:
        body = FENCE.sub(lambda fence: fence.group().replace("\n#", "\n ").strip("`~"), body)
    parts = HEADING.split(body)
    # parts: [text before the first heading, hashes, heading, text, hashes, heading, text, ...]
    found = [Section("", "", parts[0])]
    used: set[str] = set()
    for i in range(1, len(parts), 3):
        level, heading, text = len(parts[i]), plain_text(parts[i + 1]), parts[i + 2]
        anchor = unique(_anchor(heading), used)  # as the Markdown toc extension numbers them
        if level == 1:
            found[-1] = Section(found[-1].anchor, found[-1].heading, found[-1].text + text)
        else:
            found.append(Section(anchor, heading, text))
    return [Section(s.anchor, s.heading, plain_text(_shown(s.text))) for s in found if s.text.strip()]


def _shown(text: str) -> str:
    """Markdown lines without the markers a page does not show. A bullet starts a list only
    after a blank line or in a list (Python-Markdown's rule): "- 2 kroner" that goes on a
    sentence is a minus the page shows."""
    if "-" not in text and "*" not in text and "+" not in text and ">" not in text:
        return text
    lines, listed, blank = [], False, True
    for line in QUOTE_MARKER.sub("", text).split("\n"):
        bullet = BULLET.match(line)
        if RULE.fullmatch(line):
            line = ""
        elif bullet and (blank or listed):
            line, listed = line[bullet.end() :], True
        elif blank and line.strip() and not line[:1].isspace():
            listed = False  # a paragraph after a blank line ends the list
        blank = not line.strip()
        lines.append(line)
    return "\n".join(lines)


@lru_cache(maxsize=4096)  # pages share headings ("Kilder"); the text is the documents', not readers'
def _anchor(heading: str) -> str:
    return heading_id(heading, "-")


def page_sections(body: str) -> tuple[list[str], str]:
    """The headings with prose under them, and all the prose, of a Markdown body."""
    found = sections(body)
    return [s.heading for s in found if s.heading], "\n".join(s.text for s in found)
