"""Derive the word lists search ships (app/search/data/) from Debian's packages.

Usage: python -m app.search.derive_lexicons [--out app/search/data] [--software]  (make lexicons)

- `nb-words.txt` from `hunspell-no` (/usr/share/hunspell/nb_NO.dic, GPL-2): the Bokmål
  words its affix file lets form compounds (flag `COMPOUNDFLAG`, `z`), lower case, letters
  only, three letters or more; what a compound word of the pages may be split into.
- `en-nb.tsv` from `dict-freedict-eng-nor` (/usr/share/dictd/freedict-eng-nor.dict.dz,
  CC BY-SA 3.0): each English headword (lower case, one to three words) and the Norwegian
  words it translates to, tab-separated, `;` between translations.
- `nb-forms.crc32.xz` from `hunspell-no` too, by hunspell-tools' `unmunch`: every form of
  every word of the Bokmål dictionary (939,933 in lower case), as the CRC-32 of each
  (form_hashes); what keeps a Bokmål word of an English query from being translated.
- with `--software`, `en-nb-software.tsv` from the Bokmål translations (gettext catalogs) of
  the programs of SOFTWARE_PACKAGES, which `apt-get download` fetches (nothing is
  installed): the words software shows ("Settings", "Download", "Error") and what its
  Norwegian version calls them, without the English words that are Bokmål word forms too
  (hunspell-tools' `unmunch` lists them); `en-nb-software.sources` names each package's
  version.

Run it again when the Debian packages change; the licences are kept beside the files.
"""

from __future__ import annotations

import argparse
import array
import collections
import gzip
import lzma
import re
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Container, Iterable
from pathlib import Path

from app.search.query import STOPWORDS

HUNSPELL = Path("/usr/share/hunspell/nb_NO.dic")
HUNSPELL_AFFIX = Path("/usr/share/hunspell/nb_NO.aff")
FREEDICT = Path("/usr/share/dictd/freedict-eng-nor.dict.dz")
OUT = Path(__file__).resolve().parent / "data"
LETTERS = re.compile(r"[a-zæøåéèêóòôü]+")


def compound_flag(affix: Path = HUNSPELL_AFFIX) -> str:
    """The flag hunspell's affix file gives the words that may form compounds."""
    for line in affix.read_text(encoding="latin-1").splitlines():
        if line.startswith("COMPOUNDFLAG"):
            return line.split()[1]
    raise ValueError(f"{affix} names no COMPOUNDFLAG")


def norwegian_words(dic: Path = HUNSPELL, flag: str | None = None) -> list[str]:
    """The words of hunspell's Bokmål dictionary that carry the compound flag."""
    flag = flag or compound_flag()
    words = set()
    for line in dic.read_text(encoding="latin-1").splitlines()[1:]:
        word, _, flags = line.partition("/")
        word = word.strip()
        if flag in flags and word.islower() and len(word) >= 3 and LETTERS.fullmatch(word):
            words.add(word)
    return sorted(words)


# FreeDict's index: each headword, and where its entry is in the text (base-64 numbers).
FREEDICT_INDEX = Path("/usr/share/dictd/freedict-eng-nor.index")
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# An entry: `word /ipa/ <pos>`, then for each sense a line of translations (numbered:
# `1. tilstand`, `bøtte, spann 2.`, or ` 3.` when the sense has none) and a line of gloss.
_NUMBER = re.compile(r"^\s*\d+\.\s*|\s*\d+\.\s*$")


def _number(text: str) -> int:
    value = 0
    for char in text:
        value = value * 64 + _BASE64.index(char)
    return value


def english_norwegian(path: Path = FREEDICT, index: Path = FREEDICT_INDEX) -> dict[str, list[str]]:
    """English headwords (one to three words) and their Norwegian translations, in order."""
    with gzip.open(path) as file:
        data = file.read()
    found: dict[str, list[str]] = {}
    for line in index.read_text(encoding="utf-8").splitlines():
        english, start, length = line.split("\t")
        english = english.lower()
        if not re.fullmatch(r"[a-z][a-z'-]*(?: [a-z][a-z'-]*){0,2}", english):
            continue
        entry = data[_number(start) : _number(start) + _number(length)].decode("utf-8").splitlines()
        if not entry or "<suffix>" in entry[0] or "<prefix>" in entry[0]:
            continue
        for translations in entry[1::2]:
            for word in _NUMBER.sub("", _NUMBER.sub("", translations)).split(","):
                word = word.strip().lower()
                if word and re.fullmatch(r"[a-zæøå][a-zæøå -]*", word) and len(word.split()) <= 3:
                    found.setdefault(english, [])
                    if word not in found[english]:
                        found[english].append(word)
    return found


# The programs whose Bokmål catalogs say what software's words are in Norwegian: the GNU
# tools, Debian's package tools, GTK and GLib and their neighbours (GPL-2.0-or-later,
# GPL-3.0-or-later, LGPL-2.1-or-later and permissive licences; the list they make is under
# GPL-3.0-or-later). Measured: GNOME's control centre, file manager, shell, online accounts
# and network applet added no English query answered and made a no-answer query find pages
# (their "sender" is the Norwegian verb too); LibreOffice's catalogs, three of them.
SOFTWARE_PACKAGES = (
    "adduser appstream apt at-spi2-common bash coreutils diffutils dpkg findutils gettext gettext-base gnupg-l10n grep "
    "gsettings-desktop-schemas libapt-pkg6.0 libc-l10n libgdk-pixbuf2.0-common libglib2.0-data libgstreamer1.0-0 "
    "libgtk-3-common libgtk2.0-common libpam-runtime login man-db packagekit psmisc python-apt-common sed "
    "shared-mime-info software-properties-common tar wget xdg-user-dirs xkb-data "
    "libreoffice-l10n-nb"  # the office programs' words: "message", "reference", "catalog", "account"
).split()
# Where a package keeps its Bokmål catalogs (LibreOffice keeps its own beside the program).
CATALOGS = ("usr/share/locale/nb/LC_MESSAGES/*.mo", "usr/lib/libreoffice/program/resource/nb/LC_MESSAGES/*.mo")
_ENGLISH = re.compile(r"[a-z][a-z-]*(?: [a-z][a-z-]*){0,2}")
_BOKMAL = re.compile(r"[a-zæøå][a-zæøå-]*(?: [a-zæøå][a-zæøå-]*){0,2}")


_MAGIC = {b"\xde\x12\x04\x95": "<", b"\x95\x04\x12\xde": ">"}
MIN_CHARS = 3  # an English term and each of its translations: "r" -> "h", "qq" -> "aa" are keys


def catalog(path: Path) -> list[tuple[str, str]]:
    """A compiled gettext catalog (.mo): each message (its singular, without its context) and
    its translation, decoded by the catalog's own charset (some are ISO-8859-1, which
    Python's gettext cannot read when the header itself is not UTF-8). A message in several
    contexts is there once for each. What is no catalog, or is cut short, raises ValueError."""
    data = path.read_bytes()
    order = _MAGIC.get(data[:4])
    if order is None or len(data) < 20:
        raise ValueError(f"{path}: not a gettext catalog")
    revision, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    if revision >> 16 > 1:
        raise ValueError(f"{path}: gettext catalog revision {revision >> 16}, not 0 or 1")
    if max(originals, translations) + 8 * count > len(data):
        raise ValueError(f"{path}: cut short")

    def string(table: int, i: int) -> bytes:
        length, offset = struct.unpack(order + "2I", data[table + 8 * i : table + 8 * i + 8])
        if offset + length > len(data):
            raise ValueError(f"{path}: cut short")
        return data[offset : offset + length]

    pairs = [(string(originals, i), string(translations, i)) for i in range(count)]
    header = dict(pairs).get(b"", b"")
    charset = re.search(rb"charset=([\w-]+)", header)
    encoding = charset.group(1).decode("ascii") if charset else "utf-8"
    return [
        (
            original.split(b"\x00")[0].split(b"\x04")[-1].decode(encoding, "replace"),
            translated.split(b"\x00")[0].decode(encoding, "replace"),
        )
        for original, translated in pairs
        if original and translated
    ]


def _term(text: str) -> str:
    """A message as a term: its mnemonic marks (`_File`, `&Open`) and closing `:`, `.` or
    `…` gone, lower case."""
    return re.sub(r"[_&]", "", text).strip().rstrip(":.…").strip().lower()


def bokmal_forms(dic: Path = HUNSPELL, affix: Path = HUNSPELL_AFFIX) -> frozenset[str]:
    """Every form of every word of hunspell's Bokmål dictionary, in lower case (939,933, by
    hunspell-tools' `unmunch`; compounds hunspell would also accept are not among them)."""
    done = subprocess.run(["unmunch", str(dic), str(affix)], capture_output=True, check=True)
    return frozenset(done.stdout.decode("latin-1").lower().split())


def form_hashes(forms: Iterable[str]) -> bytes:
    """The CRC-32 of each form's UTF-8, sorted, as the differences between neighbours
    (unsigned 32-bit, little-endian), xz-compressed: 1.7 MB, where the words take 1.9 MB
    compressed and 70 MB of memory as a set; app/search/lexicon.py reads it (WordForms)."""
    hashes = sorted({zlib.crc32(form.encode()) for form in forms})
    differences = array.array("I", (b - a for a, b in zip([0, *hashes[:-1]], hashes, strict=True)))
    if sys.byteorder != "little":
        differences.byteswap()
    return lzma.compress(differences.tobytes())


def software_terms(catalogs: Iterable[Path], norwegian: Container[str] = frozenset()) -> dict[str, list[str]]:
    """English messages of one to three words and their Bokmål translations, the one most
    programs give first, then the one most catalogs give (a catalog gives each pair one vote,
    however often it has it; LibreOffice's catalogs are one program's; a tie in the
    alphabet's order).
    Left out: an English word that is also a Bokmål word form (`norwegian`: "timer",
    "sender", "log"), which a Norwegian query would otherwise have translated, a common
    word ("at", "the"), terms or translations under MIN_CHARS letters, and short forms, both
    of MIN_CHARS ("sat": "lør", "wed": "ons")."""
    votes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    programs: dict[tuple[str, str], set[Path]] = collections.defaultdict(set)
    for path in catalogs:
        pairs = {(_term(message), _term(translated)) for message, translated in catalog(path)}
        for english, translated in pairs:
            if (
                english != translated
                and _ENGLISH.fullmatch(english)
                and _BOKMAL.fullmatch(translated)
                and len(english) >= MIN_CHARS
                and len(translated) >= MIN_CHARS
                and max(len(english), len(translated)) > MIN_CHARS  # "Sat", "Lør": a calendar's short forms
                and english not in STOPWORDS
                and (" " in english or english not in norwegian)
            ):
                votes[english][translated] += 1
                programs[english, translated].add(_program(path))

    def order(english: str, translated: str) -> tuple:
        """Most programs first, then most catalogs; a tie goes to the word first in the
        alphabet: the same list from the same catalogs in every run (the pairs of a catalog
        are a set, read in an order Python's hashing picks)."""
        return -len(programs[english, translated]), -votes[english][translated], translated

    return {english: sorted(counted, key=lambda word: order(english, word)) for english, counted in votes.items()}


def _program(catalog: Path) -> Path:
    """The program a catalog is of. LibreOffice has a catalog for each of its 33 parts, all
    in one folder: as one program's they do not outvote the rest ("clear" is "fjern" to
    most of them, "tøm" to GTK, GLib and coreutils); other programs have one each."""
    return catalog.parent if "libreoffice" in catalog.parts else catalog


def downloaded(packages: Iterable[str], into: Path) -> tuple[list[Path], list[str]]:
    """The Bokmål catalogs of `packages` (fetched by `apt-get download` into `into` and
    unpacked there), and each package as `name version`."""
    packages = list(packages)
    subprocess.run(["apt-get", "download", "-q", *packages], cwd=into, check=True, capture_output=True)
    versions = []
    for deb in sorted(into.glob("*.deb")):
        fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version"], capture_output=True, text=True)
        versions.append(" ".join(line.split(": ", 1)[1] for line in fields.stdout.splitlines()))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(into / "tree")], check=True)
    return sorted(path for pattern in CATALOGS for path in (into / "tree").glob(pattern)), versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--software", action="store_true", help="also en-nb-software.tsv (downloads packages)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    words = norwegian_words()
    (args.out / "nb-words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    pairs = english_norwegian()
    lines = [f"{english}\t{';'.join(norwegian)}" for english, norwegian in sorted(pairs.items())]
    (args.out / "en-nb.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    forms = bokmal_forms()
    (args.out / "nb-forms.crc32.xz").write_bytes(form_hashes(forms))
    print(
        f"{len(words)} Norwegian words, {len(forms)} Bokmål forms, {len(pairs)} English headwords written to {args.out}"
    )
    if args.software:
        with tempfile.TemporaryDirectory() as folder:
            catalogs, versions = downloaded(SOFTWARE_PACKAGES, Path(folder))
            terms = software_terms(catalogs, forms)
        lines = [f"{english}\t{';'.join(norwegian)}" for english, norwegian in sorted(terms.items())]
        (args.out / "en-nb-software.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (args.out / "en-nb-software.sources").write_text("\n".join(versions) + "\n", encoding="utf-8")
        print(f"{len(terms)} English terms of software from {len(catalogs)} catalogs of {len(versions)} packages")


if __name__ == "__main__":
    main()
