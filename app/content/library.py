"""Every language's pages as one `Library`, kept on the app, with the memos that follow it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from flask import Flask, current_app

from app.config import ConfigError
from app.content.addresses import Addresses, index_addresses
from app.content.page import Page
from app.content.store import DocumentStore
from app.content.translations import drift
from app.languages import CODES, DEFAULT_LANGUAGE
from app.observability.metrics import DOCUMENT_ERRORS

log = logging.getLogger(__name__)
T = TypeVar("T")


class Library:
    """Every language's pages: a DocumentStore per language, the default language's the fallback.

    Norwegian pages live in `nb/` or, as in the old system, directly in the docs folder;
    other languages in a folder named by their code. Drafts are in it only with `drafts`
    (PREVIEW): its stores pass them over otherwise, so `find`, `versions`, `pages_in`,
    `addresses` and everything made from them never meet one.
    """

    def __init__(self, docs_dir: str | os.PathLike, drafts: bool = False):
        root = self.root = Path(docs_dir).resolve()
        self.drafts = drafts
        # The default language's pages may also lie in the docs folder itself, as in the old system.
        self.stores = {
            code: DocumentStore(root / code, *([root] if code == DEFAULT_LANGUAGE else []), drafts=drafts)
            for code in CODES
        }
        self._addresses: tuple[str, Addresses] | None = None  # with the fingerprint it was made at
        self._reported: set[str] = set()  # problems of the aliases logged already

    def load(self, known: dict[str, dict[str, Page]] | None = None) -> dict[str, str]:
        """Load every store; the files that failed, by slug, with what is wrong. Pages in
        `known` (by language and slug, read by other processes) are taken as they are
        wherever their file is unchanged."""
        errors = {}
        for code, store in self.stores.items():
            store.load((known or {}).get(code))
            errors.update(store.errors)
        return errors

    def files(self) -> list[tuple[str, str, str]]:
        """Every document file: its language, slug and path."""
        return [(code, slug, path) for code, store in self.stores.items() for slug, path in store.listing().items()]

    def find(self, slug: str, lang: str) -> tuple[Page, str] | None:
        """The page in `lang` if it exists, else in the default language, with the language it is in."""
        for code in dict.fromkeys((lang, DEFAULT_LANGUAGE)):
            page = self.stores[code].get(slug)
            if page is not None:
                return page, code
        return None

    def unreadable(self, slug: str, lang: str) -> bool:
        """Whether `slug` has a file in `lang` or the default language that has never loaded:
        a page that is there but cannot be shown (what `find` returned None for)."""
        return any(slug in self.stores[code].errors for code in dict.fromkeys((lang, DEFAULT_LANGUAGE)))

    def failed(self) -> list[str]:
        """The files whose latest version failed to load, relative to the docs folder."""
        paths = set()
        for store in self.stores.values():
            store.current_generation()  # caught up with the files
            paths.update(os.path.relpath(path, self.root) for path in store.failed_paths())
        return sorted(paths)

    def versions(self, slug: str) -> tuple[str, ...]:
        """The version of page `slug` in each language ('' where it has none): what its
        rendered forms depend on."""
        versions = []
        for store in self.stores.values():
            page = store.get(slug)
            versions.append(page.version if page else "")
        return tuple(versions)

    def drift(self, slug: str, lang: str) -> str | None:
        """Where page `slug` in `lang` stands against the default language's page it was
        translated from (app/content/translations.py); None for the default language itself."""
        if lang == DEFAULT_LANGUAGE:
            return None
        return drift(self.stores[DEFAULT_LANGUAGE].get(slug), self.stores[lang].get(slug))

    def pages_in(self, lang: str) -> dict[str, tuple[Page, str]]:
        """Every page by slug, in `lang` where it exists, else in the default language."""
        found = {page.slug: (page, DEFAULT_LANGUAGE) for page in self.stores[DEFAULT_LANGUAGE].pages()}
        if lang != DEFAULT_LANGUAGE:
            found.update((page.slug, (page, lang)) for page in self.stores[lang].pages())
        return found

    def pages_for(self, lang: str) -> list[Page]:
        """Every page a reader of `lang` is shown: in `lang` where it exists, else in the default language."""
        return [page for page, _ in self.pages_in(lang).values()]

    def addresses(self) -> Addresses:
        """Every page's aliases and context keys, indexed again when a page changed. A problem
        (an alias that is a page, or that two pages claim) is logged when it appears."""
        state = self.fingerprint()
        memo = self._addresses
        if memo is None or memo[0] != state:
            found = index_addresses({code: store.pages() for code, store in self.stores.items()})
            for problem in found.problems:
                if problem not in self._reported:
                    log.error("aliases: %s", problem)
            self._reported = set(found.problems)
            self._addresses = memo = (state, found)
        return memo[1]

    def fingerprint(self, codes: tuple[str, ...] = CODES) -> str:
        """A digest of the pages of the languages `codes`: changes whenever one of them does."""
        return "+".join(self.stores[code].fingerprint() for code in codes)


# Pages the launcher (app/serve.py) checked before it forked its workers, by docs folder:
# a worker's app takes them as they are instead of reading every file again.
handed_over: dict[Path, Library] = {}


def load_library(docs_dir: str | os.PathLike, strict: bool = False, drafts: bool = False) -> Library:
    """A loaded Library (with drafts, for PREVIEW). A page that fails to load is logged and
    counted, and answered with 503 until it loads (the others are served); with `strict`,
    ConfigError naming it instead."""
    return checked(Library(docs_dir, drafts), strict=strict)


def checked(library: Library, known: dict[str, dict[str, Page]] | None = None, strict: bool = False) -> Library:
    """`library`, loaded (with `known` pages read by other processes): a page that failed is
    logged and counted, or, with `strict`, a ConfigError."""
    errors = library.load(known)
    if errors and strict:
        first = sorted(errors.values())[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"a page failed to load: {first}{more} (STRICT_START is on)")
    for message in sorted(errors.values()):
        DOCUMENT_ERRORS.labels("load").inc()
        log.error("cannot load document, answering 503 for it until it loads: %s", message)
    library.addresses()  # its problems logged now, not at the first request that needs it
    return library


def get_library() -> Library:
    """The current app's pages."""
    return current_app.extensions["library"]


def remembered(key: tuple, make: Callable[[], T], memo_name: str = "remembered") -> T:
    """`make()`, remembered under `key` while the pages stay the same (at most 1,024 keys).

    For what depends only on the pages and the request's presentation: error pages, lists
    of pages, and (in a memo of their own, `suggested`, so that a flood of dead links
    cannot push the rest out) the suggestions for a dead link, which is followed again
    and again.
    """
    memo = current_app.extensions[memo_name]
    state = get_library().fingerprint()
    if memo.get("state") != state or len(memo) > 1024:
        memo.clear()
        memo["state"] = state
    found = memo.get(key)
    if found is None:
        found = memo[key] = make()
    return found


def init_app(app: Flask) -> None:
    """Load the docs folder named by DOCS_DIR, kept on the app with the memos that follow it."""
    app.extensions["remembered"] = {}
    app.extensions["suggested"] = {}
    library = handed_over.pop(Path(app.config["DOCS_DIR"]).resolve(), None)
    if library is None or library.drafts != app.config["PREVIEW"]:
        library = load_library(app.config["DOCS_DIR"], strict=app.config["STRICT_START"], drafts=app.config["PREVIEW"])
    app.extensions["library"] = library
