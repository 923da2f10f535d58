"""What an author's HTML leaves empty or open: faults of a page's rendered HTML that the
sanitizer would hide from `make check` by repairing them where it guesses."""

from __future__ import annotations

import re
from html.parser import HTMLParser

HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.DOTALL)
TAG = re.compile(r"<[^>]*>")
# Elements whose end tag HTML never needs, or may leave out inside a list or table that is
# closed. Not <p>: Markdown takes whatever follows an unclosed <p> as HTML, unrendered.
VOID_OR_OPTIONAL_END = frozenset(
    "area base br col embed hr img input link meta source track wbr li dt dd tr td th thead tbody tfoot option".split()
)


class _UnclosedTags(HTMLParser):
    """The elements of a fragment of HTML an end tag of their own never closes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.unclosed: list[str] = []  # closed only by an end tag around them

    def handle_starttag(self, tag, attrs):
        if tag not in VOID_OR_OPTIONAL_END:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            at = len(self.open) - 1 - self.open[::-1].index(tag)
            self.unclosed += self.open[at + 1 :]
            del self.open[at:]


def unclosed_tags(html: str) -> list[str]:
    """The tags of `html` never closed: the sanitizer closes each where it guesses, and the
    rest of the page may end up inside it (a chip's <strong>, a heading in a <div>)."""
    parser = _UnclosedTags()
    parser.feed(html)
    parser.close()
    return parser.unclosed + parser.open


def empty_headings(html: str) -> list[str]:
    """The level of each heading of `html` with no words in it ("## " alone, "## [](link)")."""
    return [level for level, inner in HEADING.findall(html) if not TAG.sub("", inner).strip()]
