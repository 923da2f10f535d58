"""Addresses besides a page's slug: `aliases:` and `contexts:` in front matter, their index
across languages (clashes reported, the page winning), and the lock of published addresses."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import write

from app.content.addresses import LOCK_FILE, index_addresses, lock_new_addresses, lock_problems, read_lock
from app.content.library import Library
from app.content.page import DocumentError, parse_document


@pytest.mark.parametrize(
    "front, aliases, contexts",
    [
        (
            "aliases: [gammel-side, eldre]\ncontexts: [screen.upload, error.e1203]",
            ("gammel-side", "eldre"),
            ("screen.upload", "error.e1203"),
        ),
        (
            "aliases:\n  - gammel-side\n  - gammel-side\ncontexts:\n  - Screen.Upload",
            ("gammel-side",),
            ("screen.upload",),
        ),
        ("aliases: gammel-side\ncontexts: screen_upload-2", ("gammel-side",), ("screen_upload-2",)),
        ("title: Uten", (), ()),
    ],
)
def test_aliases_and_contexts_are_read_from_front_matter(front, aliases, contexts):
    page = parse_document("side", f"---\n{front}\n---\n# Side\n")
    assert (page.aliases, page.contexts) == (aliases, contexts)


@pytest.mark.parametrize(
    "front, message",
    [
        ("aliases: [Gammel_Side]", "aliases"),
        ("aliases: [../x]", "aliases"),
        ("aliases: [12]", "aliases"),
        ("aliases: {a: b}", "aliases"),
        ("contexts: [screen upload]", "contexts"),
        ("contexts: [.upload]", "contexts"),
        ("contexts: ['<script>']", "contexts"),
        ("contexts: [\u212aey]", "contexts"),  # the Kelvin sign is a "k" in lower case: not ASCII, not a key
        (f"contexts: [{'a' * 65}]", "contexts"),
        (f"aliases: [{', '.join(f'a{i}' for i in range(51))}]", "at most 50"),
    ],
)
def test_bad_aliases_and_contexts_are_a_document_error(front, message):
    with pytest.raises(DocumentError, match=message):
        parse_document("side", f"---\n{front}\n---\n# Side\n")


def test_a_pages_version_changes_with_its_aliases_and_contexts():
    plain = parse_document("side", "---\ntitle: Side\n---\nTekst.\n")
    aliased = parse_document("side", "---\ntitle: Side\naliases: [gammel]\n---\nTekst.\n")
    keyed = parse_document("side", "---\ntitle: Side\naliases: [gammel]\ncontexts: [screen.x]\n---\nTekst.\n")
    assert len({plain.version, aliased.version, keyed.version}) == 3


def page(slug: str, aliases=(), contexts=()):
    front = f"aliases: [{', '.join(aliases)}]\ncontexts: [{', '.join(contexts)}]"
    return parse_document(slug, f"---\n{front}\n---\n# {slug}\n")


def test_the_index_spans_languages_and_reports_each_clash_in_one_line():
    found = index_addresses(
        {
            "nb": [
                page("ny", aliases=["gammel", "felles"], contexts=["screen.upload"]),
                page("annen", aliases=["felles", "ny-ish"], contexts=["screen.upload", "error.e1"]),
                page("tredje", aliases=["annen"]),
            ],
            "en": [page("ny", aliases=["gammel", "bare-engelsk"]), page("engelsk", contexts=["error.e1"])],
        }
    )
    assert found.aliases == {"gammel": "ny", "bare-engelsk": "ny", "ny-ish": "annen"}
    assert found.contexts == {"error.e1": ("annen", "engelsk"), "screen.upload": ("annen", "ny")}
    assert found.problems == (
        "[nb] tredje.md: the alias 'annen' is also a page's slug; the page wins over the alias",
        "[nb] annen.md, [nb] ny.md: each claims the alias 'felles', so it leads to none of them",
    )
    assert found.of_page("ny") == (["bare-engelsk", "gammel"], ["screen.upload"])


def lock_lines(folder) -> list[str]:
    return [line for line in (folder / LOCK_FILE).read_text().splitlines() if not line.startswith("#")]


def test_the_lock_adds_new_addresses_and_never_removes_one(tmp_path):
    write(tmp_path, "side", "---\naliases: [gammel]\ncontexts: [screen.upload]\n---\n# Side\n")
    (tmp_path / "en").mkdir()
    write(tmp_path / "en", "side", "# Page\n")
    write(tmp_path, "bare-norsk", "# Bare norsk\n")
    library = Library(tmp_path)
    library.load()
    assert lock_new_addresses(library, date(2026, 12, 7)) == [
        "/docs.php?doc=bare-norsk&lang=nb 2026-12-07",
        "/docs.php?doc=gammel&lang=en 2026-12-07",
        "/docs.php?doc=gammel&lang=nb 2026-12-07",
        "/docs.php?doc=side&lang=en 2026-12-07",
        "/docs.php?doc=side&lang=nb 2026-12-07",
        "/go/screen.upload 2026-12-07",
    ]
    assert (tmp_path / LOCK_FILE).read_text().startswith("# Every address")
    assert lock_problems(library) == (6, [])
    first = lock_lines(tmp_path)
    (tmp_path / "bare-norsk.md").unlink()
    library.load()
    assert lock_new_addresses(library, date(2026, 12, 8)) == []  # nothing new, nothing removed
    assert len(lock_lines(tmp_path)) == 6
    count, problems = lock_problems(library)
    assert count == 6 and problems == [
        "_links.lock: /docs.php?doc=bare-norsk&lang=nb (published 2026-12-07) leads nowhere now: "
        "give the page that replaces it `aliases: [bare-norsk]`"
    ]
    write(tmp_path, "side", "---\naliases: [gammel, bare-norsk]\n---\n# Side\n")  # renamed into side; the key dropped
    library.load()
    assert lock_problems(library)[1] == [
        "_links.lock: /go/screen.upload (published 2026-12-07) leads nowhere now: give a page `contexts: [screen.upload]`"
    ]
    # In Norwegian bare-norsk is locked already; as an alias of side it is now English too.
    assert lock_new_addresses(library, date(2026, 12, 9)) == ["/docs.php?doc=bare-norsk&lang=en 2026-12-09"]
    assert lock_lines(tmp_path) == [*first, "/docs.php?doc=bare-norsk&lang=en 2026-12-09"]


def test_lines_that_are_no_address_are_problems_of_their_own(tmp_path):
    (tmp_path / LOCK_FILE).write_text(
        "# kommentar\n\n/docs.php?doc=x&lang=nb 2026-12-06\n/docs.php?doc=Y&lang=nb 2026-12-06\n"
        "/docs.php?doc=x&lang=de 2026-12-06\n/go/a.b 2026-02-30\nsomething else\n/go/a.b   2026-12-06\n"
    )
    locked, problems = read_lock(tmp_path / LOCK_FILE)
    assert list(locked) == ["/docs.php?doc=x&lang=nb", "/go/a.b"]
    assert [problem.split(":")[0] for problem in problems] == [f"{LOCK_FILE} line {n}" for n in (4, 5, 6, 7)]
