"""`flask check-docs`: find broken internal links, missing titles and unsafe HTML in the docs."""

from __future__ import annotations

import re
from urllib.parse import unquote

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

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
    store: DocumentStore, fallback: DocumentStore | None = None, app_schemes: frozenset[str] = frozenset()
) -> list[str]:
    """Everything wrong with the documents in `store`, one line each (empty when all is well).

    Links may also lead to pages of `fallback`: readers are shown those where `store`
    has no page of that name. Links into the app may use `app_schemes`.
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
            problem = _link_problem(href, page.slug, anchors)
            if problem:
                problems.append(f"{where}: {problem}: {href!r}")
        for change in sanitizer_changes(page.body, app_schemes):
            problems.append(f"{where}: the sanitizer would remove or change {change}")
    return problems


def _link_problem(href: str, slug: str, anchors: dict[str, set[str]]) -> str | None:
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
            return "link to a page that does not exist"
    if fragment and unquote(fragment) not in anchors[target]:
        return f"no heading with the anchor #{unquote(fragment)} in {target}.md"
    return None


@click.command("check-docs")
@with_appcontext
def check_docs_command() -> None:
    """Check every document in DOCS_DIR, in every language; exit 1 if any problem is found."""
    problems, counts = [], []
    stores = get_library().stores
    default = stores[DEFAULT_LANGUAGE]
    for lang, store in stores.items():
        fallback = None if store is default else default
        found = check_documents(store, fallback, current_app.config["APP_URL_SCHEMES"])
        problems += [f"[{lang}] {problem}" for problem in found]
        counts.append(f"{len(store)} in {lang}")
    try:
        read_synonyms(current_app.config["DOCS_DIR"])
    except SynonymError as exc:
        problems.append(str(exc))
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"{', '.join(counts)} documents: all links, anchors, titles and HTML are fine; so is _synonyms.yml.")


def init_app(app: Flask) -> None:
    """Register the `flask check-docs` command."""
    app.cli.add_command(check_docs_command)
