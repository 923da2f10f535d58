"""Links between pages: the internal links a page writes, and the pages its chips lead to."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from app.content.page import SLUG

# An internal link as pages write it: docs.php?doc=<slug>[#anchor], relative or from the root.
INTERNAL_LINK = re.compile(r"(?:\.?/)?docs\.php\?doc=([^&#]*)(?:&[^#]*)?(?:#(.*))?")


class _LinkCollector(HTMLParser):
    """Collect the href of every <a> (with a given class, if asked) in a fragment of HTML."""

    def __init__(self, css_class: str | None):
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        wanted = self.css_class is None or self.css_class in (attrs.get("class") or "").split()
        if tag == "a" and attrs.get("href") and wanted:
            self.hrefs.append(attrs["href"])


def links_in(html: str, css_class: str | None = None) -> list[str]:
    """Every link target in a fragment of HTML, in order; only links with `css_class` if given."""
    collector = _LinkCollector(css_class)
    collector.feed(html)
    collector.close()
    return collector.hrefs


def chip_targets(html: str, slug: str) -> list[str]:
    """The pages the chip links of page `slug` lead to, in order, without the page itself."""
    slugs = []
    for href in links_in(html, css_class="chip"):
        match = INTERNAL_LINK.fullmatch(href)
        if match and SLUG.fullmatch(match.group(1)) and match.group(1) != slug:
            slugs.append(match.group(1))
    return list(dict.fromkeys(slugs))
