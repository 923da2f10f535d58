"""English words on Norwegian pages: a query's English words searched in Norwegian too,
through FreeDict's English-Norwegian dictionary (app/search/lexicon.py).

A word of the query that no page has, that the dictionary has (as written, without a
plural ending, or as two of its words run together: "firewall" is "fire" + "wall") and that
is no Bokmål word of the lexicon stands for itself and its first translations: "bucket" also finds "bøtte",
"error codes" finds "feilkoder" ("kode" is a part of it), "firewall" finds "brannmur"
(whose parts are "brann" and "mur"). Two words the dictionary has as one entry ("search
engine") are translated together.
"""

from __future__ import annotations

from app.search import lexicon
from app.search.query import Term

MIN_SPLIT_CHARS = 3  # each half of an English compound ("fire" + "wall")
MAX_PHRASES = 8  # a term's phrases: the English word (and the compound it is part of) and translations
PLURALS = (("ies", "y"), ("s", ""), ("es", ""))  # "codes" is "code", not "cod"


def translated(terms: list[Term], knows) -> list[Term]:
    """`terms` with their English words also standing for their Norwegian translations: the
    words the pages do not have (`knows`), as an English word on them is found as it is."""
    dictionary, norwegian = lexicon.english_norwegian(), lexicon.norwegian()
    found: list[Term] = []
    at = 0
    while at < len(terms):
        term = terms[at]
        pair = terms[at + 1].word if at + 1 < len(terms) and term.word else None
        both = _entry(f"{term.word} {pair}", dictionary) if pair and not (knows(term.word) and knows(pair)) else None
        if both:  # "search engine": one entry, one term
            found.append(Term(((term.word, pair), *_phrases(both))[:MAX_PHRASES]))
            at += 2
            continue
        word = term.word
        if word and word not in norwegian and not word.isdigit() and not knows(word):
            entry = _entry(word, dictionary)
            if entry:
                found.append(Term((*term.phrases, *_phrases(entry))[:MAX_PHRASES]))
            else:
                found += _split(word, dictionary) or [term]
        else:
            found.append(term)
        at += 1
    return found


def _entry(word: str, dictionary: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The dictionary's translations of an English word, also without a plural ending."""
    if word in dictionary:
        return dictionary[word]
    for ending, base in PLURALS:
        if word.endswith(ending) and word[: -len(ending)] + base in dictionary:
            return dictionary[word[: -len(ending)] + base]
    return ()


def _split(word: str, dictionary: dict[str, tuple[str, ...]]) -> list[Term]:
    """Two terms for an English compound of two dictionary words ("firewall"), each with
    the compound itself too (a page may use the English word); none for other words."""
    for cut in range(MIN_SPLIT_CHARS, len(word) - MIN_SPLIT_CHARS + 1):
        head, tail = word[:cut], word[cut:]
        first, last = _entry(head, dictionary), _entry(tail, dictionary)
        if first and last:
            return [
                Term(((head,), (word,), *_phrases(first))[:MAX_PHRASES]),
                Term(((tail,), (word,), *_phrases(last))[:MAX_PHRASES]),
            ]
    return []


def _phrases(norwegian: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(translation.split()) for translation in norwegian)


def translatable(word: str) -> bool:
    """Whether the dictionary has `word` (or its parts): an English word, not a typo."""
    dictionary = lexicon.english_norwegian()
    return bool(_entry(word, dictionary) or _split(word, dictionary))
