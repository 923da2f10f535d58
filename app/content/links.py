"""Links between pages: the internal links a page writes, and the pages its chips lead to."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from markupsafe import escape

from app.content.page import SLUG

PAGE_PATHS = ("docs.php", "./docs.php", "/docs.php")
# An <a> tag's href in sanitized HTML (bleach writes every attribute in double quotes). Text
# that only looks like one, in code, is escaped (`&lt;a`) and never matches.
A_HREF = re.compile(r'(<a\s[^>]*?(?<=\s)href=")([^"]*)(")')


def internal_link(href: str) -> tuple[str, str | None, str] | None:
    """The page a link as pages write it leads to, `docs.php?doc=<slug>[&lang=en][#anchor]`
    (relative or from the root, its parameters in any order): (slug, lang or None, anchor),
    or None for any other link."""
    path, _, rest = href.partition("?")
    if path not in PAGE_PATHS:
        return None
    query, _, fragment = rest.partition("#")
    args = dict(reversed(parse_qsl(query, keep_blank_values=True)))  # the first of each, as Flask reads them
    return (args["doc"], args.get("lang"), fragment) if "doc" in args else None


def with_page_links(html: str, rewrite: Callable[[str, list[tuple[str, str]], str], str]) -> str:
    """`html` with every link to `docs.php` (a page, the index, a search; relative or from the
    root) made `rewrite(path, parameters, anchor)`: the href is read decoded (`&amp;`,
    `&#x26;`), and what `rewrite` gives is written escaped."""

    def one(match: re.Match) -> str:
        parts = urlsplit(unescape(match.group(2)))
        if parts.scheme or parts.netloc or parts.path not in PAGE_PATHS:
            return match.group(0)
        href = rewrite(parts.path, parse_qsl(parts.query, keep_blank_values=True), parts.fragment)
        return f"{match.group(1)}{escape(href)}{match.group(3)}"

    return A_HREF.sub(one, html)


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
        link = internal_link(href)
        if link and SLUG.fullmatch(link[0]) and link[0] != slug:
            slugs.append(link[0])
    return list(dict.fromkeys(slugs))
