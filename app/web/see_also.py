"""Where a reader goes next from a page: the author's next steps (`next:`), and up to
MAX_RELATED related pages, the author's (`related:`) first, in their order, then the pages
most like it (app/search/related.py). Never the page itself, nor one listed twice.

What they show depends on other pages (their titles, and every page's words for the
automatic ones): `digest` names it, and the page's rendition is keyed by it, so a cached
page stays right. While the related pages' terms are being made again, a page shows those
of the last version, and is made again once the new ones are there."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from flask import Flask, current_app

from app.content.library import get_library, remembered
from app.content.page import Page

MAX_RELATED = 4


class Link(NamedTuple):
    """A page another page leads to: its slug, title and language, and whether the author chose it."""

    slug: str
    title: str
    lang: str
    pinned: bool


def next_steps(page: Page, lang: str) -> list[Link]:
    """The pages of the author's `next:` that exist, in order (`make check` names the others)."""
    return [link for slug in page.next_steps if (link := _found(slug, lang, pinned=True)) and slug != page.slug]


def see_also(page: Page, lang: str) -> list[Link]:
    """Up to MAX_RELATED pages: the author's `related:` first, then the most alike."""
    taken = {page.slug, *page.next_steps}
    chosen = []
    for slug in page.related:
        link = _found(slug, lang, pinned=True)
        if link and slug not in taken:
            chosen.append(link)
            taken.add(slug)
    alike = current_app.extensions["related"].like(page.slug, lang) or []
    for slug, _ in alike:
        if len(chosen) >= MAX_RELATED:
            break
        link = _found(slug, lang, pinned=False)
        if link and slug not in taken:
            chosen.append(link)
            taken.add(slug)
    return chosen[:MAX_RELATED]


def digest(page: Page, lang: str) -> tuple[str, bool]:
    """What a page's next steps and related pages show, as a short digest; and whether it
    is settled (the related pages found from the pages as they are, not from the terms of
    the last version or none). Once settled, kept while the pages stay the same."""
    key = (page.slug, page.version, lang)
    # Every request the front cache does not answer asks (the API's, a page's address spelt
    # otherwise): finding the related pages each time took 10 ms at 10,000 pages.
    found = remembered(key, lambda: _digest(page, lang), "shown")
    if not found[1]:  # asked again until the terms are made from the pages as they are
        current_app.extensions["shown"].pop(key, None)
    return found


def _digest(page: Page, lang: str) -> tuple[str, bool]:
    settled = current_app.extensions["related"].settled(lang)
    shown = [*next_steps(page, lang), *see_also(page, lang)]
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:12], settled


def _found(slug: str, lang: str, pinned: bool) -> Link | None:
    """The page `slug` names, or the page that took it over as an old slug (`make check` asks
    authors to name the page itself)."""
    library = get_library()
    slug = library.addresses().aliases.get(slug, slug) if pinned else slug
    found = library.find(slug, lang)
    return Link(slug, found[0].title, found[1], pinned) if found else None


def init_app(app: Flask) -> None:
    """The memo of what each page shows of others (a memo of its own: the 404 page's and the
    lists' are not pushed out by it)."""
    app.extensions["shown"] = {}
