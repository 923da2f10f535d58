"""`flask check-docs`: find broken internal links, missing titles, unsafe HTML, aliases that
clash and published addresses that lead nowhere now, and warn of translations the original
has moved on from, pages due for review and long descriptions (`--strict` fails on warnings
too); `flask lock-links`: add the addresses published since to docs/_links.lock; `flask
translated`: record in a page's translations what they were translated from."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.content.addresses import LOCK_FILE, lock_new_addresses, lock_problems
from app.content.library import Library, get_library
from app.content.links import internal_link, links_in
from app.content.markup import faults
from app.content.page import SLUG, DocumentError, Page, one_line, parse_document
from app.content.rendering import ALLOWED_TAGS, markdown_to_html, sanitizer_changes
from app.content.store import DocumentStore, read_document
from app.content.translations import KEY, OUTDATED, UNRECORDED, drift, recorded
from app.languages import CODES, DEFAULT_LANGUAGE, LANGUAGES, language_from_param
from app.search.synonyms import SynonymError, read_synonyms

# A heading's anchor in rendered HTML: what a link's #fragment must name.
HEADING_ANCHOR = re.compile(r'<h[1-6][^>]*\bid="([^"]+)"')
LONG_DESCRIPTION = 200  # characters; search engines cut theirs near 160


class Targets:
    """The pages a link in `store` may lead to (its own, else `fallback`'s, drafts included),
    each page's anchors rendered when first asked for: checking one page renders only it and
    the pages it links to."""

    def __init__(self, store: DocumentStore, fallback: DocumentStore | None = None):
        self.pages = {page.slug: page for page in (fallback.pages(with_drafts=True) if fallback else ())}
        self.pages.update((page.slug, page) for page in store.pages(with_drafts=True))
        # A reader is shown the fallback's page where the store's own is a draft.
        self.published = {page.slug for page in self.pages.values() if not page.draft}
        if fallback:
            self.published |= {page.slug for page in fallback.pages(with_drafts=True) if not page.draft}
        self._anchors: dict[str, set[str]] = {}
        self.languages: dict[str, Targets] = {}  # for a link that names its language (&lang=en)

    def anchors(self, slug: str, html: str | None = None) -> set[str]:
        found = self._anchors.get(slug)
        if found is None:
            html = html if html is not None else markdown_to_html(self.pages[slug].body)[0]
            found = self._anchors[slug] = set(HEADING_ANCHOR.findall(html))
        return found


def language_targets(library: Library) -> dict[str, Targets]:
    """The pages each language's links may lead to, each knowing the others'."""
    default = library.stores[DEFAULT_LANGUAGE]
    found = {code: Targets(store, None if store is default else default) for code, store in library.stores.items()}
    for targets in found.values():
        targets.languages = found
    return found


def page_problems(page: Page, targets: Targets, app_schemes: frozenset[str], aliases: dict[str, str]) -> list[str]:
    """Everything wrong with one page, one line each, without its language."""
    html = markdown_to_html(page.body)[0]
    targets.anchors(page.slug, html)
    where, problems = f"{page.slug}.md", []
    problems += [f"{where}: {slip}" for slip in page.slips]
    for href in links_in(html):
        problem = _link_problem(href, page, targets, aliases)
        if problem:
            problems.append(f"{where}: {problem}: {href!r}")
    found = faults(html)
    for level in found.empty_headings:
        problems.append(f"{where}: an empty heading (h{level}): give it words or remove it")
    # Only tags the sanitizer keeps: it removes the others, which is a problem of its own below.
    for tag in dict.fromkeys(tag for tag in found.unclosed_tags if tag in ALLOWED_TAGS):
        problems.append(f"{where}: <{tag}> is never closed, so what follows may end up inside it: add </{tag}>")
    for change in sanitizer_changes(page.body, app_schemes):
        problems.append(f"{where}: the sanitizer would remove or change {change}")
    for key, named in (("related", page.related), ("next", page.next_steps)):
        for target in named:
            problem = _named_page_problem(target, page, targets, aliases)
            if problem:
                problems.append(f"{where}: '{key}:' names {problem}: {target!r}")
    return problems


def _named_page_problem(target: str, page: Page, targets: Targets, aliases: dict[str, str]) -> str | None:
    """What is wrong with a page that `related:` or `next:` of `page` names, or None."""
    if target == page.slug:
        return "the page itself"
    if target not in targets.pages:
        return f"an old slug, an alias of {aliases[target]}" if target in aliases else "a page that does not exist"
    if not page.draft and target not in targets.published:
        return "a draft, which readers cannot see until it is published"
    return None


def check_documents(
    store: DocumentStore,
    fallback: DocumentStore | None = None,
    app_schemes: frozenset[str] = frozenset(),
    aliases: dict[str, str] | None = None,
    targets: Targets | None = None,
) -> list[str]:
    """Everything wrong with the documents in `store`, drafts included, one line each (empty
    when all is well).

    Links may also lead to pages of `fallback`: readers are shown those where `store`
    has no page of that name. Links into the app may use `app_schemes`; a link to one of
    `aliases` (old slug -> page) should name the page itself. `targets` (language_targets)
    checks the links that name a language in it.
    """
    store.load()
    problems = [message for _, message in sorted(store.errors.items())]
    targets = targets or Targets(store, fallback)
    for page in sorted(store.pages(with_drafts=True), key=lambda p: p.slug):
        problems += page_problems(page, targets, app_schemes, aliases or {})
    return problems


def _link_problem(href: str, page: Page, targets: Targets, aliases: dict[str, str]) -> str | None:
    """What is wrong with one link from `page`, or None; links elsewhere are not checked."""
    if href.startswith("#"):
        target, fragment = page.slug, href[1:]
    else:
        link = internal_link(href)
        if link is None:
            return None
        target, lang, fragment = link
        # As the app reads it ("EN", "en-GB"); a language it has not: the page's own.
        targets = targets.languages.get(language_from_param(lang) or "", targets)
        if not SLUG.fullmatch(target):
            return "malformed internal link"
        if target not in targets.pages:
            if target in aliases:
                # It works (a redirect), but costs readers a detour and counts as an old link.
                return f"link to an old slug, an alias of {aliases[target]}: link to docs.php?doc={aliases[target]}"
            return "link to a page that does not exist"
        if not page.draft and target not in targets.published:
            return "link to a draft, which readers cannot see until it is published"
    if fragment and unquote(fragment) not in targets.anchors(target):
        return f"no heading with the anchor #{unquote(fragment)} in {target}.md"
    return None


def file_problems(library: Library) -> list[str]:
    """Files in the docs folders that no reader gets as the author meant, one line each: a
    page file whose name is no slug (it is no page at all), a Norwegian page in both the docs
    folder and nb/ (one hides the other), and a translation whose Norwegian page is missing
    or a draft (the Norwegian address, its language link and its aliases lead nowhere)."""
    problems = []
    for store in library.stores.values():
        shown: dict[str, str] = {}  # slug -> the file readers get
        for folder in store.folders:  # an earlier folder's file hides a later one's
            for name in sorted(os.listdir(folder)) if folder.is_dir() else ():
                stem, ext = os.path.splitext(name)
                path = folder / name
                # What the store itself passes over: no file, or a link out of the folder.
                if ext.lower() not in (".md", ".markdown") or name.startswith((".", "_")) or not path.is_file():
                    continue
                if path.is_symlink() and not path.resolve().is_relative_to(folder):
                    continue
                where = os.path.relpath(path, library.root)
                if ext != ".md" or not SLUG.fullmatch(stem):
                    problems.append(f"{where}: not a page: a page's file is <slug>.md, a-z, 0-9 and - (at most 100)")
                elif stem in shown:
                    problems.append(f"{where}: hidden by {shown[stem]}, the same page: keep one")
                else:
                    shown[stem] = where
    for folder in {folder for store in library.stores.values() for folder in store.folders if folder.is_dir()}:
        for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
            inside = Path(entry.path)
            if entry.is_dir() and entry.name not in CODES and next(inside.rglob("*.md"), None) is not None:
                problems.append(
                    f"{os.path.relpath(inside, library.root)}/: pages in a folder are never read: "
                    "Norwegian pages go in docs/ (or docs/nb/), English ones in docs/en/"
                )
    originals = {page.slug: page for page in library.stores[DEFAULT_LANGUAGE].pages(with_drafts=True)}
    named = library.stores[DEFAULT_LANGUAGE].listing()
    for lang, store in library.stores.items():
        if lang == DEFAULT_LANGUAGE:
            continue
        for page in sorted(store.pages(with_drafts=True), key=lambda p: p.slug):
            where = f"[{lang}] {page.slug}.md"
            if page.slug not in named:
                problems.append(
                    f"{where}: no Norwegian page {page.slug}.md: its 'Norsk' link and ?doc={page.slug} give 404"
                )
            elif page.slug in originals and originals[page.slug].draft and not page.draft:
                problems.append(f"{where}: its Norwegian page is a draft: make this one a draft too, or publish both")
    return problems


def page_warnings(original: Page | None, page: Page, lang: str, today: date) -> list[str]:
    """What an author should look at on one page (without its language): a translation the
    original has moved on from or that records nothing, a review that is due, a description
    too long to read at a glance."""
    where, found = f"{page.slug}.md", []
    state = drift(original, page) if lang != DEFAULT_LANGUAGE else None
    original_name = f"the {LANGUAGES[DEFAULT_LANGUAGE].english_name} page"
    if state == OUTDATED:
        found.append(
            f"{where}: {original_name} has changed since it was translated ({KEY}: {page.translated_from}, "
            f"now {original.text_digest}): bring the translation up to date, then run "
            f"`make translated SLUG={page.slug}`"
        )
    elif state == UNRECORDED:
        found.append(f"{where}: no {KEY}: once it matches {original_name}, run `make translated SLUG={page.slug}`")
    # A day to come, a day's slack aside (Norway is ahead of UTC): what readers and the sitemap are told.
    for key, day, told in (
        ("reviewed", page.reviewed, "readers see it under the page"),
        ("updated", page.updated and page.updated.date(), "the API and the sitemap give it"),
    ):
        if day and day > today + timedelta(days=1):
            found.append(f"{where}: {key}: {day.isoformat()} is a day still to come, and {told}")
    if len(page.description) > LONG_DESCRIPTION:  # read at a glance under a title
        found.append(
            f"{where}: description: is {len(page.description)} characters: lists and search results show it "
            f"whole, and link previews cut it near 160; keep it to {LONG_DESCRIPTION} at most"
        )
    if page.review_by and page.review_by < today and not page.draft:
        owner = f" (owner: {page.owner})" if page.owner else " (no owner:)"
        found.append(
            f"{where}: due for review since {page.review_by.isoformat()}{owner}: "
            "review it, then set reviewed: and a new review_by:"
        )
    return found


def warnings(library: Library, today: date, slug: str | None = None) -> list[str]:
    """Every page's warnings (or one page's), one line each, with its language."""
    originals = {page.slug: page for page in library.stores[DEFAULT_LANGUAGE].pages(with_drafts=True)}
    found = []
    for lang, store in library.stores.items():
        for page in sorted(store.pages(with_drafts=True), key=lambda p: p.slug):
            if slug is None or page.slug == slug:
                found += [f"[{lang}] {line}" for line in page_warnings(originals.get(page.slug), page, lang, today)]
    return found


def page_report(library: Library, slug: str, app_schemes: frozenset[str]) -> tuple[list[str], list[str]]:
    """What `flask check-docs` would say of page `slug` alone: its problems and its warnings."""
    problems = []
    aliases = library.addresses().aliases
    targets = language_targets(library)
    for lang, store in library.stores.items():
        if slug in store.errors:
            problems.append(f"[{lang}] {store.errors[slug]}")
        page = {page.slug: page for page in store.pages(with_drafts=True)}.get(slug)
        if page is not None:
            problems += [f"[{lang}] {line}" for line in page_problems(page, targets[lang], app_schemes, aliases)]
    problems += [line for line in library.addresses().problems if f"] {slug}.md" in line]
    its_file = re.compile(rf"(?:\[[a-z]+\] )?(?:[^:]*/)?{re.escape(slug)}\.md:")
    problems += [line for line in file_problems(library) if its_file.match(line)]
    problems = [one_line(line) for line in problems]
    return problems, warnings(library, datetime.now(UTC).date(), slug)


@click.command("check-docs")
@click.option("--strict", is_flag=True, help="Fail on warnings too (translations, reviews due).")
@with_appcontext
def check_docs_command(strict: bool) -> None:
    """Check every document in DOCS_DIR, in every language, drafts too, its aliases and the
    addresses in _links.lock; exit 1 if any problem is found (or, with --strict, any warning)."""
    problems, counts = [], []
    library = get_library()
    stores, schemes = library.stores, current_app.config["APP_URL_SCHEMES"]
    default = stores[DEFAULT_LANGUAGE]
    library.load()
    targets = language_targets(library)
    for lang, store in stores.items():
        fallback = None if store is default else default
        found = check_documents(store, fallback, schemes, library.addresses().aliases, targets[lang])
        problems += [f"[{lang}] {problem}" for problem in found]
        pages = store.pages(with_drafts=True)
        drafts = sum(page.draft for page in pages)
        counts.append(f"{len(pages)} in {lang}" + (f" ({drafts} draft{'s' if drafts != 1 else ''})" if drafts else ""))
    problems += file_problems(library)
    problems += list(library.addresses().problems)
    locked, unresolved = lock_problems(library)
    problems += unresolved
    try:
        read_synonyms(current_app.config["DOCS_DIR"])
    except SynonymError as exc:
        problems.append(str(exc))
    warned = [one_line(line) for line in warnings(library, datetime.now(UTC).date())]
    problems = [one_line(line) for line in problems]  # an anchor or attribute may hold a line break
    for line in problems:
        click.echo(line, err=True)
    for line in warned:
        click.echo(f"warning: {line}", err=True)
    count = f"{len(warned)} warning{'s' if len(warned) != 1 else ''}"
    if problems:
        raise SystemExit(1)
    if warned and strict:
        click.echo(f"{count} above, and --strict fails on warnings.", err=True)
        raise SystemExit(1)
    click.echo(
        f"{', '.join(counts)} documents: all links, anchors, titles, HTML and aliases are fine; so are "
        f"_synonyms.yml and the {locked} addresses in {LOCK_FILE}."
        + (f" {count} above (--strict fails on them)." if warned else "")
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


@click.command("translated")
@click.argument("slug")
@with_appcontext
def translated_command(slug: str) -> None:
    """Record, once a translator has checked them, that the translations of page SLUG match
    its Norwegian page as it is now: `translated_from:` in their front matter, every other
    byte of the file kept. Drafts too."""
    if not SLUG.fullmatch(slug):
        raise click.ClickException(f"{slug[:100]!r} is not a slug (a-z, 0-9 and -)")
    library = get_library()
    original_path = library.stores[DEFAULT_LANGUAGE].listing().get(slug)
    if original_path is None:
        name = LANGUAGES[DEFAULT_LANGUAGE].english_name
        raise click.ClickException(f"no page {slug}.md in {name} to translate from")
    digest = _read(original_path, slug).text_digest
    written = 0
    for lang, store in library.stores.items():
        path = store.listing().get(slug) if lang != DEFAULT_LANGUAGE else None
        if path is None:
            continue
        written += 1
        where = os.path.relpath(path, library.root)
        before = Path(path).read_bytes().decode("utf-8")
        after = recorded(before, digest)
        if after == before:
            click.echo(f"{where}: already records {KEY}: {digest}")
            continue
        old = _read(path, slug)
        if old.slips:  # front matter left open would be closed by the new line, and its slip hidden
            raise click.ClickException(f"{where}: {old.slips[0]}: fix it first")
        try:
            new = parse_document(slug, after)
        except DocumentError:
            new = None
        if new is None or (new.translated_from, new.title, new.description, new.body) != (
            digest,
            old.title,
            old.description,
            old.body,
        ):  # never a surprise
            raise click.ClickException(f"{where}: could not add {KEY}: without changing the page; add it by hand")
        _replace(path, after)
        click.echo(f"{where}: {KEY}: {digest}")
    if not written:
        raise click.ClickException(f"no translation of {slug} to record (only {slug}.md)")


def _read(path: str, slug: str) -> Page:
    """The page at `path`, draft or not; a ClickException saying what is wrong with it."""
    try:
        return read_document(path, slug, wait_to_settle=False)
    except DocumentError as exc:
        raise click.ClickException(f"{exc}: fix it first") from None


def _replace(path: str, text: str) -> None:
    """Write `text` to the file at `path` whole (a new file renamed into place: the server
    never reads it half-written), with the file's permissions."""
    real = os.path.realpath(path)
    folder = os.path.dirname(real)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".translated-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
        os.chmod(temporary, os.stat(real).st_mode & 0o7777)
        os.replace(temporary, real)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def init_app(app: Flask) -> None:
    """Register the `flask check-docs`, `flask lock-links` and `flask translated` commands."""
    app.cli.add_command(check_docs_command)
    app.cli.add_command(lock_links_command)
    app.cli.add_command(translated_command)
