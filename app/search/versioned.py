"""Something made from every page of a language (suggestions' vocabulary, related pages'
terms), made again in a thread of its own when the pages change, the last one answering
meanwhile. Until the first is made, there is none; a request may wait a moment for it
(`first`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from flask import Flask

from app.content.library import Library

T = TypeVar("T")

log = logging.getLogger(__name__)


class PerVersion(Generic[T]):
    """`make(lang)` for each language, kept with the pages' state it was made from."""

    def __init__(self, library: Library, make: Callable[[str], T], name: str):
        self.library = library
        self.make = make
        self.name = name
        self._made: dict[str, tuple[str, T]] = {}  # lang -> (pages' state, what was made)
        self._making: set[str] = set()
        self._failed: dict[str, str] = {}  # lang -> the pages' state it could not be made from
        self._lock = threading.Lock()

    def current(self, lang: str) -> tuple[str, T] | None:
        """The latest made for `lang`, with the pages' state it was made from; a new one is
        started when the pages have changed since."""
        state = self.library.fingerprint()
        with self._lock:
            made = self._made.get(lang)
            stale = (made is None or made[0] != state) and self._failed.get(lang) != state
            if stale and lang not in self._making:
                self._making.add(lang)
                threading.Thread(target=self._make, args=(lang, state), name=f"{self.name}-{lang}", daemon=True).start()
        return made

    def settled(self, lang: str) -> bool:
        """Whether `lang`'s was made from the pages as they are now."""
        made = self.current(lang)
        return made is not None and made[0] == self.library.fingerprint()

    def first(self, lang: str, timeout: float) -> tuple[str, T] | None:
        """The latest made for `lang`, waiting up to `timeout` seconds for the first one
        (while it is being made: not when it could not be)."""
        deadline = time.monotonic() + timeout
        while (made := self.current(lang)) is None and lang in self._making and time.monotonic() < deadline:
            time.sleep(0.005)
        return made

    def start_with_first_request(self, app: Flask) -> None:
        """Start making every language's at `app`'s first request: an app made before a
        fork (the launcher's workers) must not fork in the middle of it."""
        started = threading.Event()

        @app.before_request
        def start_making():
            if not started.is_set():
                started.set()
                self.start()

    def start(self) -> None:
        """Start making every language's (from an app's first request: never before a fork)."""
        for lang in self.library.stores:
            self.current(lang)

    def _make(self, lang: str, state: str) -> None:
        try:
            made = self.make(lang)
            with self._lock:
                self._made[lang] = (state, made)
        except Exception:  # noqa: BLE001 - the last one answers meanwhile
            # Tried again when the pages change, not at each request: a thread each, each
            # failing alike, and each first page waiting for it in vain.
            log.exception("cannot make %s for %s from the pages as they are", self.name, lang)
            with self._lock:
                self._failed[lang] = state
        finally:
            with self._lock:
                self._making.discard(lang)

    def ready(self, timeout: float = 10) -> bool:
        """Wait until every language's is made from the pages as they are (for tests and
        benchmarks); whether it is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.library.fingerprint()
            if all((self.current(lang) or ("",))[0] == state for lang in self.library.stores):
                return True
            time.sleep(0.01)
        return False
