"""Help documents on disk: the `Page` object and the `DocumentStore` that indexes them."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask import Flask, current_app

log = logging.getLogger(__name__)

# A slug is what `?doc=` may name and what a file in the docs folder may be called.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
MAX_DOCUMENT_BYTES = 1_000_000
DEFAULT_CATEGORY = "Hjelpeseksjonen"
LANGUAGES = ("nb", "en")  # the first is the default, and the fallback for missing pages
DEFAULT_LANGUAGE = LANGUAGES[0]
# How stale the list of all pages (the index) may be before every file is stat'ed again.
FULL_RESCAN_SECONDS = 2.0
# A file changed less than this long ago may still be being written (an editor or a copy
# that truncates, then writes in pieces): its last complete version is served until then.
SETTLE_SECONDS = 0.25

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
    mtime_ns: int
    size: int
    meta: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def version(self) -> str:
        """Identifies this version of the file: changes when the file is edited."""
        return f"{self.mtime_ns:x}-{self.size:x}"


def parse_document(slug: str, text: str, mtime_ns: int = 0, size: int = 0) -> Page:
    """Build a Page from a document's text: optional YAML front matter, then Markdown."""
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
    if not isinstance(order, int) or isinstance(order, bool):
        raise DocumentError("front matter 'order' must be a whole number")
    return Page(
        slug=slug,
        title=title,
        description=_text_field(meta, "description") or _first_paragraph(text),
        category=_text_field(meta, "category") or DEFAULT_CATEGORY,
        order=order,
        body=text,
        mtime_ns=mtime_ns,
        size=size,
        meta=meta,
    )


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

    Raises FileBeingWritten when the file changed during the read or, with
    `wait_to_settle`, less than SETTLE_SECONDS ago: what was read may be half a file.
    """
    for _ in range(3):
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                if stat.st_size > MAX_DOCUMENT_BYTES:
                    raise DocumentError(f"{path}: larger than {MAX_DOCUMENT_BYTES} bytes")
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
                after = os.fstat(handle.fileno())
        except OSError as exc:
            raise DocumentError(f"{path}: {exc.strerror or exc}") from None
        unchanged = (after.st_mtime_ns, after.st_size) == (stat.st_mtime_ns, stat.st_size)
        if unchanged and len(data) == stat.st_size:
            break
    else:
        raise FileBeingWritten(path)
    if wait_to_settle and not settled(stat):
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


def settled(stat: os.stat_result) -> bool:
    """True once a file has not changed for SETTLE_SECONDS."""
    return time.time() - stat.st_mtime_ns / 1e9 >= SETTLE_SECONDS


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
                if self._scanned_at:  # at the first load the caller reports errors itself
                    log.error("cannot load document: %s", exc)
                page = old
            if page is not None:
                pages[slug] = page
        changed = pages.keys() != self._pages.keys() or any(
            page is not self._pages[slug] for slug, page in pages.items())
        self._paths, self._pages, self.errors = paths, pages, errors
        # A file still being written is looked at again on the next request.
        self._folder_mtimes = () if unsettled else folder_mtimes
        self._scanned_at = time.monotonic()
        if changed:
            self.generation += 1

    @staticmethod
    def _fresh(path: Path, slug: str, old: Page | None, wait_to_settle: bool) -> Page | None:
        """The page at `path`, re-read only if it changed and has settled (else `old`)."""
        stat = os.stat(path)
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
        except FileNotFoundError:
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
                self.errors[slug] = str(exc)
                log.error("cannot reload document, serving the last good version: %s", exc)
                return old
            self.errors.pop(slug, None)
            self._pages[slug] = page
            self.generation += 1
            return page

    def path_of(self, slug: str) -> Path | None:
        """The file behind an indexed slug."""
        return self._paths.get(slug)

    def _catch_up(self) -> None:
        """See added and removed files at once, and edits to any file within FULL_RESCAN_SECONDS."""
        if time.monotonic() - self._scanned_at > FULL_RESCAN_SECONDS:
            with self._lock:
                if time.monotonic() - self._scanned_at > FULL_RESCAN_SECONDS:
                    self._scan()
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


def get_store() -> DocumentStore:
    """The current app's document store."""
    return current_app.extensions["documents"]
