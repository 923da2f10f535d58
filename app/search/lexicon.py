"""Words of the languages beside the pages' own: a Bokmål word list that says what compound
words are made of, and an English-Norwegian dictionary for English words on Norwegian pages.

Each is derived from Debian's packages by app/search/derive_lexicons.py and kept in
app/search/data/ with their licences (README.md there says which and why):

- `nb-words.txt`: the words hunspell-no's Bokmål dictionary lets form compounds;
- `nb-forms.crc32.xz`: every form of every word of that dictionary, as a CRC each;
- `en-nb.tsv`: English headwords of FreeDict's English-Norwegian dictionary and the
  Norwegian words they translate to;
- `en-nb-software.tsv`: the words software shows in English and what the Bokmål
  translations of Debian's programs call them ("settings": "innstillinger"), which a
  general dictionary lacks.

Each is read once per process (the launcher reads them before it forks its workers, so the
workers share them).
"""

from __future__ import annotations

import lzma
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Mapping
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

import Stemmer

DATA = Path(__file__).resolve().parent / "data"
MAX_TRANSLATIONS = 6  # Norwegian words an English word may stand for: the dictionary's first senses


class Lexicon:
    """Words that may be parts of a compound: as written (a part before another is a base
    form: "brann" in "brannmur") and as Snowball stems (the last part may be inflected:
    "kodene" in "feilkodene")."""

    def __init__(self, words: frozenset[str], language: str = "norwegian"):
        self.words = words
        self.stems = frozenset(Stemmer.Stemmer(language).stemWords(sorted(words)))

    def __contains__(self, word: object) -> bool:
        return word in self.words

    def __len__(self) -> int:
        return len(self.words)


@lru_cache(maxsize=1)
def norwegian() -> Lexicon:
    """The Bokmål words that compounds are made of."""
    text = (DATA / "nb-words.txt").read_text(encoding="utf-8")
    return Lexicon(frozenset(text.split()))


class WordForms:
    """A set of words kept as the sorted CRC-32 of their UTF-8 (3.8 MB for 940,000 forms,
    where a set of the words took 70): `word in forms`. Two words of one CRC would make a
    word that is none a form: 1 word in 4,500 of those that are none."""

    def __init__(self, hashes: array):
        self._hashes = hashes

    @classmethod
    def read(cls, path: Path) -> WordForms:
        """From a file of the sorted CRCs as the differences between neighbours (unsigned
        32-bit, little-endian), xz-compressed: read without a Python object per word, which
        left 25 MB of a worker's memory behind when the list was read as words."""
        hashes = array("I", lzma.decompress(path.read_bytes()))
        if sys.byteorder != "little":
            hashes.byteswap()
        total = 0
        for at, difference in enumerate(hashes):  # in place: one buffer, not a second one growing
            total += difference
            hashes[at] = total
        return cls(hashes)

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        key = zlib.crc32(word.encode("utf-8", "surrogatepass"))
        at = bisect_left(self._hashes, key)
        return at < len(self._hashes) and self._hashes[at] == key

    def __len__(self) -> int:
        return len(self._hashes)


@lru_cache(maxsize=1)
def bokmal_forms() -> WordForms:
    """Every form of every Bokmål word of hunspell's dictionary."""
    return WordForms.read(DATA / "nb-forms.crc32.xz")


def is_bokmal(word: str) -> bool:
    """Whether `word` is a word of the Bokmål list or a form of one ("stormaskin",
    "stormaskinen", "oppfølger")."""
    return word in norwegian() or word in bokmal_forms()


class Dictionary(Mapping):
    """English words and phrases and their Norwegian translations, kept as one string of
    sorted lines ("english\tnorsk;norsk") and where each line starts: 2.1 MB of a process,
    where a dict of tuples took 4.1. A lookup is a binary search over the lines (a query
    takes 3.5 % longer than with a dict)."""

    def __init__(self, entries: dict[str, tuple[str, ...]]):
        lines = [f"{english}\t{';'.join(norwegian)}\n" for english, norwegian in sorted(entries.items())]
        self._text = "".join(lines)
        self._starts = array("I", accumulate((len(line) for line in lines[:-1]), initial=0)) if lines else array("I")

    def _english(self, at: int) -> str:
        start = self._starts[at]
        return self._text[start : self._text.index("\t", start)]

    def _find(self, english: str) -> int | None:
        at = bisect_left(range(len(self._starts)), english, key=self._english)
        return at if at < len(self._starts) and self._english(at) == english else None

    def __getitem__(self, english: str) -> tuple[str, ...]:
        at = self._find(english) if isinstance(english, str) and "\n" not in english else None
        if at is None:
            raise KeyError(english)
        start = self._text.index("\t", self._starts[at]) + 1
        return tuple(self._text[start : self._text.index("\n", start)].split(";"))

    def __contains__(self, english: object) -> bool:
        return isinstance(english, str) and "\n" not in english and self._find(english) is not None

    def __iter__(self):
        return (self._english(at) for at in range(len(self._starts)))

    def __len__(self) -> int:
        return len(self._starts)


@lru_cache(maxsize=1)
def english_norwegian() -> Dictionary:
    """English words and phrases (lower case) and the Norwegian words they translate to:
    what software calls them first (a help centre's reader means "file" as in "fil", not
    "arkivere"), then the dictionary's first senses. Measured on the outside set: English
    queries 24 -> 32 % at top-1, 32 -> 44 % at top-3, every other kind the same."""
    found: dict[str, tuple[str, ...]] = {}
    for name in ("en-nb-software.tsv", "en-nb.tsv"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            english, _, norwegian = line.partition("\t")
            if norwegian:
                both = (*found.get(english, ()), *norwegian.split(";"))
                found[english] = tuple(dict.fromkeys(both))[:MAX_TRANSLATIONS]
    return Dictionary(found)
