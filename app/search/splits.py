"""What a word no page has is made of: two words the pages have, written together
("zeroshot": "zero" + "shot", as a page has "zero-shot") or a compound ("statusetikett":
"status" + "etikett", which a page has near each other).

`WordSplits` is a half of `SearchIndex` (app/search/index.py), as `TieredRanking` is: its
methods read the index's vocabulary and FTS5 table.
"""

from __future__ import annotations

from app.search import lexicon
from app.search.query import STOPWORDS
from app.search.spelling import LINKS, base_forms

MIN_COMPOUND_CHARS = 7  # shorter words are not split into parts
# A word written together ("zeroshot") is split into two words of the pages that some page
# has in a row ("zero-shot"): words of this many letters, each part at least MIN_PIECE_CHARS.
MIN_TOGETHER_CHARS = 6
MAX_TOGETHER_CHARS = 40
MIN_PIECE_CHARS = 2
# A compound no page has ("statusetikett") is searched as its two parts, words the pages
# have (of at least this many letters) that some page has within COMPOUND_NEAR_WORDS words
# of each other ("etiketter ... statusen").
MIN_COMPOUND_PART_CHARS = 4
COMPOUND_NEAR_WORDS = 20


class WordSplits:
    """The splits of a SearchIndex: its `_counts`, `_lexicon`, `_stemmer`, `_lock`, `_db`,
    `_has`, `_pages_having` and `near`."""

    def apart(self, word: str) -> tuple[str, str] | None:
        """The two words `word` is written together of, that some page has in a row: "zeroshot"
        for "zero-shot", "ipadapter" for "IP-Adapter", "pullrequests" for "pull requests". Each
        a word the pages write so, the last perhaps inflected, and never a common word ("av"
        + "løsning", "team" + "mene"). Of several splits, the one on most pages. Measured
        with 39,455 typos of the three sets' own words (a letter left out, doubled or two
        swapped): with stems as the pieces 33 were split ("hjelpesdene": "hjelpes dene"), 3
        now ("kodelagre": "kode lagre"). Never a word of the Bokmål list or a form of one."""
        if not (MIN_TOGETHER_CHARS <= len(word) <= MAX_TOGETHER_CHARS and word.isalpha()) or lexicon.is_bokmal(word):
            return None
        with self._lock:  # a Snowball stemmer is not safe to share between threads
            best, most = None, 0
            for cut in range(MIN_PIECE_CHARS, len(word) - MIN_PIECE_CHARS + 1):
                pieces = (word[:cut], word[cut:])
                # Words the pages write so, the last perhaps inflected ("pullrequests",
                # "ipadapters"): a stem is no word ("bildmodellen" is a typo, no "bild modellen").
                if not (self._written(pieces[0]) and any(map(self._written, (pieces[1], *_bases(pieces[1]))))):
                    continue
                # Not self.stem(): what readers type must not grow its memo.
                head, tail = self._stemmer.stemWords(list(pieces))
                if head in STOPWORDS or tail in STOPWORDS:
                    continue
                pages = self._db.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM fts WHERE fts MATCH ? LIMIT ?)", (f'"{head} {tail}"', most + 1)
                ).fetchone()[0]
                if pages > most:
                    best, most = pieces, pages
            return best

    def compound(self, word: str) -> tuple[str, str] | None:
        """The two parts of a compound no page has, as words the pages have near each other:
        "statusetikett" is "status" + "etikett" (a page has "etiketter" and "statusen" in one
        sentence), "standardikonet" "standard" + "ikonet", "kattebilde" "katte" + "bilde".
        The first part as the pages write it, the last perhaps inflected, or a word of the
        Bokmål list in any form; neither a common word. Never a word of the Bokmål list or a
        form of one ("stormaskin" and "stormaskinen" are no "stor maskin", "varemerke" no
        "vare merke", "telefonsvarer" no "telefon svarer"). Of several splits, the one whose
        rarer part is on most pages.

        Measured on the three quality sets and the reviews' and readers' queries: 5
        answerable queries found their page ("kattebilde", "releasenotes datadoc"), none lost
        it, and no more of the 750 Bokmål words no page has found a page; of a review's 224
        queries on four sets of pages, 23 more found their page ("statusetikett",
        "kodelisteversjon", "passordbytte") and 6 compounds that mean something else found
        pages ("skjermsparer", "bøttehatt", "tekstmelding"). Without the nearness and the
        list, 12 of the Bokmål words did ("kraftverk": "kraft" + "verk"), and "lønnsslipp"
        and "skjermleser i dapla lab" found pages; without the forms of the list, "stormaskinen",
        "telefonsvarer" and 5 more; within 12 words instead of 20, 3 answerable queries fewer
        found their page ("statusetikett")."""
        if not (MIN_COMPOUND_CHARS <= len(word) <= MAX_TOGETHER_CHARS and word.isalpha()):
            return None
        if self._lexicon is None or lexicon.is_bokmal(word):
            return None
        best, most = None, 0
        with self._lock:  # a Snowball stemmer is not safe to share between threads
            for cut in range(MIN_COMPOUND_PART_CHARS, len(word) - MIN_COMPOUND_PART_CHARS + 1):
                head, tail = word[:cut], word[cut:]
                for link in LINKS:  # "forslagslista" is "forslag" + s + "lista"
                    part = head[: len(head) - len(link)]
                    if not head.endswith(link) or len(part) < MIN_COMPOUND_PART_CHARS:
                        continue
                    if part in STOPWORDS or tail in STOPWORDS:
                        continue
                    pages = min(self._part_pages(part, last=False), self._part_pages(tail, last=True))
                    if pages > most:
                        best, most = (part, tail), pages
        if best is None or not self.near(*best, words=COMPOUND_NEAR_WORDS):
            return None
        return best

    def _part_pages(self, part: str, last: bool) -> int:
        """How many pages have a compound's `part` as written (the `last` part perhaps
        inflected), or, for a word of the Bokmål list, in any form (pages with "etiketter"
        and "etiketten" have the "etikett" of "statusetikett")."""
        written = [self._counts[w] for w in (part, *(_bases(part) if last else ())) if w in self._counts]
        if written:
            return max(written)
        if part in self._lexicon.words:
            return self._pages_having(self._stemmer.stemWord(part))
        return 0

    def _written(self, piece: str) -> bool:
        """Whether a page has `piece` as it is written: a word of three letters or more of
        the pages' vocabulary, or a word of two that is indexed ("ip"), no common word."""
        if piece in STOPWORDS:
            return False
        return piece in self._counts if len(piece) > 2 else self._has(piece)


def _bases(word: str) -> list[str]:
    """`word` without each inflectional ending it has, Norwegian or an English plural's "s"."""
    return [*base_forms(word), word[:-1]] if word.endswith("s") else base_forms(word)
