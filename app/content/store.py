"""Help documents on disk: the `DocumentStore` of one language's folders, read safely and
re-read when files change."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import TypeVar

from app.content.page import SLUG, DocumentError, Page, parse_document
from app.observability.metrics import DOCUMENT_ERRORS

log = logging.getLogger(__name__)
T = TypeVar("T")

# Sixteen times our longest page. Rendering is about 16 µs a byte (Markdown and bleach, in
# pure Python): a page this long, dense with links, takes a worker about a second.
MAX_DOCUMENT_BYTES = 64_000
# How stale the list of all pages (the index) may be before every file is stat'ed again.
FULL_RESCAN_SECONDS = 2.0
# ... or this many times what the last full scan took, if longer: scans stay a small share of a worker.
RESCAN_COST_FACTOR = 50
# A file changed less than this long ago may still be being written (an editor or a copy
# that truncates, then writes in pieces): its last complete version is served until then.
SETTLE_SECONDS = 0.25
# A file that does not end with a line break is likely cut off mid-write: it waits longer.
UNFINISHED_SETTLE_SECONDS = 2.0


class FileBeingWritten(Exception):
    """The file changed while it was read, or too recently to be complete: try again later."""


def read_document(path: str, slug: str, wait_to_settle: bool = True) -> Page:
    """Read and parse one file; raises DocumentError naming the file when it cannot.

    The file is opened without following a link. A link is followed only to a file in the
    same folder, whose real path is then opened the same way: a link swapped in after that
    check fails to open instead of being read. (Resolving every path first would cost a
    tenth of the start-up's check of 10,000 pages, for the few that are links.)
    Raises FileBeingWritten when the file changed during the read or, with
    `wait_to_settle`, too recently (see `settled`): what was read may be half a file.
    """
    for _ in range(3):
        try:
            fd = _open_in_folder(path)
            with os.fdopen(fd, "rb") as handle:
                stat = os.fstat(fd)
                if stat.st_size > MAX_DOCUMENT_BYTES:
                    raise DocumentError(f"{path}: larger than {MAX_DOCUMENT_BYTES:,} bytes")
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
                after = os.fstat(fd)
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


def _open_in_folder(path: str) -> int:
    """A descriptor of the file at `path`, or of the file in its folder that it links to."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(path, flags)
    except OSError as exc:
        if exc.errno != errno.ELOOP:  # ELOOP: `path` is a link
            raise
    real = os.path.realpath(path)
    if not Path(real).is_relative_to(os.path.dirname(path)):
        raise DocumentError(f"{path}: links outside the docs folder")
    return os.open(real, flags)


def parse_file(path: str, slug: str, data: bytes, stat: os.stat_result) -> Page:
    """Parse a file's bytes; DocumentError names the file."""
    try:
        text = data.decode("utf-8")
        return parse_document(slug, text, stat.st_mtime_ns, stat.st_size)
    except UnicodeDecodeError:
        raise DocumentError(f"{path}: not UTF-8 text") from None
    except DocumentError as exc:
        raise DocumentError(f"{path}: {exc}") from None


def _version(path: str) -> tuple[int, int] | None:
    """A file's (mtime, size), to tell whether it changed; None if it cannot be stat'ed."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


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

    A draft (`draft: true`) is read and kept like any page, but every read here (`get`,
    `known`, `pages`, `fingerprint`, `len`) passes it over unless the store shows `drafts`
    (the Library's stores do when the app runs with PREVIEW on): this is the one place that
    keeps drafts from readers, so the index, search, suggestions, related pages, the sitemap,
    the API and `/go/` leave them out without a line of their own.
    """

    def __init__(self, *folders: str | os.PathLike, drafts: bool = False):
        self.drafts = drafts
        self.folders = [Path(folder).resolve() for folder in folders]
        self.root = self.folders[-1]
        self.errors: dict[str, str] = {}
        # The (mtime, size) of each file that failed to load: not read again until it changes.
        self._failed: dict[str, tuple[int, int]] = {}
        self._pages: dict[str, Page] = {}
        self._paths: dict[str, str] = {}
        self._folder_mtimes: tuple[int, ...] = ()
        self._scanned_at = 0.0
        self._lock = threading.Lock()
        self._fingerprint = (-1, "")
        self._scan_seconds = 0.0  # what the last full scan took
        self.generation = 0

    def load(self, known: dict[str, Page] | None = None) -> None:
        """(Re)build the index from the folder listing. Pages in `known` (read by another
        process) are taken as they are wherever their file's mtime and size still match."""
        with self._lock:
            if known and not self._scanned_at:
                self._pages = known
            # Every file as it is now, also one written a moment ago (`make check` runs right
            # after a save): only a server's later rescans wait for a file to settle.
            self._scan(wait_to_settle=False)
            self.generation += 1  # a first load counts as a change, whatever it was seeded with

    def listing(self) -> dict[str, str]:
        """The document files of every folder by slug; earlier folders hide later ones."""
        paths = {}
        for folder in reversed(self.folders):  # earlier folders overwrite later ones
            if not folder.is_dir():
                continue
            with os.scandir(folder) as entries:
                for entry in entries:
                    slug, ext = os.path.splitext(entry.name)
                    if ext != ".md" or not SLUG.fullmatch(slug):
                        continue
                    path = entry.path  # a str: 10,000 Path objects would cost 40 ms
                    # A symlink may point anywhere: only follow it if it stays in the folder.
                    if entry.is_symlink() and not Path(path).resolve().is_relative_to(folder):
                        log.warning("ignoring %s: links outside the docs folder", path)
                        continue
                    if entry.is_file():
                        paths[slug] = path
        return paths

    def _scan(self, wait_to_settle: bool = True) -> None:
        """List the folders, then load every file that is new or changed (one still being
        written is left for the next scan when `wait_to_settle`)."""
        folder_mtimes = self._mtimes()
        paths = self.listing()
        pages, errors, failed, unsettled = {}, {}, {}, False
        first_load = not self._scanned_at
        for slug, path in paths.items():
            old = self._pages.get(slug)
            try:
                page = self._fresh(path, slug, old, wait_to_settle=wait_to_settle and not first_load)
                if page is None:  # new, and still being written
                    unsettled = True
            except DocumentError as exc:
                errors[slug] = str(exc)
                failed[slug] = _version(path)
                page = old
            if page is not None:
                pages[slug] = page
        changed = pages.keys() != self._pages.keys() or any(
            page is not self._pages[slug] for slug, page in pages.items()
        )
        if not first_load:  # at the first load the caller reports errors itself
            for slug, message in errors.items():
                if self.errors.get(slug) != message:
                    self._report(message)
        self._paths, self._pages, self.errors, self._failed = paths, pages, errors, failed
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
    def _fresh(path: str, slug: str, old: Page | None, wait_to_settle: bool) -> Page | None:
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

    def _shown(self, page: Page | None) -> Page | None:
        """`page`, unless it is a draft this store does not show."""
        return None if page is None or (page.draft and not self.drafts) else page

    def get(self, slug: str) -> Page | None:
        """The current version of the page named `slug`, or None if there is none (or it is
        a draft this store does not show)."""
        return self._shown(self._current(slug))

    def _current(self, slug: str) -> Page | None:
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
            # Unchanged since it failed, or still being written: not read for every request.
            if self._failed.get(slug) == (stat.st_mtime_ns, stat.st_size) or not settled(stat):
                return page
            page = self._reload(slug, path, page)
        return page

    def failed_paths(self) -> list[str]:
        """The files whose latest version failed to load (a last good version may be served)."""
        return [self._paths[slug] for slug in self.errors if slug in self._paths]

    def known(self, slug: str) -> Page | None:
        """The page named `slug` as last read, without looking at its file (for what was
        found among the pages as they were read, such as search results)."""
        return self._shown(self._pages.get(slug))

    def _reload(self, slug: str, path: str, old: Page | None) -> Page | None:
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
                self._failed[slug] = _version(path)
                return old
            self.errors.pop(slug, None)
            self._failed.pop(slug, None)
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

    def current_generation(self) -> int:
        """The generation once caught up with the files: cheaper than `pages()` to see a change."""
        self._catch_up()
        return self.generation

    def pages(self, with_drafts: bool = False) -> list[Page]:
        """Every page, as current as `_catch_up` keeps them; drafts only if the store shows
        them or `with_drafts` (for `flask check-docs`, which checks drafts too)."""
        self._catch_up()
        if with_drafts or self.drafts:
            return list(self._pages.values())
        return [page for page in self._pages.values() if not page.draft]

    def __len__(self) -> int:
        return len(self._pages) if self.drafts else sum(not page.draft for page in self._pages.values())

    def fingerprint(self) -> str:
        """A digest of every page's slug and version (of those it shows): equal on replicas
        with equal files."""
        self._catch_up()
        if self._fingerprint[0] != self.generation:
            digest = hashlib.sha256()
            shown = (page for page in self._pages.values() if self.drafts or not page.draft)
            for page in sorted(shown, key=lambda p: p.slug):
                digest.update(f"{page.slug}:{page.version}\n".encode())
            self._fingerprint = (self.generation, digest.hexdigest()[:16])
        return self._fingerprint[1]
