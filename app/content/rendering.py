"""Markdown to safe HTML: one pure function, `render_markdown`, its allow-lists, and the
checks of what the sanitizer would change (for `make check`)."""

from __future__ import annotations

import html as html_lib
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

import bleach
import markdown
from bleach.html5lib_shim import Filter
from markdown.extensions.toc import slugify_unicode

# Tags that Python-Markdown emits for the syntax we enable, plus the three the chip
# blocks are made of (div, a, i, strong). Nothing that can run script, load a frame,
# submit a form or restyle the page (script, style, iframe, object, form, svg, math,
# base, meta, link) is here.
ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)

# Attributes by tag. `class` is further limited to ALLOWED_CLASSES; `id` only on
# headings (the table of contents links to them); no `style`, no event handlers.
ALLOWED_ATTRIBUTES = {
    "a": frozenset({"href", "title", "class"}),
    "abbr": frozenset({"title"}),
    "code": frozenset({"class"}),
    "div": frozenset({"class"}),
    "i": frozenset({"class"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "ol": frozenset({"start"}),
    "pre": frozenset({"class"}),
    "span": frozenset({"class"}),
    "strong": frozenset({"class"}),
    "td": frozenset({"align"}),
    "th": frozenset({"align"}),
    **{f"h{level}": frozenset({"id"}) for level in range(1, 7)},
}

# The classes the old pages use for chip link blocks and their icons; the stylesheet
# styles exactly these. Any other class could borrow the layout's own styles.
ALLOWED_CLASSES = frozenset(
    {
        "chip",
        "chip-s",
        "bg-gray-light",
        "bg-green-dark",
        "bg-dark-light",
        "color-white",
        "color-black",
        "font-400",
        "mt-3",
        "fa",
        "fa-info",
        "fa-question",
    }
)

# Schemes a link may use; relative URLs and #fragments carry no scheme and pass.
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# Besides these, a link into the app itself may use a scheme named in APP_URL_SCHEMES
# (`avatarify://upload`): only in this shape, with no second colon, whitespace, escape or
# backslash for a handler in the app to read another way. Such links are marked with
# APP_LINK_CLASS, for the app's web view to intercept.
APP_LINK = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):((?://)?[A-Za-z0-9._~/?&=+#-]*)")
APP_LINK_CLASS = "app-link"

# A URL scheme as a browser reads it: ASCII whitespace and controls inside it are skipped.
URL_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\ufeff]+")
CODE_LANGUAGE_CLASS = re.compile(r"language-[a-z0-9_+#-]{1,30}")
# What an `id` may be: a heading's anchor, as heading_id makes them, and nothing else.
ALLOWED_ID = re.compile(r"[\w-]{1,120}")
TABLE_ALIGN = frozenset({"left", "center", "right"})
# Ids the layout (templates/base.html) gives its own elements: a heading never takes one.
LAYOUT_IDS = frozenset(
    {
        "innhold",
        "sok",
        "tilbakemelding",
        "tilbakemelding-sporsmal",
        "kommentar",
        "kommentar-hint",
        "neste-steg",
        "relaterte-sider",
    }
)

# Limits on what Python-Markdown would take too long, or recurse too deep, to render:
# its link and emphasis patterns are quadratic or recursive in the worst case
# (12 KB of "[a" took 10 s; 2,000 "*" on each side of a word overflowed the stack).
MAX_MARKER_RUN = 100  # "*" or "_" in a row
MAX_INDENT = 100  # columns of indentation: nested lists or quotes
MAX_BRACKET_WORK = 250_000  # characters the link patterns would scan; about 0.25 s
MARKER_RUN = re.compile(rf"\*{{{MAX_MARKER_RUN + 1},}}|_{{{MAX_MARKER_RUN + 1},}}")
INDENT = re.compile(rf"^[ \t>]{{{MAX_INDENT + 1},}}", re.M)
BRACKET = re.compile(r"[\[\]()]|\n[ \t]*\n")


def allow_attribute(tag: str, name: str, value: str, app_schemes: frozenset[str] = frozenset()) -> bool:
    """Decide one attribute; URL schemes are checked separately by bleach (and here)."""
    if name not in ALLOWED_ATTRIBUTES.get(tag, ()):
        return False
    if name == "class":
        return all(c in ALLOWED_CLASSES or CODE_LANGUAGE_CLASS.fullmatch(c) for c in value.split())
    if name == "id":
        return ALLOWED_ID.fullmatch(value) is not None and value not in LAYOUT_IDS
    if name == "align":
        return value in TABLE_ALIGN
    if name in ("href", "src"):
        return _allow_url(name, value, app_schemes)
    if name in ("width", "height", "start"):
        return value.isdigit()
    return True


def browser_url(value: str) -> str:
    """An attribute's URL as a browser will follow it: entities decoded (bleach keeps them),
    the characters it ignores removed, backslashes read as slashes, lower case."""
    return IGNORED_IN_URL.sub("", html_lib.unescape(value)).replace("\\", "/").lower()


def _allow_url(name: str, value: str, app_schemes: frozenset[str] = frozenset()) -> bool:
    """Allow only listed schemes, however the scheme is spelled; images only from this site;
    links into the app (`app_schemes`) only as APP_LINK spells them.

    bleach alone lets `javascript:123` pass (Python reads it as a path with a port), and
    decides on the text before entities are decoded, so the decision is made here on the
    URL the browser will see.
    """
    url = browser_url(value)
    scheme = URL_SCHEME.match(url)
    if name == "src":
        # A foreign image host would be a third-party request from our page.
        return scheme is None and not url.startswith("//")
    if scheme is None or scheme.group(1) in ALLOWED_PROTOCOLS:
        return True
    app_link = APP_LINK.fullmatch(html_lib.unescape(value))
    return app_link is not None and app_link.group(1).lower() in app_schemes


class MarkupFilter(Filter):
    """Hide decorative icons from screen readers and mark links that leave the help centre:
    to another site, or into the app."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag"):
                attrs = token["data"]
                href = attrs.get((None, "href"), "")
                if token["name"] == "i":
                    attrs[(None, "aria-hidden")] = "true"
                elif token["name"] == "a" and _is_external(href):
                    attrs[(None, "rel")] = "external noopener noreferrer"
                elif token["name"] == "a" and _is_app_link(href):
                    attrs[(None, "class")] = " ".join(filter(None, (attrs.get((None, "class")), APP_LINK_CLASS)))
            yield token


def _is_external(href: str) -> bool:
    """True for links to another site (absolute http(s) or protocol-relative, however written)."""
    return browser_url(href).startswith(("http:", "https:", "//"))


def _is_app_link(href: str) -> bool:
    """True for a link the sanitizer kept with a scheme other than the web's: one into the app."""
    scheme = URL_SCHEME.match(browser_url(href))
    return scheme is not None and scheme.group(1) not in ALLOWED_PROTOCOLS


def heading_id(text: str, separator: str) -> str:
    """A heading's anchor: its words, Norwegian letters kept ("Første gang" -> "første-gang"),
    never one of the layout's own ids."""
    anchor = slugify_unicode(text, separator)
    return f"{anchor}{separator}1" if anchor in LAYOUT_IDS else anchor


def markdown_problem(text: str) -> str | None:
    """Why Markdown would take too long or recurse too deep to render `text`; None if it won't."""

    def line(position: int) -> int:
        return text.count("\n", 0, position) + 1

    # The substring tests are C scans, a hundred times faster than the patterns that follow.
    run = ("*" * (MAX_MARKER_RUN + 1) in text or "_" * (MAX_MARKER_RUN + 1) in text) and MARKER_RUN.search(text)
    if run:
        return f"line {line(run.start())}: more than {MAX_MARKER_RUN} '{run.group()[0]}' in a row"
    indent = INDENT.search(text)
    if indent:
        return f"line {line(indent.start())}: indented or quoted more than {MAX_INDENT} columns deep"
    if "[" not in text and "(" not in text:
        return None
    # Each "[" or "(" makes the link patterns scan to its partner, or to the end of its
    # paragraph when it has none: add up those distances.
    work, open_at = 0, []
    for match in BRACKET.finditer(text):
        char = match.group()
        if char in "[(":
            open_at.append(match.start())
        elif char in "])":
            if open_at:
                work += match.start() - open_at.pop()
        else:  # a blank line ends the paragraph: what is still open scans to here
            work += sum(match.start() - position for position in open_at)
            open_at.clear()
        if work > MAX_BRACKET_WORK:
            return (
                f"line {line(match.start())}: too many unclosed or nested brackets "
                "for Markdown to render in reasonable time"
            )
    work += sum(len(text) - position for position in open_at)
    if work > MAX_BRACKET_WORK:
        return "too many unclosed or nested brackets for Markdown to render in reasonable time"
    return None


@dataclass(frozen=True)
class Rendered:
    """A rendered document: sanitized HTML and the headings it contains."""

    html: str
    headings: tuple[tuple[int, str, str], ...]  # (level, anchor, text)


_local = threading.local()


def _markdown() -> markdown.Markdown:
    """One configured Markdown instance per thread; instances are not thread-safe."""
    md = getattr(_local, "markdown", None)
    if md is None:
        md = _local.markdown = markdown.Markdown(
            extensions=["tables", "fenced_code", "sane_lists", "toc"],
            extension_configs={
                "tables": {"use_align_attribute": True},
                # Keep Norwegian letters in anchors: "Første gang" -> "første-gang".
                "toc": {"slugify": heading_id, "toc_depth": "2-3"},
            },
            output_format="html",
        )
    return md


def _cleaner(marking: bool = True, app_schemes: frozenset[str] = frozenset()) -> bleach.Cleaner:
    """A bleach Cleaner per thread (they are not thread-safe) and set of app schemes; building
    one is costly.

    `marking` adds MarkupFilter; without it the cleaner only removes, for comparisons.
    """
    cleaners = getattr(_local, "cleaners", None)
    if cleaners is None:
        cleaners = _local.cleaners = {}
    cleaner = cleaners.get((marking, app_schemes))
    if cleaner is None:
        cleaner = cleaners[marking, app_schemes] = bleach.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=lambda tag, name, value: allow_attribute(tag, name, value, app_schemes),
            protocols=ALLOWED_PROTOCOLS | app_schemes,
            strip=True,
            strip_comments=True,
            filters=[MarkupFilter] if marking else [],
        )
    return cleaner


def markdown_to_html(text: str) -> tuple[str, tuple[tuple[int, str, str], ...]]:
    """Convert Markdown to HTML that has not been sanitized yet, with its headings."""
    md = _markdown()
    md.reset()
    html = md.convert(text)
    return html, tuple(_flatten(md.toc_tokens))


def _flatten(tokens: list[dict]):
    """Walk the nested toc tokens in document order."""
    for token in tokens:
        # The name comes HTML-escaped ("A &amp; B"); the template and JSON escape it themselves.
        yield token["level"], token["id"], html_lib.unescape(token["name"])
        yield from _flatten(token["children"])


def sanitize(html: str, app_schemes: frozenset[str] = frozenset()) -> str:
    """Strip everything outside the allow-lists (links into the app with `app_schemes` kept);
    mark icons, external links and links into the app."""
    return _cleaner(app_schemes=app_schemes).clean(html)


@lru_cache(maxsize=64)
def render_markdown(text: str, app_schemes: frozenset[str] = frozenset()) -> Rendered:
    """Render a document body to sanitized HTML; links into the app may use `app_schemes`
    (the setting APP_URL_SCHEMES).

    Remembered for the last 64 bodies: one page version is shown in several variants
    (languages of the layout, embedded, themes), and each would otherwise render it again.
    """
    html, headings = markdown_to_html(text)
    return Rendered(html=sanitize(html, app_schemes), headings=headings)


class _TagCollector(HTMLParser):
    """Collect start tags with their attributes, to compare HTML before and after cleaning."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, tuple[tuple[str, str], ...]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(sorted((k, v or "") for k, v in attrs))))

    handle_startendtag = handle_starttag


def _tags(html: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    collector = _TagCollector()
    collector.feed(html)
    collector.close()
    return collector.tags


def sanitizer_changes(text: str, app_schemes: frozenset[str] = frozenset()) -> list[str]:
    """List the tags and attributes of a document that sanitizing would drop or alter."""
    html, _ = markdown_to_html(text)
    before = _tags(html)
    after = set(_tags(_cleaner(marking=False, app_schemes=app_schemes).clean(html)))
    changes = []
    for tag, attrs in before:
        if (tag, attrs) not in after:
            shown = " ".join(f'{k}="{v}"' for k, v in attrs)
            changes.append(f"<{tag}{' ' + shown if shown else ''}>")
    return changes
