"""What a rendered page is keyed by, and when it is no longer fresh."""

from __future__ import annotations

from helpers import write

from app.caching.keys import rendition
from app.content import store


def test_a_page_that_changes_while_what_another_shows_of_it_is_found_is_seen(app, docs_dir, monkeypatch):
    monkeypatch.setattr(store, "FULL_RESCAN_SECONDS", 0)  # every edit seen at once
    monkeypatch.setattr(store, "RESCAN_COST_FACTOR", 0)
    asked = []

    def depends():
        asked.append(1)
        if len(asked) == 1:  # another page is edited while this one's digest is made
            write(docs_dir, "instantid-intro", "# InstantID, forklart\n\nTekst.\n")
        return "made from the pages as they were", True

    with app.test_request_context():
        current = rendition("page", "nb", "", "what-is-identitynet", depends=depends)
        current.is_fresh()
    assert len(asked) == 2  # asked again: the pages changed after it was asked
