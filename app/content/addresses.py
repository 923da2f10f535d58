"""Addresses that lead to pages besides their slugs, and the promise to keep them.

A page may name old slugs that lead to it (`aliases:`) and the places in the app it helps
with (`contexts:`, for `/go/<key>`); `Addresses` indexes both across every language, so a
request is only ever looked up in it. `docs/_links.lock` lists every address ever
published, with its day: old builds of the app link to them for years, so `flask
check-docs` fails while one of them leads nowhere, and `flask lock-links` adds new ones
(it never removes a line).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from app.content.page import CONTEXT_KEY, SLUG, Page
from app.languages import CODES

if TYPE_CHECKING:
    from app.content.library import Library

LOCK_FILE = "_links.lock"
LOCK_HEADER = """\
# Every address of the help centre that has ever been published, with the day it first was.
# Builds of the Avatarify app link to these for years: `make check` fails while one of them
# leads nowhere (give a renamed page its old slug in `aliases:`, or a page the context key in
# `contexts:`). `make lock-links` adds new addresses; never remove a line.
"""
# A line of the lock: an address as the app writes it, then the day it was first published.
LOCK_LINE = re.compile(
    r"(?P<address>/docs\.php\?doc=(?P<slug>[^\s&]+)&lang=(?P<lang>[a-z]+)|/go/(?P<key>\S+))"
    r"[ \t]+(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})"
)


@dataclass(frozen=True)
class Addresses:
    """Every alias and context key the pages name, in any language."""

    aliases: dict[str, str]  # old slug -> the slug of the page it leads to
    contexts: dict[str, tuple[str, ...]]  # context key -> the slugs of its pages, sorted
    problems: tuple[str, ...] = ()  # one line each: aliases that are pages, or that two pages claim

    def of_page(self, slug: str) -> tuple[list[str], list[str]]:
        """The aliases that lead to page `slug`, and the context keys that name it, sorted."""
        return (
            sorted(alias for alias, target in self.aliases.items() if target == slug),
            [key for key, slugs in self.contexts.items() if slug in slugs],
        )


def index_addresses(pages: dict[str, list[Page]]) -> Addresses:
    """The Addresses of `pages` (by language). An alias that is also a page's slug is left out
    (the page wins), and so is one that two pages claim (it leads to neither: no guess); each
    is a problem."""
    slugs = {page.slug for found in pages.values() for page in found}
    claims: dict[str, dict[str, list[str]]] = defaultdict(dict)  # alias -> slug -> files naming it
    contexts: dict[str, set[str]] = defaultdict(set)
    for code, found in pages.items():
        for page in sorted(found, key=lambda p: p.slug):
            for alias in page.aliases:
                claims[alias].setdefault(page.slug, []).append(f"[{code}] {page.slug}.md")
            for key in page.contexts:
                contexts[key].add(page.slug)
    aliases, problems = {}, []
    for alias, claimants in sorted(claims.items()):
        files = ", ".join(file for named_in in claimants.values() for file in named_in)
        if alias in slugs:
            problems.append(f"{files}: the alias '{alias}' is also a page's slug; the page wins over the alias")
        elif len(claimants) > 1:
            problems.append(f"{files}: each claims the alias '{alias}', so it leads to none of them")
        else:
            aliases[alias] = next(iter(claimants))
    return Addresses(aliases, {key: tuple(sorted(found)) for key, found in sorted(contexts.items())}, tuple(problems))


def doc_address(slug: str, lang: str) -> str:
    """A page's address in one language, as the lock writes it."""
    return f"/docs.php?doc={slug}&lang={lang}"


def go_address(key: str) -> str:
    """A context key's address, as the lock writes it."""
    return f"/go/{key}"


def published(library: Library) -> set[str]:
    """Every address the pages give now: each page in each language it is written in, each
    alias in the languages its page is written in, and each context key (drafts' none)."""
    addresses = library.addresses()
    found, everywhere = set(), set()
    for code, store in library.stores.items():
        slugs = {page.slug for page in store.pages() if not page.draft}  # a draft is published by no one
        everywhere |= slugs
        found.update(doc_address(slug, code) for slug in slugs)
        found.update(doc_address(alias, code) for alias, slug in addresses.aliases.items() if slug in slugs)
    found.update(go_address(key) for key, slugs in addresses.contexts.items() if everywhere.intersection(slugs))
    return found


class Locked(NamedTuple):
    """One address of the lock: a page's slug in a language, or a context key."""

    day: str  # when it was first published, as the lock writes it
    slug: str | None
    lang: str | None
    key: str | None


def read_lock(path: Path) -> tuple[dict[str, Locked], list[str]]:
    """The addresses of a lock file, and a problem line for each line that is neither an
    address with its day, a comment nor blank. No file: nothing is locked."""
    if not path.is_file():
        return {}, []
    locked, problems = {}, []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = LOCK_LINE.fullmatch(text)
        if match is None or not _well_formed(match):
            problems.append(f"{LOCK_FILE} line {number}: not an address and the day it was published: {text[:120]!r}")
            continue
        locked.setdefault(match["address"], Locked(match["day"], match["slug"], match["lang"], match["key"]))
    return locked, problems


def _well_formed(match: re.Match) -> bool:
    try:
        date.fromisoformat(match["day"])
    except ValueError:
        return False
    if match["key"] is not None:
        return CONTEXT_KEY.fullmatch(match["key"]) is not None
    return SLUG.fullmatch(match["slug"]) is not None and match["lang"] in CODES


def leads_somewhere(library: Library, locked: Locked) -> bool:
    """Whether a locked address still leads to a page: the page itself (one failing to load is
    there, and reported as such), an alias of a page there, or a context key some page names."""
    addresses = library.addresses()
    if locked.key is not None:
        return locked.key in addresses.contexts
    if library.find(locked.slug, locked.lang) is not None or library.unreadable(locked.slug, locked.lang):
        return True
    target = addresses.aliases.get(locked.slug)
    return target is not None and library.find(target, locked.lang) is not None


def lock_problems(library: Library) -> tuple[int, list[str]]:
    """How many addresses the docs folder's lock holds, and a line for each that leads nowhere
    now (and for each line that is no address)."""
    locked, problems = read_lock(library.root / LOCK_FILE)
    drafts = [page for store in library.stores.values() for page in store.pages(with_drafts=True) if page.draft]
    # What drafts would answer to once published (readers never see a draft): slugs, keys.
    slugs = {name for page in drafts for name in (page.slug, *page.aliases)}
    keys = {key for page in drafts for key in page.contexts}
    for address, entry in locked.items():
        if not leads_somewhere(library, entry):
            name, key = (entry.key, "contexts") if entry.key is not None else (entry.slug, "aliases")
            fix = f"give {'a page' if key == 'contexts' else 'the page that replaces it'} `{key}: [{name}]`"
            if name in (keys if key == "contexts" else slugs):
                fix = f"its page is a draft: publish it, or {fix}"
            problems.append(f"{LOCK_FILE}: {address} (published {entry.day}) leads nowhere now: {fix}")
    return len(locked), problems


def lock_new_addresses(library: Library, today: date) -> list[str]:
    """Add every address the pages give that the docs folder's lock lacks, dated `today`, and
    return the lines added. A line is never removed or changed."""
    path = library.root / LOCK_FILE
    locked, _ = read_lock(path)
    lines = [f"{address} {today.isoformat()}" for address in sorted(published(library) - locked.keys())]
    if lines:
        text = path.read_text(encoding="utf-8") if path.is_file() else LOCK_HEADER
        if text and not text.endswith("\n"):
            text += "\n"
        path.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")
    return lines
