"""Derive the word lists search ships (app/search/data/) from Debian's packages.

Usage: python -m app.search.derive_lexicons [--out app/search/data]  (make lexicons)

- `nb-words.txt` from `hunspell-no` (/usr/share/hunspell/nb_NO.dic, GPL-2): the Bokmål
  words its affix file lets form compounds (flag `COMPOUNDFLAG`, `z`), lower case, letters
  only, three letters or more; what a compound word of the pages may be split into.
- `en-nb.tsv` from `dict-freedict-eng-nor` (/usr/share/dictd/freedict-eng-nor.dict.dz,
  CC BY-SA 3.0): each English headword (lower case, one to three words) and the Norwegian
  words it translates to, tab-separated, `;` between translations.

Run it again when the Debian packages change; the licences are kept beside the files.
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    words = norwegian_words()
    (args.out / "nb-words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    pairs = english_norwegian()
    lines = [f"{english}\t{';'.join(norwegian)}" for english, norwegian in sorted(pairs.items())]
    (args.out / "en-nb.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(words)} Norwegian words, {len(pairs)} English headwords written to {args.out}")


if __name__ == "__main__":
    main()
