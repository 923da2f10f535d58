"""Search's word lists (app/search/data/) are what `make lexicons` makes from Debian's
packages: nobody edits them by hand, and the licences beside them stay true. hunspell-no,
hunspell-tools and dict-freedict-eng-nor are installed by `make test` (system-packages) and .ci/run, and
their lists are made again here; the software terms come from some 30 packages' catalogs,
whose versions move with Debian's updates, so here their derivation is held to catalogs
made by the test."""

from __future__ import annotations

import lzma
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from app.search import derive_lexicons, lexicon

DATA = Path(lexicon.__file__).parent / "data"


def test_the_shipped_word_lists_are_what_the_debian_packages_make(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "app.search.derive_lexicons", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "11757 Norwegian words, 939933 Bokmål forms" in done.stdout
    for name in ("nb-words.txt", "en-nb.tsv"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
    made, shipped = (lzma.decompress((folder / "nb-forms.crc32.xz").read_bytes()) for folder in (tmp_path, DATA))
    assert made == shipped


def test_bokmal_forms_know_every_form_and_nothing_else():
    forms = lexicon.bokmal_forms()
    assert len(forms) == 939_831  # 939,933 forms; 102 share a CRC with another
    assert all(word in forms for word in ("staten", "statene", "skriveren", "bildene", "boka"))
    assert not any(word in forms for word in ("stata", "states", "bucketen", "", 42))


def test_each_word_list_keeps_its_sources_licence_beside_it():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "GNU GENERAL PUBLIC LICENSE" in (DATA / "LICENSE-GPL-2.txt").read_text(encoding="utf-8")
    assert "Attribution-ShareAlike 3.0" in (DATA / "LICENSE-CC-BY-SA-3.0.txt").read_text(encoding="utf-8")
    assert "LICENSE-GPL-2.txt" in readme and "LICENSE-CC-BY-SA-3.0.txt" in readme


def compiled(messages: dict[bytes, bytes], charset: str = "UTF-8", order: str = "<") -> bytes:
    """A gettext catalog (.mo) of `messages`, as msgfmt writes one (`order`: "<" little-,
    ">" big-endian)."""
    header = f"Content-Type: text/plain; charset={charset}\n".encode()
    pairs = sorted({b"": header, **messages}.items())
    count, start = len(pairs), 28 + 16 * len(pairs)
    data, tables = b"", [[], []]
    for side in (0, 1):
        for pair in pairs:
            tables[side].append((len(pair[side]), start + len(data)))
            data += pair[side] + b"\x00"
    head = struct.pack(order + "7I", 0x950412DE, 0, count, 28, 28 + 8 * count, 0, 0)
    return head + b"".join(struct.pack(order + "2I", *entry) for side in tables for entry in side) + data


def test_software_terms_are_short_messages_and_their_translations_most_catalogs_give_first(tmp_path):
    (tmp_path / "b.mo").write_bytes(
        compiled(
            {
                b"_Folder": b"_Mappe",  # mnemonics and
                b"Settings:": b"Innstillinger:",  # a closing colon left out
                b"menu\x04Open": b"\xc3\x85pne",  # a context
                b"File\x00Files": b"Fil\x00Filer",  # a plural: its singular
                b"OK": b"OK",  # the same in both
                b"Could not open the file": b"Kunne ikke \xc3\xa5pne fila",  # a sentence
                b"%d items": b"%d elementer",  # a format
                b"Timer": b"Tidtaker",  # a Bokm\xc3\xa5l word form ("timer": hours)
                b"At": b"Ved",  # a common word
                b"R": b"H",  # a key
                b"Sat": b"L\xc3\xb8r",  # a calendar's short forms
                b"Add": b"Legg til",  # a short word, said in full
                b"Quit": b"Avslutt",  # one vote each (a.mo says «Slutt»): the alphabet decides
            }
        )
    )
    # Read first, and three ways, but one catalog's vote: "katalog" loses to two catalogs' "mappe".
    (tmp_path / "a.mo").write_bytes(
        compiled({b"Folder": b"Katalog", b"_Folder": b"_Katalog", b"Folder:": b"Katalog", b"Quit": b"Slutt"})
    )
    (tmp_path / "c.mo").write_bytes(
        compiled({b"Folder": b"Mappe", b"Trash": b"S\xf8ppel", b"Home": b"Hjem"}, "ISO-8859-1", order=">")
    )
    terms = derive_lexicons.software_terms(sorted(tmp_path.glob("*.mo")), norwegian={"timer", "tid"})
    assert terms == {
        "folder": ["mappe", "katalog"],
        "settings": ["innstillinger"],
        "open": ["åpne"],
        "file": ["fil"],
        "trash": ["søppel"],
        "home": ["hjem"],
        "add": ["legg til"],
        "quit": ["avslutt", "slutt"],
    }


def test_libreoffices_catalogs_vote_as_one_program(tmp_path):
    # Three of LibreOffice's parts say "fjern", GTK and coreutils "tøm": two programs to one.
    office = tmp_path / "usr/lib/libreoffice/program/resource/nb/LC_MESSAGES"
    office.mkdir(parents=True)
    for part in ("sc", "sd", "sw"):
        (office / f"{part}.mo").write_bytes(compiled({b"Clear": b"Fjern", b"Reference": b"Referanse"}))
    for name in ("gtk30", "coreutils"):
        (tmp_path / f"{name}.mo").write_bytes(compiled({b"Clear": b"T\xc3\xb8m"}))
    catalogs = sorted(tmp_path.rglob("*.mo"))
    assert derive_lexicons.software_terms(catalogs) == {"clear": ["tøm", "fjern"], "reference": ["referanse"]}
    # Between programs in a tie, the catalogs decide: LibreOffice's three against one.
    (tmp_path / "coreutils.mo").unlink()
    assert derive_lexicons.software_terms(sorted(tmp_path.rglob("*.mo")))["clear"] == ["fjern", "tøm"]


def test_a_message_in_two_contexts_is_read_twice(tmp_path):
    (tmp_path / "keys.mo").write_bytes(compiled({b"keyboard label\x04Home": b"Home", b"places\x04Home": b"Hjem"}))
    assert sorted(derive_lexicons.catalog(tmp_path / "keys.mo")) == [("Home", "Hjem"), ("Home", "Home")]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"not a catalog at all",
        lambda data: data[:4] + struct.pack("<I", 2 << 16) + data[8:],  # a revision gettext does not read
        lambda data: data[: len(data) - 20],  # cut short
    ],
    ids=["no catalog", "revision 2", "cut short"],
)
def test_what_is_no_whole_catalog_is_refused(tmp_path, damage):
    (tmp_path / "bad.mo").write_bytes(damage(compiled({b"Folder": b"Mappe", b"Settings": b"Innstillinger"})))
    with pytest.raises(ValueError):
        derive_lexicons.catalog(tmp_path / "bad.mo")


def test_english_words_stand_for_what_software_calls_them_first_then_the_dictionarys_senses():
    dictionary = lexicon.english_norwegian()
    assert dictionary["settings"][0] == "innstillinger" and dictionary["error"][0] == "feil"
    # Both sources have them, with other first senses: software's comes first.
    assert dictionary["date"][0] == "dato" and "daddel" in dictionary["date"]
    assert dictionary["lock"][0] == "lås" and "sluse" in dictionary["lock"]
    assert all(len(words) <= lexicon.MAX_TRANSLATIONS for words in dictionary.values())
    software = dict(line.split("\t") for line in (DATA / "en-nb-software.tsv").read_text(encoding="utf-8").splitlines())
    assert not {"timer", "sender", "log", "filler", "time", "at"} & set(software)  # Bokmål words, a common one
    packages = (DATA / "en-nb-software.sources").read_text(encoding="utf-8").split("\n")
    assert {line.split()[0] for line in packages if line} == set(derive_lexicons.SOFTWARE_PACKAGES)


def test_the_dictionary_answers_as_the_dict_it_was_made_from():
    entries = {"file": ("fil", "arkivere"), "firewall": ("brannmur",), "a b": ("c",), "zebra": ("sebra",)}
    dictionary = lexicon.Dictionary(entries)
    assert dict(dictionary) == entries and len(dictionary) == 4
    assert dictionary["firewall"] == ("brannmur",) and dictionary.get("files") is None
    # What a reader types is looked up, never read as part of the store: no line, tab or other type.
    for key in ("", "fil", "file\tfil", "file\nfirewall", "zzz", 42, None):
        assert key not in dictionary and dictionary.get(key) is None
    assert lexicon.Dictionary({}).get("file") is None and len(lexicon.Dictionary({})) == 0
