"""Reading pages ahead, in the launcher: forked processes read shares of the docs folder
while it imports the rest of the app, and the workers it forks inherit what was checked."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress

from app.content.library import Library, checked, handed_over
from app.content.page import DocumentError, Page
from app.content.store import FileBeingWritten, read_document

log = logging.getLogger(__name__)

# ReadAhead gives each process at least this many files: one costs about 30 ms to start.
PAGES_PER_PROCESS = 1_000


def hand_over(library: Library) -> None:
    """Leave checked pages for the next app made on the same docs folder in this process
    or a process forked from it."""
    handed_over[library.root] = library


class ReadAhead:
    """The pages of a docs folder, read by forked processes while this one does something else.

    Used as a context manager: on leaving it the processes are gone. At 10,000 pages on
    2 cores, the launcher's check takes about half as long (see app/serve.py).
    """

    def __init__(self, docs_dir: str | os.PathLike, processes: int, drafts: bool = False):
        self.library = Library(docs_dir, drafts)
        files = self.library.files()
        processes = min(processes, len(files) // PAGES_PER_PROCESS)
        self._pool = None
        self._shares = []
        if processes > 1:
            # concurrent.futures rather than multiprocessing.Pool: a process that dies
            # breaks its futures instead of leaving them to be waited for forever.
            self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
            self._shares = [self._pool.submit(_read_share, files[start::processes]) for start in range(processes)]

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool:
            self._pool.shutdown(cancel_futures=True)

    def loaded(self, strict: bool = False) -> Library:
        """The library, once loaded with what was read; see `load_library` for a page that fails to load."""
        known: dict[str, dict[str, Page]] = {}
        for share in self._shares:
            try:
                pages = share.result()
            except BrokenProcessPool:
                log.warning("a process reading pages ended before it was done; reading its pages here")
                continue
            for code, page in pages:
                known.setdefault(code, {})[page.slug] = page
        return checked(self.library, known, strict)


def _read_share(files: list[tuple[str, str, str]]) -> list[tuple[str, Page]]:
    """In a forked process: the pages of these files that read and parse, with their
    language. The rest (broken, or changing while read) are left out: their store reads
    them again and says what is wrong."""
    pages = []
    for code, slug, path in files:
        with suppress(DocumentError, FileBeingWritten):
            pages.append((code, read_document(path, slug, wait_to_settle=False)))
    return pages
