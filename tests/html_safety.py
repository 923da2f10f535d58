"""An independent check that a piece of HTML can run no script and load nothing foreign."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from app.content.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

# What a browser ignores inside a URL scheme: ASCII whitespace and control characters.
IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\ufeff]+")
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:", "mocha:", "file:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset"}


class _Auditor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = value or ""
            if name not in ALLOWED_ATTRIBUTES.get(tag, ()) and (tag, name) not in (("i", "aria-hidden"), ("a", "rel")):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name.startswith("on") or name == "style":
                self.problems.append(f"attribute {name}")
            if name in URL_ATTRIBUTES:
                scheme_part = IGNORED_IN_SCHEME.sub("", value).lower()
                if scheme_part.startswith(BAD_SCHEMES):
                    self.problems.append(f"{name}={value!r}")
                if name == "src" and (scheme_part.startswith(("http:", "https:", "//", "/\\"))):
                    self.problems.append(f"foreign image {value!r}")

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.problems.append("comment")

    def handle_decl(self, decl):
        self.problems.append(f"declaration {decl!r}")

    def unknown_decl(self, data):
        self.problems.append(f"declaration {data!r}")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction {data!r}")


def unsafe_parts(html: str) -> list[str]:
    """Everything in `html` that could run script, restyle the page or request another host."""
    auditor = _Auditor()
    auditor.feed(html)
    auditor.close()
    return auditor.problems
