"""What is made from every page of a language in a thread (suggestions' vocabulary, related
pages' terms), and made again when the pages change."""

from __future__ import annotations

import time

from helpers import write

from app.content.library import Library
from app.search.versioned import PerVersion


def test_what_cannot_be_made_is_tried_again_when_the_pages_change_not_at_every_request(docs_dir):
    library = Library(docs_dir)
    library.load()
    tries = []

    def make(lang):
        tries.append(lang)
        raise ValueError("a page this cannot take")

    made = PerVersion(library, make, "test")
    started = time.monotonic()
    for _ in range(20):
        assert made.first("nb", timeout=0.5) is None
    assert tries == ["nb"]  # not a thread a request, each making it again
    assert time.monotonic() - started < 2  # and no request waits for what failed
    write(docs_dir, "ny-side", "# Ny side\n\nTekst.\n")
    assert made.first("nb", timeout=0.5) is None and tries == ["nb", "nb"]
