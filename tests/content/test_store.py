"""Parsing documents and keeping the store in step with the docs folder."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC

import pytest
import yaml
from helpers import PROJECT, SEED_PAGE, write
from hypothesis import given, settings
from hypothesis import strategies as st

from app.content import preload
from app.content import store as documents
from app.content.library import load_library
from app.content.page import FRONT_MATTER, YAML_LOADER, DocumentError, parse_document, plain_front_matter
from app.content.store import DocumentStore


def test_title_is_the_first_level_one_heading():
    page = parse_document("x", "Intro text\n\n## Not this\n\n# The Title ##\n\nBody")
    assert page.title == "The Title"


def test_seed_page_without_front_matter():
    page = parse_document("what-is-ip-adapter", SEED_PAGE.read_text(encoding="utf-8"))
    assert page.title == "IP-Adapter / Bildeadapter"
    assert page.category == "Hjelpeseksjonen"
    assert page.description.startswith("IP-Adapter, eller Identitet-Bevarende Adapter")
    assert "](docs.php" not in page.description  # links reduced to their text
    assert len(page.description) <= 161


def test_front_matter_refines_the_page():
    text = "---\ntitle: Egen tittel\ndescription: Kort.\ncategory: Terminologi\norder: 3\n---\n# Overskrift\n"
    page = parse_document("x", text)
    assert (page.title, page.description, page.category, page.order) == ("Egen tittel", "Kort.", "Terminologi", 3)
    assert page.body == "# Overskrift\n"


def test_byte_order_mark_is_ignored():
    assert parse_document("x", "\ufeff# Tittel\n").title == "Tittel"


@pytest.mark.parametrize(
    "text, message",
    [
        ("Just text, no heading", "no title"),
        ("---\ntitle: [unclosed\n---\n# T", "not valid YAML"),
        ("---\n- a list\n---\n# T", "must be a mapping"),
        ("---\norder: first\n---\n# T", "whole number"),
        ("---\ntitle: {a: 1}\n---\n# T", "must be text"),
        ("---\n!!python/object:os.system x\n---\n# T", "not valid YAML"),
    ],
)
def test_bad_documents_are_refused_with_a_reason(text, message):
    with pytest.raises(DocumentError, match=message):
        parse_document("x", text)


def test_store_indexes_only_markdown_files_with_valid_slugs(tmp_path):
    for name in ("good.md", "Bad.md", "under_score.md", "notes.txt", ".hidden.md", "-dash.md"):
        (tmp_path / name).write_text("# T\n", encoding="utf-8")
    (tmp_path / "folder.md").mkdir()
    store = DocumentStore(tmp_path)
    store.load()
    assert [p.slug for p in store.pages()] == ["good"]


def test_store_ignores_symlinks_leading_outside_the_folder(tmp_path):
    docs, outside = tmp_path / "docs", tmp_path / "outside.md"
    docs.mkdir()
    outside.write_text("# Secret\n", encoding="utf-8")
    (docs / "leak.md").symlink_to(outside)
    (docs / "real.md").write_text("# Real\n", encoding="utf-8")
    (docs / "alias.md").symlink_to(docs / "real.md")
    store = DocumentStore(docs)
    store.load()
    assert store.get("leak") is None
    assert store.get("alias").title == "Real"


def test_edits_additions_and_removals_are_seen_without_reloading(tmp_path):
    store = DocumentStore(tmp_path)
    write(tmp_path, "a", "# First\n")
    store.load()
    assert store.get("a").title == "First"
    write(tmp_path, "a", "# Second\n")
    assert store.get("a").title == "Second"
    write(tmp_path, "b", "# New page\n")
    assert store.get("b").title == "New page"
    os.remove(tmp_path / "a.md")
    assert store.get("a") is None
    assert [p.slug for p in store.pages()] == ["b"]


def test_a_broken_edit_keeps_the_last_good_version(tmp_path):
    store = DocumentStore(tmp_path)
    write(tmp_path, "a", "# Good\n")
    store.load()
    write(tmp_path, "a", "no title any more")
    assert store.get("a").title == "Good"
    assert "no title" in store.errors["a"]
    write(tmp_path, "a", "# Fixed\n")
    assert store.get("a").title == "Fixed"
    assert "a" not in store.errors


def test_files_that_are_not_utf8_or_too_large_are_reported(tmp_path):
    (tmp_path / "latin.md").write_bytes("# Blåbær\n".encode("latin-1"))
    (tmp_path / "huge.md").write_bytes(b"# H\n" + b"x" * 1_000_001)
    store = DocumentStore(tmp_path)
    store.load()
    assert "not UTF-8" in store.errors["latin"]
    assert "larger than" in store.errors["huge"]
    assert store.get("latin") is None and store.get("huge") is None


def test_fingerprint_follows_content(tmp_path):
    write(tmp_path, "a", "# A\n")
    store = DocumentStore(tmp_path)
    store.load()
    before = store.fingerprint()
    assert store.fingerprint() == before
    write(tmp_path, "a", "# A, edited\n")
    store.get("a")
    assert store.fingerprint() != before


def test_a_file_being_written_is_not_served_half_written(tmp_path, monkeypatch):
    from app.content import store as documents

    write(tmp_path, "a", "# Whole\n\nAll of the first version.\n")
    store = DocumentStore(tmp_path)
    store.load()
    monkeypatch.setattr(documents, "SETTLE_SECONDS", 0.3)
    # A writer that truncates, then writes part of the new version...
    (tmp_path / "a.md").write_text("# Who", encoding="utf-8")
    assert store.get("a").title == "Whole"
    # ...and a new file, half written.
    (tmp_path / "b.md").write_text("# Ha", encoding="utf-8")
    assert store.get("b") is None
    (tmp_path / "a.md").write_text("# Whole again\n\nThe second version.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Half? No, whole\n", encoding="utf-8")
    time.sleep(0.35)
    assert store.get("a").title == "Whole again"
    assert store.get("b").title == "Half? No, whole"


# One bad document hurts only itself; nothing outside the folder is read.


@pytest.mark.parametrize(
    "text, message",
    [
        ("---\nupdated: 2026-02-30\n---\n# T\n", "'updated' is 2026-02-30, a day that does not exist"),
        ("---\nreview_by: 2027-13-01\n---\n# T\n", "'review_by' is 2027-13-01, a day that does not exist"),
        ("---\naliases: [2026-02-30]\n---\n# T\n", "cannot be read: ValueError: day is out of range"),
        # The day that does not exist is named, not another.
        ("---\nupdated: 2026-02-30T10:00:00Z\nreviewed: 2026-1-5\n---\n# T\n", "'updated' is 2026-02-30T10:00:00Z"),
        ("---\nreviw_by: 2026-02-30\n---\n# T\n", "under a key no page has: did you mean 'review_by'?"),
        (
            "---\ndescription: 2026-02-30 er ingen dag\nupdated: 2026-02-31\n---\n# T\n",
            "'updated' is 2026-02-31, a day",
        ),
        ("---\nupdated: 2026-02-28 24:00:00\n---\n# T\n", "'updated' is 2026-02-28 24:00:00, a time that does not"),
        ("---\norder: " + "9" * 5000 + "\n---\n# T\n", "cannot be read"),
        ("---\norder: 12345678901\n---\n# T\n", "at most 9 digits"),
        ("---\nupdated: tomorrow\n---\n# T\n", "must be a date"),
        ("---\n" + "[" * 5000 + "\n---\n# T\n", "front matter"),
        ("# T\n\n" + "*" * 2000 + "x" + "*" * 2000 + "\n", "more than 100 '*' in a row"),
        ("# T\n\n" + "[a" * 6000 + "\n", "brackets"),
    ],
)
def test_any_fault_in_a_file_is_a_document_error_naming_it(tmp_path, text, message):
    (tmp_path / "bad.md").write_text(text, encoding="utf-8")
    store = DocumentStore(tmp_path)
    store.load()
    assert store.get("bad") is None
    assert "bad.md" in store.errors["bad"] and message in store.errors["bad"]


@pytest.mark.parametrize(
    "text, title, slip",
    [
        ("---\ndraft: true\nowner: Team Hjelp\n# Utkast\n\nTekst.\n", "Utkast", "no closing '---' line"),
        ("---\n# Linje\n\nTekst.\n", "Linje", "no closing '---' line"),
        ("---\ndrafts: true\n---\n# T\n", "T", "unknown key 'drafts', which does nothing: did you mean 'draft'?"),
        ("---\ntags: [ai]\n---\n# T\n", "T", "unknown key 'tags', which does nothing (a page may have aliases,"),
        ('---\n"a\\nb\\u001b": x\n---\n# T\n', "T", "unknown key 'a\\nb\\x1b'"),
    ],
)
def test_an_authors_slip_is_served_as_before_and_kept_for_make_check(tmp_path, text, title, slip):
    # Pages the old system served keep being served; `make check` fails on them (tests/operations).
    (tmp_path / "slip.md").write_text(text, encoding="utf-8")
    store = DocumentStore(tmp_path)
    store.load()
    page = store.get("slip")
    assert store.errors == {} and page.title == title and not page.draft
    [found] = page.slips
    assert slip in found and "\n" not in found


def test_updated_comes_from_front_matter_not_the_file_time(tmp_path):
    from datetime import datetime

    write(tmp_path, "a", "---\nupdated: 2026-03-01\n---\n# A\n")
    write(tmp_path, "b", "# B\n")
    store = DocumentStore(tmp_path)
    store.load()
    assert store.get("a").last_changed == datetime(2026, 3, 1, tzinfo=UTC)
    assert abs(store.get("b").last_changed.timestamp() - (tmp_path / "b.md").stat().st_mtime) < 1


def test_versions_follow_content_not_file_times(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    (one / "a.md").write_text("# Aaaa\n", encoding="utf-8")
    (two / "a.md").write_text("# Bbbb\n", encoding="utf-8")
    for path in (one / "a.md", two / "a.md"):
        os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    stores = [DocumentStore(folder) for folder in (one, two)]
    for store in stores:
        store.load()
    a, b = (store.get("a") for store in stores)
    assert (a.mtime_ns, a.size) == (b.mtime_ns, b.size)
    assert a.version != b.version
    assert stores[0].fingerprint() != stores[1].fingerprint()


def test_a_link_swapped_in_to_a_file_outside_is_never_read(tmp_path):
    docs, outside = tmp_path / "docs", tmp_path / "secret.md"
    docs.mkdir()
    outside.write_text("# Hemmelig\n\nroot:x:0:0\n", encoding="utf-8")
    write(docs, "side", "# Side\n\nTrygg tekst.\n")
    store = DocumentStore(docs)
    store.load()
    assert "Trygg" in store.get("side").body
    # Swapped for a link after the folder was listed: the next read must refuse it.
    os.remove(docs / "side.md")
    os.symlink(outside, docs / "side.md")
    later = time.time() + 1
    os.utime(docs / "side.md", (later, later), follow_symlinks=False)
    page = store.get("side")  # the file changed: read again, through the link
    assert "links outside the docs folder" in store.errors["side"]
    assert page is not None and "root:" not in page.body  # the last good version
    assert all("root:" not in p.body for p in store.pages())
    assert store.get("side") is None  # listed again: the link is left out


def test_a_file_cut_off_mid_line_waits_longer(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "SETTLE_SECONDS", 0.05)
    monkeypatch.setattr(documents, "UNFINISHED_SETTLE_SECONDS", 0.6)
    write(tmp_path, "a", "# Hel\n\nFerdig.\n")
    store = DocumentStore(tmp_path)
    store.load()
    path = write(tmp_path, "a", "# Halv\n\nEt avsnitt som ikke er skrevet fer")
    time.sleep(0.2)  # past SETTLE_SECONDS, not past UNFINISHED_SETTLE_SECONDS
    assert store.get("a").title == "Hel"
    time.sleep(0.5)
    assert store.get("a").title == "Halv"  # a file without a final newline is still served in the end
    path.write_text("# Ny\n\nFerdig skrevet.\n", encoding="utf-8")
    os.utime(path, ns=(time.time_ns() - 200_000_000,) * 2)
    assert store.get("a").title == "Ny"


def test_an_app_takes_the_pages_handed_over_by_the_launcher_once(docs_dir, tmp_path, make_app):
    from app.content.preload import hand_over

    checked = load_library(docs_dir)
    other = tmp_path / "other"
    other.mkdir()
    write(other, "annen", "# Annen\n\nTekst.\n")
    hand_over(checked)
    assert make_app(DOCS_DIR=str(other)).extensions["library"] is not checked  # another folder
    assert make_app().extensions["library"] is checked  # what a forked worker does: nothing read again
    assert make_app().extensions["library"] is not checked  # a second app reads its own


def test_a_page_edited_after_the_check_is_served_as_edited(docs_dir, make_app):
    from app.content.preload import hand_over

    hand_over(load_library(docs_dir))
    write(docs_dir, "instantid-intro", "# Endret siden\n\nNy tekst.\n")
    write(docs_dir, "ny-side", "# Ny side\n\nLagt til etter sjekken.\n")
    client = make_app().test_client()
    assert "Endret siden" in client.get("/docs.php?doc=instantid-intro").text
    assert "Lagt til etter sjekken" in client.get("/docs.php?doc=ny-side").text


# Characters that mean something to YAML, or that it refuses, beside ordinary ones.
TRICKY_TEXT = st.text(st.sampled_from(list("aZæø 09:#-+?.,_[]{}&*!|>'\"%@`~=<\t\r\xa0\ufeff\\x")), max_size=12)
KEYS = st.sampled_from(["title", "order", "updated", "description", "yes", "null", "On", "12", "x_1"])
VALUES = st.sampled_from(
    [
        "Hei",
        "12",
        "-3",
        "0",
        "0012",
        "+3",
        "0x1F",
        "1_000",
        "12:30",
        "1.5",
        ".inf",
        "2026-11-26",
        "2026-02-30",
        "2026-11-26 10:00",
        "yes",
        "No",
        "null",
        "~",
        "C# og F#",
        "a #b",
        "a: b",
        "Hva er IP-Adapter?",
        "100 %",
        "«sitat»",
        "-x",
        "x:",
        "x ",
        "[a]",
        "'a'",
        "*a",
        "!a",
    ]
)
# Mostly lines the fast path reads, so that what it reads is compared often.
LINES = st.tuples(
    st.one_of(KEYS, KEYS, KEYS, TRICKY_TEXT),
    st.sampled_from([": ", ": ", ": ", ":  ", ":", ": \t", " : "]),
    st.one_of(VALUES, VALUES, TRICKY_TEXT),
)


@settings(max_examples=1000, deadline=None)
@given(lines=st.lists(LINES, min_size=1, max_size=4))
def test_front_matter_read_without_yaml_is_what_yaml_reads(lines):
    text = "\n".join(key + colon + value for key, colon, value in lines)
    plain = plain_front_matter(text)
    if plain is not None:
        assert plain == yaml.load(text, Loader=YAML_LOADER)


def test_front_matter_as_our_authors_write_it_is_read_without_yaml():
    for path in (PROJECT / "docs").rglob("*.md"):
        found = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        assert found and plain_front_matter(found.group(1)) == yaml.load(found.group(1), Loader=YAML_LOADER), path
    assert plain_front_matter("title: Hei\n# en kommentar") is None  # YAML reads what it cannot


def in_reading_processes(monkeypatch, slug: str, instead) -> None:
    """Reading `slug` in a forked reading process (not in this one) does `instead(path)`;
    the read-ahead gets a pool even for a dozen files."""
    monkeypatch.setattr(preload, "PAGES_PER_PROCESS", 1)
    launcher, real_read = os.getpid(), documents.read_document

    def read(path, name, wait_to_settle=True):
        if os.getpid() != launcher and name == slug:
            instead(path)
        return real_read(path, name, wait_to_settle)

    monkeypatch.setattr(documents, "read_document", read)


def being_written(path):
    raise documents.FileBeingWritten(path)


def test_pages_read_ahead_by_forked_processes_are_the_pages_read_here(docs_dir, monkeypatch):
    in_reading_processes(monkeypatch, "instantid-intro", being_written)  # left to the store
    with preload.ReadAhead(docs_dir, processes=2) as reading:
        library = reading.loaded()
    expected = load_library(docs_dir)
    for code, store in library.stores.items():
        assert {p.slug: p for p in store.pages()} == {p.slug: p for p in expected.stores[code].pages()}
    assert library.stores["nb"].get("instantid-intro") is not None


def test_a_broken_page_read_ahead_is_named_as_when_read_here(docs_dir, monkeypatch):
    from app.config import ConfigError

    monkeypatch.setattr(preload, "PAGES_PER_PROCESS", 1)
    write(docs_dir, "broken", "---\ntitle: [unclosed\n---\n# T\n")
    with pytest.raises(ConfigError) as here:
        load_library(docs_dir, strict=True)
    with preload.ReadAhead(docs_dir, processes=2) as reading, pytest.raises(ConfigError) as ahead:
        reading.loaded(strict=True)
    assert str(ahead.value) == str(here.value) and "broken.md" in str(ahead.value)
    # Without STRICT_START the others are served, and the broken one is named the same way.
    with preload.ReadAhead(docs_dir, processes=2) as reading:
        lenient = reading.loaded()
    assert lenient.failed() == load_library(docs_dir).failed() == ["broken.md"]
    assert lenient.stores["nb"].get("what-is-ip-adapter") is not None and lenient.unreadable("broken", "en")


def test_a_reading_process_that_dies_leaves_its_pages_to_the_stores(docs_dir, monkeypatch):
    in_reading_processes(monkeypatch, "instantid-intro", lambda path: os._exit(1))  # killed mid-read (OOM, say)
    loaded = []

    def start():
        with preload.ReadAhead(docs_dir, processes=2) as reading:
            loaded.append(reading.loaded())

    starting = threading.Thread(target=start, daemon=True)
    starting.start()
    starting.join(60)
    assert loaded, "the start hung waiting for a process that had died"
    assert len(loaded[0].stores["nb"]) == len(load_library(docs_dir).stores["nb"])


def test_a_file_that_failed_to_load_is_read_again_only_once_it_changes(docs_dir, make_app, monkeypatch):
    # Each request for a broken page would otherwise read and parse its file again.
    write(docs_dir, "odelagt", "---\nupdated: 2026-02-30\n---\n# Ødelagt\n")
    client = make_app().test_client()
    write(docs_dir, "instantid-intro", "---\nupdated: 2026-02-31\n---\n# Endret\n")
    assert client.get("/docs.php?doc=instantid-intro").status_code == 200  # its last good version
    reads = []
    real_read = documents.read_document
    monkeypatch.setattr(documents, "read_document", lambda path, *args: reads.append(path) or real_read(path, *args))
    for _ in range(20):
        assert client.get("/docs.php?doc=odelagt").status_code == 503
        assert client.get("/docs.php?doc=instantid-intro").status_code == 200
    assert reads == []
    write(docs_dir, "odelagt", "# Reparert\n\nTekst.\n")
    assert "Reparert" in client.get("/docs.php?doc=odelagt").text
