"""What search forgives in a word: typos, Norwegian letters typed without the keys, the
inflections Snowball's stemmer does not reach, and the parts of compound words.

Everything here works from a vocabulary of words the pages contain, so a correction or a
compound part is always a word some page has.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Container

from rapidfuzz import process
from rapidfuzz.distance import OSA

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
LINKS = ("", "s", "e")


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


def compound_parts(word: str, known: Container[str], depth: int = 2) -> frozenset[str]:
    """The parts of a compound word that are words of their own, Norwegian style:
    "ansiktsgjenkjenning" is "ansikt" + s + "gjenkjenning".

    A split counts when the head (without a linking s or e) is a known word and the tail
    is long enough, or the tail is known and the head long enough; tails split again.
    """
    found: set[str] = set()
    for cut in range(MIN_PART_CHARS, len(word) - MIN_TAIL_CHARS + 1):
        head, tail = word[:cut], word[cut:]
        for link in LINKS:
            if not head.endswith(link):
                continue
            stem = head[: len(head) - len(link)]
            if len(stem) < MIN_PART_CHARS:
                continue
            if stem in known or (tail in known and len(stem) >= MIN_TAIL_CHARS):
                found.update((stem, tail))
                if depth > 1:
                    found.update(compound_parts(tail, known, depth - 1))
    found.discard(word)
    return frozenset(found)


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

    def nearest(self, word: str) -> tuple[str, int] | None:
        """The closest word within `allowed_edits(word)` and its edits (at least 1 for any
        other word, so "kjaeledyr" for "kjæledyr" is one), the most common on a tie."""
        reach = allowed_edits(word)
        if not reach:
            return None
        folded = fold(word)
        best: tuple[int, int, str] | None = None
        for length in range(len(folded) - reach, len(folded) + reach + 1):
            choices = self._folded.get(length)
            if not choices:
                continue
            found = process.extractOne(folded, choices, scorer=OSA.distance, score_cutoff=reach)
            if found is None:
                continue
            _, distance, position = found
            candidate = self._words[length][position]
            if candidate == word:
                continue
            ranked = (max(distance, 1), -self._counts[candidate], candidate)
            if best is None or ranked < best:
                best = ranked
        return (best[2], best[0]) if best else None
