"""What an author's HTML leaves empty or open: faults of a page's rendered HTML that the
sanitizer would hide from `make check` by repairing them where it guesses."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from typing import NamedTuple

HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# Elements whose end tag HTML never needs, or may leave out inside a list or table that is
# closed. Not <p>: Markdown takes whatever follows an unclosed <p> as HTML, unrendered.
VOID_OR_OPTIONAL_END = frozenset(
    "area base br col embed hr img input link meta source track wbr li dt dd tr td th thead tbody tfoot option".split()
)
INVISIBLE = str.maketrans("", "", "\u200b\u200c\u200d\u2060\ufeff")  # zero-width characters


class _Markup(HTMLParser):
    """The elements of a fragment of HTML that an end tag of their own never closes, and its
    headings with nothing a reader sees in them (comments aside, as HTMLParser leaves them)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.counts: Counter[str] = Counter()  # of `open`: an end tag is looked for only if opened
        self.unclosed: list[str] = []  # closed only by an end tag around them
        self.empty: list[str] = []  # the levels of headings with no words or image
        self._heading: list[bool] = []  # per heading open: whether it has shown something

    def handle_starttag(self, tag, attrs):
        if tag == "img" and self._heading:
            self._heading[-1] = True
        if tag in HEADINGS:
            self._heading.append(False)
        if tag not in VOID_OR_OPTIONAL_END:
            self.open.append(tag)
            self.counts[tag] += 1

    # `<strong/>` opens a strong for HTML (only void elements close themselves), and the
    # sanitizer leaves it open: the rest of the page would be bold.
    handle_startendtag = handle_starttag

    def handle_data(self, data):
        if self._heading and data.translate(INVISIBLE).strip():
            self._heading[-1] = True

    def handle_endtag(self, tag):
        if tag in HEADINGS and self._heading and not self._heading.pop():
            self.empty.append(tag[1])
        if self.counts[tag]:
            at = len(self.open) - 1 - self.open[::-1].index(tag)
            self.unclosed += self.open[at + 1 :]
            for gone in self.open[at:]:
                self.counts[gone] -= 1
            del self.open[at:]


class Faults(NamedTuple):
    empty_headings: list[str]  # the level of each heading with no words or image ("## " alone, "## [](link)")
    # The tags never closed: the sanitizer closes each where it guesses, and the rest of the
    # page may end up inside it (a chip's <strong>, a heading in a <div>).
    unclosed_tags: list[str]


def faults(html: str) -> Faults:
    """What `html` leaves empty or open, in one pass."""
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return Faults(parser.empty, parser.unclosed + parser.open)
