"""What search forgives in a word: typos, Norwegian letters typed without the keys, the
inflections Snowball's stemmer does not reach, and the parts of compound words.

Everything here works from a vocabulary of words the pages contain, so a correction or a
compound part is always a word some page has.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Container

from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.search.lexicon import Lexicon
from app.search.query import Term

# æ, ø and å as readers type them on a keyboard without them ("kjaeledyr", "mork").
FOLDED = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o"})
MIN_CORRECTED_CHARS = 5  # shorter words are too easily another word to correct
TWO_EDITS_FROM = 9  # letters from which a word may be two edits away, as Meilisearch allows
# Endings Norwegian nouns and adjectives take that the Snowball stemmer leaves on some words
# ("adapterne", "nettleserne", "skarpt"), longest first: a word that no page has may be a
# form of one that some page has.
ENDINGS = ("erne", "ene", "ane", "ne", "en", "et", "er", "a", "e", "t")
MIN_BASE_CHARS = 4
# A compound's parts: at least this long; a part before another may end with a linking s or e.
MIN_PART_CHARS = 4  # shorter words ("til", "bak") begin too many words that are no compounds
MIN_TAIL_CHARS = 4
# With the lexicon, a part may be as short as a word of it ("fil" in "filsystem", "mur" in
# "brannmur"), but never an ending that makes words of words ("sikker" + "het").
MIN_HEAD_CHARS = 3
MIN_LAST_CHARS = 3
SUFFIXES = frozenset(
    "het heten lig lige dom skap ing ingen ning else sjon sjonen ende ere erer ert bar somt som".split()
)
LINKS = ("", "s", "e")
# Prepositions that join two words the way a compound does, the last word first ("kopi for
# sikkerhet" is "sikkerhetskopi", "lagring av posisjon" "posisjonslagring"). Not "på", "i",
# "til", "med": a review found "bilder på skjerm" made "skjermbilder" (screenshots), "tilgang
# til data" "datatilgang", a heading of a narrower page.
PREPOSITIONS = frozenset(("av", "for"))


def fold(word: str) -> str:
    """A lower-case word as it could be typed without Norwegian letters or accents."""
    word = word.translate(FOLDED)
    if word.isascii():
        return word
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode() or word


def allowed_edits(word: str) -> int:
    """How many edits away a correction of `word` may be: none under 5 letters, one up to 8, then two."""
    if len(word) < MIN_CORRECTED_CHARS or not word.isalpha():
        return 0
    return 1 if len(word) < TWO_EDITS_FROM else 2


def base_forms(word: str) -> list[str]:
    """`word` without each inflectional ending it has, longest ending first."""
    return [
        word[: -len(ending)]
        for ending in ENDINGS
        if word.endswith(ending) and len(word) - len(ending) >= MIN_BASE_CHARS
    ]


def compound_parts(
    word: str, known: Container[str], depth: int = 2, lexicon: Lexicon | None = None, stem=None
) -> frozenset[str]:
    """The parts of a compound word that are words of their own, Norwegian style:
    "ansiktsgjenkjenning" is "ansikt" + s + "gjenkjenning", "brannmur" "brann" + "mur".

    Words are `known` (the pages' words) or of the `lexicon` (a Bokmål word list: a part
    before another as written, the last part also inflected, compared by `stem`). A split
    counts when the head (without a linking s or e) is a word and the tail is a word or
    long enough, or when the tail is a word of the lexicon and the head long enough
    ("nedtrekks" + "liste"); both parts split again (a head without its linking letter). A
    word that is itself an inflection of a lexicon word ("tjenesten") is not split.
    """
    if lexicon is not None and stem is not None and stem(word) in lexicon.stems:
        return frozenset()
    found: set[str] = set()
    for cut in range(MIN_HEAD_CHARS, len(word) - MIN_LAST_CHARS + 1):
        head, tail = word[:cut], word[cut:]
        for link in LINKS:
            if not head.endswith(link):
                continue
            part = head[: len(head) - len(link)]
            if len(part) < MIN_HEAD_CHARS:
                continue
            if _is_part(part, tail, known, lexicon, stem):
                found.update((part, tail))
                if depth > 1:
                    # Either part may be a compound itself ("strømsparing" + s + "modus"); a head
                    # is split without its linking letter ("sikkerhet", which is "sikker" and an
                    # ending; never "sikker" + "hets").
                    if link or not part.endswith(LINKS[1:]):
                        found.update(compound_parts(part, known, depth - 1, lexicon, stem))
                    found.update(compound_parts(tail, known, depth - 1, lexicon, stem))
    found.discard(word)
    return frozenset(found)


def _is_part(head: str, tail: str, known: Container[str], lexicon: Lexicon | None, stem) -> bool:
    """Whether `head` + `tail` is a split of a compound (see compound_parts)."""
    if lexicon is None:  # the pages' words alone
        if len(head) < MIN_PART_CHARS or len(tail) < MIN_TAIL_CHARS:
            return False
        return head in known or tail in known
    if tail in SUFFIXES:
        return False
    head_is_word = (head in lexicon.words and len(head) >= MIN_HEAD_CHARS) or (
        head in known and len(head) >= MIN_PART_CHARS
    )
    if len(tail) < MIN_TAIL_CHARS:  # a short last part only as a word of the lexicon ("mur")
        return head_is_word and tail in lexicon.words
    tail_is_word = (
        tail in lexicon.words
        or tail in known
        or stem(tail) in lexicon.stems
        or any(base in lexicon.words for base in base_forms(tail))  # "bufferen": "buffer"
    )
    if head_is_word:
        return tail_is_word
    return tail in lexicon.words and len(head) >= MIN_PART_CHARS


class Corrector:
    """Nearest words of a vocabulary, by optimal string alignment distance (insertions,
    deletions, substitutions and transpositions) between folded forms.

    The words are grouped by folded length, most common first, so a lookup compares a
    word only with words it could be within reach of; rapidfuzz does the comparing in C.
    """

    def __init__(self, counts: dict[str, int]):
        by_length: dict[int, list[tuple[int, str]]] = {}
        for word, count in counts.items():
            if len(word) >= MIN_CORRECTED_CHARS - 1 and word.isalpha():
                by_length.setdefault(len(fold(word)), []).append((-count, word))
        self._words: dict[int, list[str]] = {}
        self._folded: dict[int, list[str]] = {}
        self._counts = counts
        for length, entries in by_length.items():
            entries.sort()
            self._words[length] = [word for _, word in entries]
            self._folded[length] = [fold(word) for word in self._words[length]]
        # Words too short for a correction, by their folded form when that differs: the
        # most common first ("mork" is "mørk").
        self._short: dict[str, str] = {}
        for length in range(MIN_CORRECTED_CHARS):
            for word, folded in zip(self._words.get(length, ()), self._folded.get(length, ()), strict=True):
                if folded != word and len(word) < MIN_CORRECTED_CHARS:
                    self._short.setdefault(folded, word)

    def nearest(self, word: str) -> tuple[str, int] | None:
        """The closest word within `allowed_edits(word)` and its edits (at least 1 for any
        other word, so "kjaeledyr" for "kjæledyr" is one), the most common on a tie."""
        reach = allowed_edits(word)
        if not reach:
            # A short word typed without Norwegian letters ("mork", "oyne") is no typo of
            # another word but the same word on a keyboard without them: one edit, said.
            same = self._short.get(word) if word.isascii() else None
            return (same, 1) if same else None
        folded = fold(word)
        # Folded, "æ" is two letters: one typed where none belongs ("støætter") is two edits
        # from "støtter" folded, one as typed. Those words are compared as typed too; on a
        # tie, the word nearer folded wins ("fæiler" is "feiler", not "filer").
        spelled = word.count("æ")
        best: tuple[int, int, int, str] | None = None
        for length in range(len(folded) - reach - spelled, len(folded) + reach + 1):
            choices = self._folded.get(length)
            if not choices:
                continue
            if spelled:
                found = process.extract(folded, choices, scorer=OSA.distance, score_cutoff=reach + spelled, limit=None)
            else:
                found = [process.extractOne(folded, choices, scorer=OSA.distance, score_cutoff=reach)]
            for _, distance, position in filter(None, found):
                candidate = self._words[length][position]
                typed = min(distance, OSA.distance(word, candidate)) if spelled else distance
                if candidate == word or typed > reach:
                    continue
                ranked = (max(typed, 1), distance, -self._counts[candidate], candidate)
                if best is None or ranked < best:
                    best = ranked
        return (best[3], best[0]) if best else None


def compounds(heads: list[str], tails: list[str], has):
    """The compounds of a head and a tail, with a linking s or e or none, that the pages have."""
    return (head + link + tail for head in heads for tail in tails for link in LINKS if has(head + link + tail))


def written_apart(terms: list[Term], words: list[str], has) -> list[Term]:
    """`terms` with two of the query's words (`words`, as typed) that the pages write as one
    compound (`has`), with a linking s or e or none, both standing for the compound too:

    - two words in a row, in the order typed: "visning navn" also finds "visningsnavn",
      "identity net" "identitynet" (a compound written apart is a common slip in Norwegian,
      and a reader who names a compound's parts means the page with the compound more than
      pages with both words in passing); in a query of two words in either order ("kopi
      sikkerhet" is "sikkerhetskopi", "logge inn" "innlogge", a prefix of "innlogging");
    - two words with "av" or "for" between, the last first: "kopi for sikkerhet" is
      "sikkerhetskopi", "variabler for miljø" "miljøvariabler", "lagring av posisjon"
      "posisjonslagring" (Norwegian says a compound so; see PREPOSITIONS).

    Other pairs of a longer query are left apart: they stand in a sentence, and joined
    backwards they made other words ("hold inne knappen" made "inneholde", "grunnen bak
    skjevheter" "bakgrunnen", a review found). Measured on both quality sets: compound parts
    80/90 -> 93/98 % at top-1/top-3 outside, 92/95 -> 98/98 % in-house; one inflection query
    of 80 ("delt-bøtta") lost its page from the top 3. Some joined words still mean something
    else ("rette opp" is no "opprette"): the two words are searched too, and a page with them
    both stays a match."""
    place = {term.word: at for at, term in enumerate(terms) if term.word and term.word.isalpha()}
    pairs = []
    for at, (word, after) in enumerate(itertools.pairwise(words)):
        if word in place and after in place:
            pairs += [(word, after), (after, word)] if len(terms) == 2 else [(word, after)]
        if after in PREPOSITIONS and at + 2 < len(words) and word in place and words[at + 2] in place:
            pairs.append((words[at + 2], word))
    found = list(terms)
    for head, tail in pairs:
        compound = next(compounds([head], [tail], has), None) if head != tail else None
        if compound:
            for word in (head, tail):
                found[place[word]] = Term((*found[place[word]].phrases, (compound,)))
    return found
