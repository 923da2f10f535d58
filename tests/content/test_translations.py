"""What a page says for its authors (owner, review dates, drafts) and what a translation was
made from: the text digest, drift, and the one careful edit `flask translated` makes."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
import yaml
from helpers import write
from hypothesis import given, settings
from hypothesis import strategies as st

from app.content.page import FRONT_MATTER, YAML_LOADER, DocumentError, parse_document, plain_front_matter, text_digest
from app.content.store import DocumentStore
from app.content.translations import CURRENT, OUTDATED, UNRECORDED, UNTRANSLATED, drift, recorded


def test_the_text_digest_is_the_title_and_body_with_whitespace_normalised():
    page = parse_document("x", "---\nupdated: 2026-01-01\n---\n# Tittel\n\nEn  tekst\r\nover linjer.\n")
    assert page.text_digest == hashlib.sha256(b"Tittel # Tittel En tekst over linjer.").hexdigest()[:16]
    assert page.text_digest == text_digest("Tittel", "# Tittel\n\nEn tekst over linjer.")
    # Front matter that is not the text (a new date, an owner) is no change to translate ...
    same = parse_document("x", "---\nowner: Team\nupdated: 2026-05-05\n---\n# Tittel\n\nEn tekst\nover linjer.\n")
    assert same.text_digest == page.text_digest
    # ... a word or the title is.
    assert parse_document("x", "# Tittel\n\nEn tekst over linjen.\n").text_digest != page.text_digest
    assert (
        parse_document("x", "---\ntitle: Ny\n---\n# Tittel\n\nEn tekst over linjer.\n").text_digest != page.text_digest
    )


def test_a_new_description_is_a_change_to_translate():
    # Readers see it in the lists of pages and in link previews: the translation's goes stale too.
    page = parse_document("x", "---\ndescription: Om bilder.\n---\n# Tittel\n\nTekst.\n")
    changed = parse_document("x", "---\ndescription: Om bildene dine.\n---\n# Tittel\n\nTekst.\n")
    assert page.text_digest != changed.text_digest
    assert page.text_digest == text_digest("Tittel", "# Tittel\n\nTekst.\n", "Om bilder.")
    # Only its words count, not how the line is written.
    assert parse_document("x", "---\ndescription: 'Om   bilder.'\n---\n# Tittel\n\nTekst.\n").text_digest == (
        page.text_digest
    )
    # No words move unseen between the title, the description and the body.
    for one, other in (
        ("---\ntitle: Bilder\ndescription: og video.\n---\nTekst.\n", "---\ntitle: Bilder og video.\n---\nTekst.\n"),
        ("---\ntitle: T\ndescription: Slik.\n---\nTekst.\n", "---\ntitle: T\n---\nSlik.\n\nTekst.\n"),
        ("---\ndescription: Om\n---\n# T\n\nbilder.\n", "---\ndescription: Om bilder.\n---\n# T\n"),
    ):
        assert parse_document("x", one).text_digest != parse_document("x", other).text_digest
    # A page without one (its first paragraph serves) keeps the digest it always had.
    plain = parse_document("x", "# Tittel\n\nTekst.\n")
    assert plain.text_digest == hashlib.sha256(b"Tittel # Tittel Tekst.").hexdigest()[:16]


def test_drift_compares_what_the_translation_records_with_the_original():
    original = parse_document("x", "# Original\n\nTekst.\n")
    made_from = f"---\ntranslated_from: {original.text_digest}\n---\n# Translation\n\nText.\n"
    assert drift(original, parse_document("x", made_from)) == CURRENT
    assert drift(original, parse_document("x", made_from.replace(original.text_digest, "f" * 16))) == OUTDATED
    assert drift(original, parse_document("x", "# Translation\n")) == UNRECORDED
    assert drift(original, None) == UNTRANSLATED
    assert drift(None, parse_document("x", made_from)) is None  # nothing to translate from


@pytest.mark.parametrize(
    "before, after",
    [
        # The key added at the end of the front matter; everything else byte for byte.
        (
            "---\ndescription: Kort.  # a comment\norder: 2\n---\n# T\n\nText\n",
            "---\ndescription: Kort.  # a comment\norder: 2\ntranslated_from: abcdef0123456789\n---\n# T\n\nText\n",
        ),
        # Its value replaced where it is, a comment after it kept.
        (
            "---\ntranslated_from: fedcba9876543210 # checked by Kari\norder: 2\n---\n# T\n",
            "---\ntranslated_from: abcdef0123456789 # checked by Kari\norder: 2\n---\n# T\n",
        ),
        ("---\ntranslated_from: 'aaaaaaaaaaaaaaaa'\n---\n# T\n", "---\ntranslated_from: abcdef0123456789\n---\n# T\n"),
        # No front matter: made for it.
        ("# T\n\nText", "---\ntranslated_from: abcdef0123456789\n---\n# T\n\nText"),
        # Windows line endings and a byte order mark stay.
        (
            "\ufeff---\r\norder: 2\r\n---\r\n# T\r\n",
            "\ufeff---\r\norder: 2\r\ntranslated_from: abcdef0123456789\r\n---\r\n# T\r\n",
        ),
        ("\ufeff# T\r\n", "\ufeff---\r\ntranslated_from: abcdef0123456789\r\n---\r\n# T\r\n"),
    ],
)
def test_recording_a_translation_changes_only_its_line(before, after):
    assert recorded(before, "abcdef0123456789") == after
    page = parse_document("x", after)
    assert page.translated_from == "abcdef0123456789"
    assert page.body == parse_document("x", before).body


@pytest.mark.parametrize("digest", ["1234567890123456", "0123456701234567", "0189012345678901", "12345e6789012345"])
def test_a_digest_yaml_would_read_as_a_number_is_quoted_and_read_back(digest):
    text = recorded("---\norder: 1\n---\n# T\n", digest)
    assert parse_document("x", text).translated_from == digest


@given(digest=st.text("0123456789abcdef", min_size=16, max_size=16))
@settings(max_examples=300, deadline=None)
def test_any_digest_is_read_back_as_written(digest):
    assert parse_document("x", recorded("# T\n", digest)).translated_from == digest


def test_authors_front_matter():
    page = parse_document(
        "x", "---\nowner: Team Hjelp\nreview_by: 2026-06-01\nreviewed: 2026-01-15\ndraft: true\n---\n# T\n"
    )
    assert (page.owner, page.review_by, page.reviewed, page.draft) == (
        "Team Hjelp",
        date(2026, 6, 1),
        date(2026, 1, 15),
        True,
    )
    plain = parse_document("x", "# T\n")
    assert (plain.owner, plain.review_by, plain.reviewed, plain.draft, plain.translated_from) == (
        "",
        None,
        None,
        False,
        "",
    )


@pytest.mark.parametrize(
    "front, message",
    [
        ("review_by: snart", "'review_by' must be a date"),
        ("reviewed: 2026-02-30", "'reviewed' is 2026-02-30, a day that does not exist"),
        ("draft: kanskje", "'draft' must be true or false"),
        ("translated_from: not-a-digest", "16 hex digits"),
        ("translated_from: ABCDEF0123456789", "16 hex digits"),
        ("owner: [a, b]", "'owner' must be text"),
        (
            "next: a, b",
            r"'next' has 'a, b', which is malformed: slugs \(a-z, 0-9 and -\) only: a list is written \[a, b\]",
        ),
        ("aliases: [gammel_side]", "'gammel_side', which is malformed: slugs"),
    ],
)
def test_bad_authors_front_matter_is_refused_with_a_reason(front, message):
    with pytest.raises(DocumentError, match=message):
        parse_document("x", f"---\n{front}\n---\n# T\n")


def test_the_authors_keys_are_read_without_yaml():
    text = (
        "owner: Team Hjelp\nreview_by: 2026-06-01\nreviewed: 2026-01-15\ndraft: true\ntranslated_from: abcdef0123456789"
    )
    assert plain_front_matter(text) == yaml.load(text, Loader=YAML_LOADER)
    assert plain_front_matter(text)["draft"] is True
    assert plain_front_matter("draft: false") == {"draft": False}
    assert plain_front_matter("draft: yes") is None  # YAML 1.1's other booleans: YAML reads them


def test_a_draft_is_in_a_store_only_when_it_shows_drafts(tmp_path):
    write(tmp_path, "utkast", "---\ndraft: true\n---\n# Utkast\n")
    write(tmp_path, "ferdig", "# Ferdig\n")
    hidden, shown = DocumentStore(tmp_path), DocumentStore(tmp_path, drafts=True)
    hidden.load()
    shown.load()
    assert [page.slug for page in hidden.pages()] == ["ferdig"] and len(hidden) == 1
    assert hidden.get("utkast") is None and hidden.known("utkast") is None
    assert sorted(page.slug for page in shown.pages()) == ["ferdig", "utkast"] and shown.get("utkast").draft
    assert sorted(page.slug for page in hidden.pages(with_drafts=True)) == ["ferdig", "utkast"]
    before = hidden.fingerprint()
    write(tmp_path, "utkast", "---\ndraft: true\n---\n# Utkast, skrevet om\n")
    hidden.load()
    assert hidden.fingerprint() == before  # a draft's edits are no change to what readers see
    write(tmp_path, "utkast", "# Utkast, publisert\n")
    hidden.load()
    assert hidden.fingerprint() != before and hidden.get("utkast").title == "Utkast, publisert"


def test_the_bundled_translations_record_what_they_were_translated_from():
    from helpers import PROJECT

    for path in sorted((PROJECT / "docs" / "en").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        original = parse_document(path.stem, (PROJECT / "docs" / f"{path.stem}.md").read_text(encoding="utf-8"))
        assert drift(original, parse_document(path.stem, text)) == CURRENT, path
        assert plain_front_matter(FRONT_MATTER.match(text).group(1)) is not None, path


def test_a_digest_is_recorded_in_empty_front_matter():
    for text in ("---\n---\n# Hi\n\nText.\n", "\ufeff---\r\n---\r\n# Hi\r\n"):
        after = recorded(text, "0123456789abcdef")
        newline = "\r\n" if "\r" in text else "\n"
        assert after == text.replace(f"---{newline}", f"---{newline}translated_from: 0123456789abcdef{newline}", 1)
        assert parse_document("x", after).translated_from == "0123456789abcdef"
