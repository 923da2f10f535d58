"""English words on Norwegian pages: a query's English words searched in Norwegian too,
through FreeDict's English-Norwegian dictionary (app/search/lexicon.py).

A word of the query that no page has (in a query that is not Norwegian, one that is no
Bokmål word form even if a page has it), that the dictionary has (as written, without a
plural ending, or as two of its words run together: "firewall" is "fire" + "wall") and that
is no Bokmål word of the lexicon stands for itself and its first translations: "bucket" also finds "bøtte",
"error codes" finds "feilkoder" ("kode" is a part of it), "firewall" finds "brannmur"
(whose parts are "brann" and "mur"). Two words in a row, one of them translated, also
stand for a compound of their translations, or for the dictionary's one word for the two,
that a page has as it is or inflected: "file names" finds "filnavn", "search engine"
"søkemotor" (measured on the outside set: English 36/52 -> 40/64 % top-1/top-3, every
other kind the same).
"""

from __future__ import annotations

from functools import lru_cache

from app.search import lexicon
from app.search.query import BOKMAL_STOPWORDS, ENGLISH_STOPWORDS, Term
from app.search.spelling import compounds

MIN_SPLIT_CHARS = 4  # each half of an English compound ("fire" + "wall"; not "mess" + "age")
# Endings that make an English word of another ("port" + "ability" is no compound).
SUFFIXES = ("ability", "ation", "ness", "ment", "ity", "ship", "hood", "less", "ful", "able", "ible", "ance", "ence")
MIN_TRANSLATION_CHARS = 3
MAX_JOINED = 3  # translations of each of two words tried as a compound's parts
MAX_PHRASES = 8  # a term's phrases: the English word (and the compound it is part of) and translations
# English endings and what the word was without them, in the order tried ("codes" is
# "code", not "cod").
ENDINGS = (("ies", "y"), ("s", ""), ("es", ""), ("ing", "e"), ("ing", ""), ("ed", "e"), ("ed", ""))


def translated(terms: list[Term], knows, has, norwegian_query: bool = False) -> list[Term]:
    """`terms` with their English words also standing for their Norwegian translations: the
    words the pages do not have (`knows`), as an English word on them is found as it is.
    `has`: whether a page has a word itself or inflected (stricter than `knows`), for the
    compounds made of translations. `norwegian_query`: the reader wrote Norwegian
    (written_in_norwegian)."""
    dictionary, norwegian, forms = lexicon.english_norwegian(), lexicon.norwegian(), lexicon.bokmal_forms()
    if not norwegian_query:
        on_pages = knows

        def knows(word: str) -> bool:
            """An English query's words that are no Bokmål words stand for their
            translations even where a page has them ("group" in an English name on one
            page, "gruppe" on the page about it)."""
            return on_pages(word) and (word in forms or not _entry(word, dictionary))

    found: list[Term] = []
    joined = _joined_pairs(terms, dictionary, norwegian, knows, has)
    at = 0
    while at < len(terms):
        term = terms[at]
        start = len(found)
        word = term.word
        if word and _translates(word, norwegian, knows):
            entry = _entry(word, dictionary)
            if entry:
                found.append(Term((*term.phrases, *_phrases(entry))[:MAX_PHRASES]))
            else:
                # In a Norwegian sentence an English word is often a name: split only into
                # a compound the pages have ("bluetooth" is no "blåtann").
                found += _split(word, dictionary, has if norwegian_query else None) or [term]
        else:
            found.append(term)
        if joined.get(at):  # "file names", "search engine": both words stand for "filnavn", "søkemotor" too
            made = tuple((compound,) for compound in joined[at])
            found[start:] = [Term((t.phrases[0], *made, *t.phrases[1:])[:MAX_PHRASES]) for t in found[start:]]
        at += 1
    if any(_entry(t.phrases[0][0], dictionary) for t in terms if len(t.phrases[0]) == 1):
        # A query with English words: its other words of plain letters that no page has
        # ("tips" in "prompt tips", "cfg" in "hva betyr cfg scale") are left out rather than
        # taken for words of another subject. So is "docker" in "hvordan kjører jeg en
        # docker-container", and "festival" in "hvordan bruker jeg festival", which another
        # subject would want kept: measured, keeping the words the dictionary has lost
        # "instantid tips" and "kontakt support" their pages.
        english = [t for t in found if not (t.word and t.word.isascii() and t.word.isalpha() and not knows(t.word))]
        found = english or found
    return found


def _joined_pairs(terms: list[Term], dictionary, norwegian, knows, has) -> dict[int, list[str]]:
    """For two words in a row of which one at least is translated, the compounds of their
    translations (or of themselves, where the pages have them) and the dictionary's one-word
    translations of the two together that the pages have: "file names" is "filnavn", "data
    states" "datatilstander", "search engine" "søkemotor" (`has`: the pages have a word
    itself or inflected). By each word's place in `terms`.

    An entry of two words whose translation no page has, or has only as separate words
    ("language settings" is "språkinnstillinger"; "change password" is "endre passord"),
    leaves each word to its own translations."""
    joined: dict[int, list[str]] = {}
    for at in range(len(terms) - 1):
        first, last = terms[at].word, terms[at + 1].word
        if not first or not last:
            continue
        if _translates(first, norwegian, knows) or _translates(last, norwegian, knows):
            heads, tails = (_compounding(word, dictionary, norwegian, knows) for word in (first, last))
            made = next(compounds(heads, tails, has), None)
            entry = [word for word in _one_word(_entry(f"{first} {last}", dictionary)) if has(word)]
            for compound in dict.fromkeys(filter(None, [made, *entry])):
                joined.setdefault(at, []).append(compound)
                joined.setdefault(at + 1, []).append(compound)
    return joined


def _translates(word: str, norwegian, knows) -> bool:
    """Whether `word` is looked up in the dictionary: no Bokmål word of the lexicon, no
    number, and not on the pages (`knows`)."""
    return word not in norwegian and not word.isdigit() and not knows(word)


def _compounding(word: str, dictionary, norwegian, knows) -> list[str]:
    """What `word` may be as a part of a Norwegian compound: itself where it is not
    translated, and its first translations of one word."""
    own = [] if _translates(word, norwegian, knows) else [word]
    translations = [t for t in _one_word(_entry(word, dictionary)) if len(t) >= MIN_TRANSLATION_CHARS]
    return own + translations[:MAX_JOINED]


def _one_word(translations: tuple[str, ...]) -> list[str]:
    """The translations that are one word."""
    return [t for t in translations if " " not in t]


def _entry(word: str, dictionary: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The dictionary's translations of an English word, also without an ending."""
    for base in (word, *_bases(word)):
        if base in dictionary:
            return dictionary[base]
    return ()


def _bases(word: str) -> list[str]:
    """`word` without each English ending it has."""
    return [
        word[: -len(ending)] + base for ending, base in ENDINGS if word.endswith(ending) and len(word) > len(ending) + 2
    ]


def _split(word: str, dictionary: dict[str, tuple[str, ...]], knows=None) -> list[Term]:
    """Two terms for an English compound of two dictionary words ("firewall"), each with
    the compound itself too (a page may use the English word); none for other words. An
    inflected word is split as its base ("landmarks" as "landmark"). With `knows`, only a
    compound whose parts' translations make a word the pages have ("brann" + "mur")."""
    bases = _bases(word)
    if bases and any(base != word for base in bases):
        return next(filter(None, (_split_base(base, word, dictionary, knows) for base in bases)), [])
    return _split_base(word, word, dictionary, knows)


def _split_base(word: str, typed: str, dictionary: dict[str, tuple[str, ...]], knows) -> list[Term]:
    for cut in range(MIN_SPLIT_CHARS, len(word) - MIN_SPLIT_CHARS + 1):
        head, tail = word[:cut], word[cut:]
        first, last = _entry(head, dictionary), _entry(tail, dictionary)
        if (
            first
            and last
            and not tail.endswith(SUFFIXES)
            and head not in ENGLISH_STOPWORDS  # "withdraw" is no "with" + "draw"
            and (knows is None or next(compounds(_one_word(first), _one_word(last), knows), None))
        ):
            return [
                Term(((head,), (typed,), *_phrases(first))[:MAX_PHRASES]),
                Term(((tail,), (typed,), *_phrases(last))[:MAX_PHRASES]),
            ]
    return []


def _phrases(norwegian: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Translations as phrases, but no word of one or two letters ("ur" for "watch")."""
    return tuple(tuple(t.split()) for t in norwegian if len(t) >= MIN_TRANSLATION_CHARS)


def translatable(word: str) -> bool:
    """Whether the dictionary has `word` (as written or without an ending): an English word,
    not a typo. A word it has only as two of its words run together may be a typo of a
    page's word one edit away ("dripdown" of "dropdown", not "drip" + "down"), and is
    corrected first; it is split when no page's word is that near. Measured on the three
    quality sets and the reviews' and readers' queries: 3 typos found their pages
    ("testarea", "dreamboth"), none lost them. Of 2,309 English words of Debian's
    wamerican list that the dictionary has only so, 10 are "corrected" on the four sets of
    pages ("washboard": "dashboard"; "workflows": "workflow"); within two edits, as other
    words, 94 were ("warehouse": "lakehouse", "checkbook": "checkbox")."""
    return bool(_entry(word, lexicon.english_norwegian()))


def english(word: str) -> bool:
    """Whether the dictionary has `word`, as written, without an ending, or as two of its
    words run together ("darkmode": "dark" + "mode")."""
    return translatable(word) or bool(_split(word, lexicon.english_norwegian()))


# Bokmål function words that are common English words too ("men", "bare", "at").
ENGLISH_TOO = frozenset("at bare den for ha her i man men om over vi eg mi um".split())  # "eg": "e.g."


@lru_cache(maxsize=1)
def _norwegian_function_words() -> frozenset[str]:
    """Bokmål's common function words that are no English words ("hvordan", "jeg"; not "for",
    "men" or "bare")."""
    dictionary = lexicon.english_norwegian()
    return frozenset(word for word in BOKMAL_STOPWORDS - ENGLISH_TOO - ENGLISH_STOPWORDS if word not in dictionary)


def written_in_norwegian(words: list[str]) -> bool:
    """Whether a query's words have a Bokmål function word that is no English word."""
    return not _norwegian_function_words().isdisjoint(words)
