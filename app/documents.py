"""Help documents on disk: the `Page` object and the `DocumentStore` that indexes them."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TypeVar

import yaml
from flask import Flask, current_app

from app.observe import DOCUMENT_ERRORS
from app.rendering import markdown_problem

log = logging.getLogger(__name__)
T = TypeVar("T")

# A slug is what `?doc=` may name and what a file in the docs folder may be called.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
# Sixteen times our longest page. Rendering is about 16 µs a byte (Markdown and bleach, in
# pure Python): a page this long, dense with links, takes a worker about a second.
MAX_DOCUMENT_BYTES = 64_000
DEFAULT_CATEGORY = "Hjelpeseksjonen"
LANGUAGES = ("nb", "en")  # the first is the default, and the fallback for missing pages
DEFAULT_LANGUAGE = LANGUAGES[0]
# How stale the list of all pages (the index) may be before every file is stat'ed again.
FULL_RESCAN_SECONDS = 2.0
# ... or this many times what the last full scan took, if longer: scans stay a small share of a worker.
RESCAN_COST_FACTOR = 50
# A file changed less than this long ago may still be being written (an editor or a copy
# that truncates, then writes in pieces): its last complete version is served until then.
SETTLE_SECONDS = 0.25
# A file that does not end with a line break is likely cut off mid-write: it waits longer.
UNFINISHED_SETTLE_SECONDS = 2.0

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
TITLE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
TAG = re.compile(r"<[^>]*>")
WHITESPACE = re.compile(r"\s+")
# libyaml's safe loader when PyYAML was built with it (the wheels are): about 10x faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DocumentError(ValueError):
    """A document that cannot be read or parsed; the message names the file."""


@dataclass(frozen=True)
class Page:
    """One help document: its metadata, Markdown body and the file version it came from."""

    slug: str
    title: str
    description: str
    category: str
    order: int
    body: str
    mtime_ns: int  # with size: how the store notices that the file changed
    size: int
    updated: datetime | None = None  # front matter `updated:`, when the author gave one
    digest: str = ""  # of the file's bytes: the same on every replica with the same text

    @property
    def version(self) -> str:
        """Identifies this version of the page by its content: changes when the text does."""
        return self.digest

    @property
    def last_changed(self) -> datetime:
        """When the page last changed: front matter `updated:`, else the file's time."""
        return self.updated or datetime.fromtimestamp(self.mtime_ns / 1e9, tz=timezone.utc)


def parse_document(slug: str, text: str, mtime_ns: int = 0, size: int = 0) -> Page:
    """Build a Page from a document's text: optional YAML front matter, then Markdown.

    Anything wrong with the text, however it shows (a date that does not exist, a number
    too long to read), is a DocumentError.
    """
    try:
        return _parse(slug, text, mtime_ns, size)
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad file must never break the others
        raise DocumentError(f"cannot be read: {type(exc).__name__}: {exc}".replace("\n", " ")) from None


def _parse(slug: str, text: str, mtime_ns: int, size: int) -> Page:
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    text = text.removeprefix("\ufeff")
    meta: dict = {}
    match = FRONT_MATTER.match(text)
    if match:
        try:
            meta = yaml.load(match.group(1), Loader=YAML_LOADER) or {}
        except yaml.YAMLError as exc:
            raise DocumentError(f"front matter is not valid YAML: {exc}".replace("\n", " ")) from None
        if not isinstance(meta, dict):
            raise DocumentError("front matter must be a mapping of keys to values")
        text = text[match.end():]
    title = _text_field(meta, "title") or _first_heading(text)
    if not title:
        raise DocumentError("no title: add a '# Heading' line or 'title:' front matter")
    order = meta.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool) or abs(order) > 10**9:
        raise DocumentError("front matter 'order' must be a whole number (at most 9 digits)")
    problem = markdown_problem(text)
    if problem:
        raise DocumentError(problem)
    return Page(
        slug=slug,
        title=title,
        description=_text_field(meta, "description") or _first_paragraph(text),
        category=_text_field(meta, "category") or DEFAULT_CATEGORY,
        order=order,
        body=text,
        mtime_ns=mtime_ns,
        size=size,
        updated=_date_field(meta, "updated"),
        digest=digest,
    )


def _date_field(meta: dict, key: str) -> datetime | None:
    """A front matter date (`2026-11-26`, or a date and time) as UTC, or None when absent."""
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    raise DocumentError(f"front matter '{key}' must be a date such as 2026-11-26")


def _text_field(meta: dict, key: str) -> str:
    """A front matter value as a single line of text, or '' when absent."""
    value = meta.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise DocumentError(f"front matter '{key}' must be text")
    return WHITESPACE.sub(" ", str(value)).strip()


def _first_heading(text: str) -> str:
    match = TITLE.search(text)
    return plain_text(match.group(1)) if match else ""


def _first_paragraph(text: str, limit: int = 160) -> str:
    """The first prose paragraph as plain text, cut at a word near `limit` characters."""
    for block in re.split(r"\n[ \t]*\n", text):
        block = block.strip()
        if block and not block.startswith(("#", "<", "```", "|", "---")):
            plain = plain_text(block)
            if len(plain) <= limit:
                return plain
            return plain[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
    return ""


def plain_text(markdown_text: str) -> str:
    """Markdown inline text reduced to plain words: links to their text, no markup."""
    text = MARKDOWN_LINK.sub(r"\1", markdown_text) if "](" in markdown_text else markdown_text
    if "<" in text:
        text = TAG.sub(" ", text)
    # "_" stays: it is part of words more often than it is markup.
    return " ".join(text.replace("*", "").replace("`", "").split())


class FileBeingWritten(Exception):
    """The file changed while it was read, or too recently to be complete: try again later."""


def read_document(path: Path, slug: str, wait_to_settle: bool = True) -> Page:
    """Read and parse one file; raises DocumentError naming the file when it cannot.

    The file is opened by its real path, which must lie in the file's folder, and without
    following a link: a link swapped in after that check fails to open instead of being read.
    Raises FileBeingWritten when the file changed during the read or, with
    `wait_to_settle`, too recently (see `settled`): what was read may be half a file.
    """
    for _ in range(3):
        try:
            real = Path(os.path.realpath(path))
            if not real.is_relative_to(path.parent):
                raise DocumentError(f"{path}: links outside the docs folder")
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as handle:
                stat = os.fstat(handle.fileno())
                if stat.st_size > MAX_DOCUMENT_BYTES:
                    raise DocumentError(f"{path}: larger than {MAX_DOCUMENT_BYTES:,} bytes")
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
                after = os.fstat(handle.fileno())
        except OSError as exc:
            raise DocumentError(f"{path}: {exc.strerror or exc}") from None
        unchanged = (after.st_mtime_ns, after.st_size) == (stat.st_mtime_ns, stat.st_size)
        if unchanged and len(data) == stat.st_size:
            break
    else:
        raise FileBeingWritten(path)
    if wait_to_settle and not settled(stat, finished=data.endswith(b"\n")):
        raise FileBeingWritten(path)
    return parse_file(path, slug, data, stat)


def parse_file(path: Path, slug: str, data: bytes, stat: os.stat_result) -> Page:
    """Parse a file's bytes; DocumentError names the file."""
    try:
        text = data.decode("utf-8")
        return parse_document(slug, text, stat.st_mtime_ns, stat.st_size)
    except UnicodeDecodeError:
        raise DocumentError(f"{path}: not UTF-8 text") from None
    except DocumentError as exc:
        raise DocumentError(f"{path}: {exc}") from None


def settled(stat: os.stat_result, finished: bool = True) -> bool:
    """True once a file has not changed for SETTLE_SECONDS, or UNFINISHED_SETTLE_SECONDS
    when it does not end with a line break (a writer may have paused mid-line)."""
    quiet = SETTLE_SECONDS if finished else max(SETTLE_SECONDS, UNFINISHED_SETTLE_SECONDS)
    return time.time() - stat.st_mtime_ns / 1e9 >= quiet


class DocumentStore:
    """The documents in one or more folders, indexed by slug and re-read when files change.

    Slugs are only ever looked up in the index of files that exist; no request string is
    joined into a path. A request costs one stat of the file it names; a folder is listed
    again only when its own mtime shows a file was added, removed or renamed. With several
    folders, a slug in an earlier folder hides the same slug in a later one; folders that
    do not exist count as empty.
    """

    def __init__(self, *folders: str | os.PathLike):
        self.folders = [Path(folder).resolve() for folder in folders]
        self.root = self.folders[-1]
        self.errors: dict[str, str] = {}
        self._pages: dict[str, Page] = {}
        self._paths: dict[str, Path] = {}
        self._folder_mtimes: tuple[int, ...] = ()
        self._scanned_at = 0.0
        self._lock = threading.Lock()
        self._fingerprint = (-1, "")
        self._scan_seconds = 0.0  # what the last full scan took
        self.generation = 0

    def load(self) -> None:
        """(Re)build the index from the folder listing."""
        with self._lock:
            self._scan()

    def _scan(self) -> None:
        folder_mtimes = self._mtimes()
        paths = {}
        for folder in reversed(self.folders):  # earlier folders overwrite later ones
            if not folder.is_dir():
                continue
            with os.scandir(folder) as entries:
                for entry in entries:
                    slug, ext = os.path.splitext(entry.name)
                    if ext != ".md" or not SLUG.fullmatch(slug):
                        continue
                    path = Path(entry.path)
                    # A symlink may point anywhere: only follow it if it stays in the folder.
                    if entry.is_symlink() and not path.resolve().is_relative_to(folder):
                        log.warning("ignoring %s: links outside the docs folder", path)
                        continue
                    if entry.is_file():
                        paths[slug] = path
        pages, errors, unsettled = {}, {}, False
        first_load = not self._scanned_at
        for slug, path in paths.items():
            old = self._pages.get(slug)
            try:
                page = self._fresh(path, slug, old, wait_to_settle=not first_load)
                if page is None:  # new, and still being written
                    unsettled = True
            except DocumentError as exc:
                errors[slug] = str(exc)
                page = old
            if page is not None:
                pages[slug] = page
        changed = pages.keys() != self._pages.keys() or any(
            page is not self._pages[slug] for slug, page in pages.items())
        if not first_load:  # at the first load the caller reports errors itself
            for slug, message in errors.items():
                if self.errors.get(slug) != message:
                    self._report(message)
        self._paths, self._pages, self.errors = paths, pages, errors
        # A file still being written is looked at again on the next request.
        self._folder_mtimes = () if unsettled else folder_mtimes
        self._scanned_at = time.monotonic()
        if changed:
            self.generation += 1

    @staticmethod
    def _report(message: str) -> None:
        """Log and count a page that failed to load; the others, and its last good version, stay."""
        DOCUMENT_ERRORS.labels("load").inc()
        log.error("cannot load document, keeping the last good version if any: %s", message)

    @staticmethod
    def _fresh(path: Path, slug: str, old: Page | None, wait_to_settle: bool) -> Page | None:
        """The page at `path`, re-read only if it changed and has settled (else `old`)."""
        try:
            stat = os.stat(path)
        except OSError as exc:  # removed since the folder was listed, or a dangling link
            raise DocumentError(f"{path}: {exc.strerror or exc}") from None
        if old is not None and (stat.st_mtime_ns, stat.st_size) == (old.mtime_ns, old.size):
            return old
        if wait_to_settle and not settled(stat):
            return old
        try:
            return read_document(path, slug, wait_to_settle)
        except FileBeingWritten:
            return old

    def _mtimes(self) -> tuple[int, ...]:
        """Each folder's mtime, -1 for one that does not exist."""
        mtimes = []
        for folder in self.folders:
            try:
                mtimes.append(os.stat(folder).st_mtime_ns)
            except OSError:
                mtimes.append(-1)
        return tuple(mtimes)

    def _folder_changed(self) -> bool:
        return self._mtimes() != self._folder_mtimes

    def refresh(self) -> None:
        """Pick up added, removed or renamed files (cheap when nothing changed)."""
        if self._folder_changed():
            with self._lock:
                if self._folder_changed():
                    self._scan()

    def get(self, slug: str) -> Page | None:
        """The current version of the page named `slug`, or None if there is none."""
        if slug not in self._paths:
            self.refresh()
        path = self._paths.get(slug)
        if path is None:
            return None
        page = self._pages.get(slug)
        try:
            stat = os.stat(path)
        except OSError:  # removed, or a link that leads nowhere now
            self.refresh()
            return self._pages.get(slug)
        if page is None or (stat.st_mtime_ns, stat.st_size) != (page.mtime_ns, page.size):
            if not settled(stat):
                return page
            page = self._reload(slug, path, page)
        return page

    def _reload(self, slug: str, path: Path, old: Page | None) -> Page | None:
        """Re-read an edited file; a broken edit keeps the last good version."""
        with self._lock:
            try:
                page = read_document(path, slug)
            except FileBeingWritten:
                return old
            except DocumentError as exc:
                if self.errors.get(slug) != str(exc):
                    self._report(str(exc))
                self.errors[slug] = str(exc)
                return old
            self.errors.pop(slug, None)
            self._pages[slug] = page
            self.generation += 1
            return page

    def _rescan_due(self) -> bool:
        """Whether the full rescan is due: after FULL_RESCAN_SECONDS, or RESCAN_COST_FACTOR times
        what the last one took if longer (10,000 pages take about 0.24 s to scan: every 12 s,
        not every 2, so scans cost a worker 2 % of its time, not 12 %)."""
        interval = max(FULL_RESCAN_SECONDS, RESCAN_COST_FACTOR * self._scan_seconds)
        return time.monotonic() - self._scanned_at > interval

    def _catch_up(self) -> None:
        """See added and removed files at once, and edits to any file once a rescan is due."""
        if self._rescan_due():
            with self._lock:
                if self._rescan_due():
                    started = time.monotonic()
                    self._scan()
                    self._scan_seconds = time.monotonic() - started
        else:
            self.refresh()

    def pages(self) -> list[Page]:
        """Every page, as current as `_catch_up` keeps them."""
        self._catch_up()
        return list(self._pages.values())

    def __contains__(self, slug: str) -> bool:
        return self.get(slug) is not None

    def __len__(self) -> int:
        return len(self._pages)

    def fingerprint(self) -> str:
        """A digest of every page's slug and version: equal on replicas with equal files."""
        self._catch_up()
        if self._fingerprint[0] != self.generation:
            digest = hashlib.sha256()
            for page in sorted(self._pages.values(), key=lambda p: p.slug):
                digest.update(f"{page.slug}:{page.version}\n".encode())
            self._fingerprint = (self.generation, digest.hexdigest()[:16])
        return self._fingerprint[1]


def init_app(app: Flask) -> None:
    """Load the docs folder named by DOCS_DIR, one store per language, kept on the app."""
    app.extensions["remembered"] = {}
    app.extensions["suggested"] = {}
    app.extensions["libraries"] = load_libraries(app.config["DOCS_DIR"])
    app.extensions["documents"] = app.extensions["libraries"][DEFAULT_LANGUAGE]


def load_libraries(docs_dir: str) -> dict[str, DocumentStore]:
    """A loaded store per language; ConfigError if any page fails to load, naming it.

    Norwegian pages live in `nb/` or, as in the old system, directly in the docs folder;
    other languages in a folder named by their code.
    """
    # Imported here: config imports nothing of ours, and this keeps it that way.
    from app.config import ConfigError
    root = Path(docs_dir)
    libraries = {lang: DocumentStore(root / lang, root) if lang == DEFAULT_LANGUAGE else DocumentStore(root / lang)
                 for lang in LANGUAGES}
    errors = {}
    for store in libraries.values():
        store.load()
        errors.update(store.errors)
    if errors:
        first = sorted(errors.values())[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"a page failed to load: {first}{more}")
    return libraries


def get_library(lang: str) -> DocumentStore:
    """The current app's store of pages in `lang`."""
    return current_app.extensions["libraries"][lang]


def page_versions(libraries: dict[str, DocumentStore], slug: str) -> tuple[str, ...]:
    """The version of page `slug` in each language ('' where it has none): what its rendered
    forms depend on. Needs no app context, so a cached page can check itself."""
    versions = []
    for store in libraries.values():
        page = store.get(slug)
        versions.append(page.version if page else "")
    return tuple(versions)


def find_page(slug: str, lang: str) -> tuple[Page, str] | None:
    """The page in `lang` if it exists, else in the default language, with the language it is in."""
    for candidate in dict.fromkeys((lang, DEFAULT_LANGUAGE)):
        page = get_library(candidate).get(slug)
        if page is not None:
            return page, candidate
    return None


def pages_in(lang: str) -> dict[str, tuple[Page, str]]:
    """Every page by slug, in `lang` where it exists, else in the default language."""
    found = {page.slug: (page, DEFAULT_LANGUAGE) for page in get_library(DEFAULT_LANGUAGE).pages()}
    if lang != DEFAULT_LANGUAGE:
        found.update((page.slug, (page, lang)) for page in get_library(lang).pages())
    return found


def remembered(key: tuple, make: Callable[[], T], memo_name: str = "remembered") -> T:
    """`make()`, remembered under `key` while the pages stay the same (at most 1,024 keys).

    For what depends only on the pages and the request's presentation: error pages, lists
    of pages, and (in a memo of their own, `suggested`, so that a flood of dead links
    cannot push the rest out) the suggestions for a dead link, which is followed again
    and again.
    """
    memo = current_app.extensions[memo_name]
    state = "+".join(get_library(lang).fingerprint() for lang in LANGUAGES)
    if memo.get("state") != state or len(memo) > 1024:
        memo.clear()
        memo["state"] = state
    found = memo.get(key)
    if found is None:
        found = memo[key] = make()
    return found


def get_store() -> DocumentStore:
    """The current app's document store."""
    return current_app.extensions["documents"]
