"""`flask check-docs`: find broken internal links, missing titles, unsafe HTML, aliases that
clash and published addresses that lead nowhere now; `flask lock-links`: add the addresses
published since to docs/_links.lock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import unquote

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.content.addresses import LOCK_FILE, lock_new_addresses, lock_problems
from app.content.library import get_library
from app.content.links import INTERNAL_LINK, links_in
from app.content.page import SLUG
from app.content.rendering import markdown_to_html, sanitizer_changes
from app.content.store import DocumentStore
from app.languages import DEFAULT_LANGUAGE
from app.search.synonyms import SynonymError, read_synonyms

# A heading's anchor in rendered HTML: what a link's #fragment must name.
HEADING_ANCHOR = re.compile(r'<h[1-6][^>]*\bid="([^"]+)"')


def check_documents(
    store: DocumentStore,
    fallback: DocumentStore | None = None,
    app_schemes: frozenset[str] = frozenset(),
    aliases: dict[str, str] | None = None,
) -> list[str]:
    """Everything wrong with the documents in `store`, one line each (empty when all is well).

    Links may also lead to pages of `fallback`: readers are shown those where `store`
    has no page of that name. Links into the app may use `app_schemes`; a link to one of
    `aliases` (old slug -> page) should name the page itself.
    """
    store.load()
    problems = [message for _, message in sorted(store.errors.items())]
    pages = sorted(store.pages(), key=lambda p: p.slug)
    html = {page.slug: markdown_to_html(page.body)[0] for page in pages}
    anchors = {slug: set(HEADING_ANCHOR.findall(text)) for slug, text in html.items()}
    for page in fallback.pages() if fallback else ():
        if page.slug not in anchors:
            anchors[page.slug] = set(HEADING_ANCHOR.findall(markdown_to_html(page.body)[0]))
    for page in pages:
        where = f"{page.slug}.md"
        for href in links_in(html[page.slug]):
            problem = _link_problem(href, page.slug, anchors, aliases or {})
            if problem:
                problems.append(f"{where}: {problem}: {href!r}")
        for change in sanitizer_changes(page.body, app_schemes):
            problems.append(f"{where}: the sanitizer would remove or change {change}")
        for key, named in (("related", page.related), ("next", page.next_steps)):
            for target in named:
                if target == page.slug:
                    problems.append(f"{where}: '{key}:' names the page itself: {target!r}")
                elif target in (aliases or {}) and target not in anchors:
                    problems.append(f"{where}: '{key}:' names an old slug, an alias of {aliases[target]}: {target!r}")
                elif target not in anchors:
                    problems.append(f"{where}: '{key}:' names a page that does not exist: {target!r}")
    return problems


def _link_problem(href: str, slug: str, anchors: dict[str, set[str]], aliases: dict[str, str]) -> str | None:
    """What is wrong with one link from page `slug`, or None; links elsewhere are not checked."""
    if href.startswith("#"):
        target, fragment = slug, href[1:]
    else:
        match = INTERNAL_LINK.fullmatch(href)
        if match is None:
            return None
        target, fragment = match.groups()
        if not SLUG.fullmatch(target):
            return "malformed internal link"
        if target not in anchors:
            if target in aliases:
                # It works (a redirect), but costs readers a detour and counts as an old link.
                return f"link to an old slug, an alias of {aliases[target]}: link to docs.php?doc={aliases[target]}"
            return "link to a page that does not exist"
    if fragment and unquote(fragment) not in anchors[target]:
        return f"no heading with the anchor #{unquote(fragment)} in {target}.md"
    return None


@click.command("check-docs")
@with_appcontext
def check_docs_command() -> None:
    """Check every document in DOCS_DIR, in every language, its aliases and the addresses in
    _links.lock; exit 1 if any problem is found."""
    problems, counts = [], []
    library = get_library()
    stores, schemes = library.stores, current_app.config["APP_URL_SCHEMES"]
    default = stores[DEFAULT_LANGUAGE]
    for lang, store in stores.items():
        fallback = None if store is default else default
        found = check_documents(store, fallback, schemes, library.addresses().aliases)
        problems += [f"[{lang}] {problem}" for problem in found]
        counts.append(f"{len(store)} in {lang}")
    problems += list(library.addresses().problems)
    locked, unresolved = lock_problems(library)
    problems += unresolved
    try:
        read_synonyms(current_app.config["DOCS_DIR"])
    except SynonymError as exc:
        problems.append(str(exc))
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo(
        f"{', '.join(counts)} documents: all links, anchors, titles, HTML and aliases are fine; so are "
        f"_synonyms.yml and the {locked} addresses in {LOCK_FILE}."
    )


@click.command("lock-links")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day to date new addresses (UTC today).")
@with_appcontext
def lock_links_command(today: datetime | None) -> None:
    """Add every address the pages publish (their slugs in each language, aliases and context
    keys) that docs/_links.lock lacks, dated today. A line is never removed."""
    day: date = today.date() if today else datetime.now(UTC).date()
    added = lock_new_addresses(get_library(), day)
    for line in added:
        click.echo(f"+ {line}")
    click.echo(f"{len(added)} new addresses in {LOCK_FILE}." if added else f"Nothing new for {LOCK_FILE}.")


def init_app(app: Flask) -> None:
    """Register the `flask check-docs` and `flask lock-links` commands."""
    app.cli.add_command(check_docs_command)
    app.cli.add_command(lock_links_command)
