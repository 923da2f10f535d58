"""A language's search index: an in-memory SQLite FTS5 index of its DocumentStore, with the
pages' vocabulary (stems, compounds and their parts, word counts for corrections), brought
up to date before each search. Its ranking half is app/search/ranking.py; what a word no
page has is made of, app/search/splits.py."""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from array import array
from bisect import bisect_left
from collections import Counter

import Stemmer

from app.content.page import Page
from app.content.sections import Section, sections
from app.content.store import DocumentStore
from app.search import lexicon
from app.search.bm25 import weighted_length
from app.search.keys import NO_PARTS, Indexed
from app.search.passages import packed, unpacked
from app.search.query import STOPWORDS, WORD
from app.search.ranking import PART, TieredRanking
from app.search.spelling import Corrector, base_forms, compound_parts
from app.search.splits import MIN_COMPOUND_CHARS, WordSplits
from app.search.translation import translatable

# Stems remembered from indexing; past this many the memo starts over.
MAX_REMEMBERED_STEMS = 200_000
MAX_REMEMBERED_PARTS = 100_000
MAX_REMEMBERED_FORMS = 4_096  # query words' forms, forgotten when the pages change
MIN_TAIL_CHARS = 4  # a query word found as the end of a compound: at least this long,
MIN_HEAD_CHARS = 3  # after at least this much of the compound
MAX_TAIL_MATCHES = 20  # compounds a query word may match by their end
NEAR_WORDS = 3  # words apart two words of a query may stand on a page to be "near"
MAX_NEAR_FORMS = 4


def english_only(word: str) -> bool:
    """Whether `word` is English and no Bokmål word or form of one. Its Norwegian base forms
    found what it does not mean: "delete" (of the synonyms "slette: [delete]") found pages on
    sharing ("dele"), "forest" and "desert" pages with "fore" and "dese..". Measured on 2,737
    English words of the dictionary that end as Norwegian words do, each alone: of the ones
    that found pages on our own 6, the in-house 101 and the Dapla pages, 2, 10 and 28 find
    none now ("admit", "maltese", "shout"), and 1, 4 and 17 others find other pages; every
    kind of both quality sets the same (bench/outside.py)."""
    return translatable(word) and not lexicon.is_bokmal(word)


class SearchIndex(TieredRanking, WordSplits):
    """An in-memory FTS5 index of a DocumentStore, brought up to date before each search."""

    def __init__(self, store: DocumentStore, language: str = "norwegian"):
        self.store = store
        self.language = language
        self._stemmer = Stemmer.Stemmer(language)
        # Compounds are split with a word list of the language where there is one (Bokmål).
        self._lexicon = lexicon.norwegian() if language == "norwegian" else None
        self._stems: dict[str, str] = {}
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        # Pages the index frees (merging its segments frees a sixth) are given back at once.
        self._db.execute("PRAGMA auto_vacuum = FULL")
        # Contentless: the index keeps no copy of what it was given (11 of its 24 MB at
        # 10,000 pages). Removing a page takes the same values again: `pages.indexed` keeps
        # them, compressed to a fifth.
        # A compound's parts follow the words of its column, marked (PART): "brannmur" in a
        # title makes "brannmur ǀbrann ǀmur" there, so its parts weigh as its column does.
        self._db.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(title, headings, body, content = '', "
            "tokenize = 'unicode61 remove_diacritics 0')"
        )
        # Titles and headings again, alone: the title and headings tiers read their short
        # lists of pages here instead of filtering the whole index's long ones by column.
        self._db.execute(
            "CREATE VIRTUAL TABLE keys USING fts5(title, headings, tokenize = 'unicode61 remove_diacritics 0')"
        )
        self._db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(fts, row)")
        self._db.execute(
            "CREATE TABLE pages (id INTEGER PRIMARY KEY, slug TEXT UNIQUE, title TEXT, sections BLOB, indexed BLOB)"
        )
        # One search or update at a time: an update renumbers rows a search is reading.
        self._lock = threading.RLock()
        self._indexed: dict[str, Indexed] = {}
        self._slugs: dict[int, str] = {}  # id -> slug
        self._counts: Counter[str] = Counter()  # word -> pages that have it
        self._parts: dict[str, frozenset[str]] = {}  # word -> stems of its parts (a memo)
        self._forms_of: dict[str, tuple[list[str], list[str]]] = {}  # query word -> _forms (a memo)
        self._terms: list[str] = []  # every indexed stem, sorted
        self._pages_with = array("I")  # and how many pages have each
        self._reversed: list[str] = []  # and each spelled backwards, sorted: to find compounds by their end
        self._corrector: Corrector | None = None
        self.generation = -1
        self._next_id = 1
        self._lengths = 0  # every page's weighted_length, added up: their average is BM25's

    # Indexing

    def stem(self, words: list[str]) -> list[str]:
        """Stems of lower-case words of the pages, each distinct word stemmed once (bounded memo)."""
        stems = self._stems
        missing = set(words).difference(stems)
        if missing:
            if len(stems) + len(missing) > MAX_REMEMBERED_STEMS:
                stems.clear()
                missing = set(words)
            missing = list(missing)
            stems.update(zip(missing, self._stemmer.stemWords(missing), strict=True))
        return list(map(stems.__getitem__, words))

    def update(self) -> None:
        """Index pages added or changed since the last call, and drop removed ones."""
        if self.store.current_generation() == self.generation:
            return
        with self._lock, self._db:
            generation = self.store.generation
            current = {page.slug: page for page in self.store.pages()}
            for slug in [s for s in self._indexed if s not in current]:
                self._delete(slug)
            self._parts.clear()  # compounds split again with the words of the pages as they are now
            for slug, page in current.items():
                known = self._indexed.get(slug)
                if known is None or known.version != page.version:
                    if known:
                        self._delete(slug)
                    # One page at a time, to keep memory flat: a compound is split with the
                    # words of the pages indexed so far and its own.
                    self._insert(_Prepared(page))
            # Merged into one b-tree each: a word's pages are then one list instead of one
            # per segment the inserts left. 40-85 ms at 10,000 pages; queries' p95 -13 %.
            self._db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
            self._db.execute("INSERT INTO keys (keys) VALUES ('optimize')")
            vocabulary = self._db.execute("SELECT term, doc FROM terms ORDER BY term").fetchall()
            self._terms = [term for term, _ in vocabulary]
            self._pages_with = array("I", [pages for _, pages in vocabulary])
            self._reversed = sorted(term[::-1] for term in self._terms if not term.startswith(PART))
            self._corrector = None
            self._forms_of.clear()
            self.generation = generation

    def _insert(self, prepared: _Prepared) -> None:
        page, parts = prepared.page, prepared.sections
        self._counts.update(prepared.distinct)
        row = self._next_id
        self._next_id += 1
        title, headings, body = columns = tuple(
            " ".join([*self.stem(words), *(PART + part for part in self._parts_of(words))]) for words in prepared.words
        )
        self._db.execute("INSERT INTO fts (rowid, title, headings, body) VALUES (?, ?, ?, ?)", (row, *columns))
        self._lengths += weighted_length(columns)
        self._db.execute("INSERT INTO keys (rowid, title, headings) VALUES (?, ?, ?)", (row, title, headings))
        self._db.execute(
            "INSERT INTO pages (id, slug, title, sections, indexed) VALUES (?, ?, ?, ?, ?)",
            (row, page.slug, page.title, packed(parts), zlib.compress(json.dumps(columns).encode())),
        )
        title_words = WORD.findall(page.title.lower())
        heading_words = [WORD.findall(section.heading.lower()) for section in parts if section.heading]
        title_parts = frozenset(self._parts_of([*title_words, *(w for words in heading_words for w in words)]))
        self._indexed[page.slug] = Indexed(
            page.version,
            row,
            self._key_stems(title_words),
            tuple(self._key_stems(words) for words in heading_words),
            title_parts - STOPWORDS or NO_PARTS,
        )
        self._slugs[row] = page.slug

    def _parts_of(self, words: list[str]) -> list[str]:
        """The stems of the parts of the compounds among `words`, each once."""
        return list(
            dict.fromkeys(
                part
                for word in dict.fromkeys(words)
                if len(word) >= MIN_COMPOUND_CHARS
                for part in self._compound_stems(word)
            )
        )

    def _compound_stems(self, word: str) -> frozenset[str]:
        """The stems of the parts of a compound word (none for other words)."""
        found = self._parts.get(word)
        if found is None:
            if len(self._parts) > MAX_REMEMBERED_PARTS:
                self._parts.clear()
            own = self.stem([word])[0]
            parts = (
                compound_parts(word, self._counts, lexicon=self._lexicon, stem=self._stemmer.stemWord)
                if len(word) >= MIN_COMPOUND_CHARS and word.isalpha()
                else ()
            )
            found = self._parts[word] = frozenset(self.stem(list(parts))) - {own}
        return found

    def _key_stems(self, words: list[str]) -> frozenset:
        """The stems of a title's or heading's words, without common words, to compare with a
        query's. The common words are left out before stemming, as a query's are: stemmed
        first, "mange" stayed as "mang", and "Hvordan laste mange tabeller" was never a title
        that is the query."""
        return frozenset(self.stem([word for word in words if word not in STOPWORDS]))

    def _delete(self, slug: str) -> None:
        row = self._indexed.pop(slug).row
        del self._slugs[row]
        title, stored, indexed = self._db.execute(
            "SELECT title, sections, indexed FROM pages WHERE id = ?", (row,)
        ).fetchone()
        for word in _Prepared.distinct_words(title, unpacked(stored)):
            self._counts[word] -= 1
            if self._counts[word] <= 0:
                del self._counts[word]
        columns = json.loads(zlib.decompress(indexed))
        self._lengths -= weighted_length(columns)
        self._db.execute(
            "INSERT INTO fts (fts, rowid, title, headings, body) VALUES ('delete', ?, ?, ?, ?)", (row, *columns)
        )
        self._db.execute("DELETE FROM keys WHERE rowid = ?", (row,))
        self._db.execute("DELETE FROM pages WHERE id = ?", (row,))

    # What a query's words are here

    def knows(self, word: str) -> bool:
        """Whether some page has `word`, a form of it, a compound of it or one it ends (a word
        it merely starts is none of these: "power" in "powershell")."""
        with self._lock:  # a Snowball stemmer is not safe to share between threads
            forms, compounds = self._forms(word)
            return bool(compounds) or any(self._found_by(form) or self._found_by(form, True) for form in forms)

    def has(self, word: str) -> bool:
        """Whether some page has `word` itself or inflected (its stem), alone or as a part of a
        compound: stricter than `knows`, for words the search makes up ("filnavn" of "file
        names"; "storenese" of "big nose" is no "stor")."""
        with self._lock:
            stem = self._stemmer.stemWord(word)
            return self._has(stem) or self._has(PART + stem)

    def _forms(self, word: str) -> tuple[list[str], list[str]]:
        """What `word` stands for here: the stems of it and of its base forms ("skarpt" is
        also "skarp", "adapterne" "adapter") that some indexed word starts with, and the
        indexed compounds it ends ("skjema" ends "tilbakemeldingsskjema").

        A search asks this of each word several times (is it known, its expression, its
        marks): remembered until the pages change, in a memo of its own that starts over
        when full, so what readers type never grows the index's other memos."""
        found = self._forms_of.get(word)
        if found is None:
            if len(self._forms_of) >= MAX_REMEMBERED_FORMS:
                self._forms_of.clear()
            found = self._forms_of[word] = self._find_forms(word)
        return found

    def _find_forms(self, word: str) -> tuple[list[str], list[str]]:
        # An English word is not cut by Norwegian endings ("delete" is no "dele" + "te").
        bases = [] if self.language == "norwegian" and english_only(word) else base_forms(word)
        # Not remembered: what readers type must not grow the memo.
        candidates = dict.fromkeys([*self._stemmer.stemWords([word, *bases]), word, *bases])
        forms, covered = [], []
        for form in candidates:
            first, end = self._starting_with(form)
            # A form counts if it finds words the ones before it do not ("skarp" beside "skarpt").
            if first < end and not any(a <= first and end <= b for a, b in covered):
                forms.append(form)
                covered.append((first, end))
            elif first == end and self._has(PART + form):  # only ever a part of compounds
                forms.append(form)
        compounds = dict.fromkeys(c for form in candidates for c in self._ending_with(form))
        return forms, list(compounds)[:MAX_TAIL_MATCHES]

    def _word(self, word: str) -> tuple[list[str], list[str]]:
        """The stems and compounds `word` is searched as (its own stem when no page has any)."""
        forms, compounds = self._forms(word)
        return forms or [self._stemmer.stemWord(word)], compounds

    def _has(self, term: str) -> bool:
        return bool(self._pages_having(term))

    def _pages_having(self, term: str) -> int:
        """How many pages have the indexed stem `term` (0 when none does)."""
        at = bisect_left(self._terms, term)
        return self._pages_with[at] if at < len(self._terms) and self._terms[at] == term else 0

    def _starting_with(self, prefix: str) -> tuple[int, int]:
        """The range of indexed stems that start with `prefix`."""
        return bisect_left(self._terms, prefix), bisect_left(self._terms, prefix + "\U0010ffff")

    def _ending_with(self, stem: str, limit: int = MAX_TAIL_MATCHES) -> list[str]:
        """Indexed stems that end with `stem` after at least MIN_HEAD_CHARS letters: the
        compounds it is the last part of ("buffer" in "hurtigbuffer"), at most `limit`."""
        if len(stem) < MIN_TAIL_CHARS:
            return []
        tail = stem[::-1]
        found = []
        at = bisect_left(self._reversed, tail)
        while at < len(self._reversed) and self._reversed[at].startswith(tail) and len(found) < limit:
            if len(self._reversed[at]) >= len(stem) + MIN_HEAD_CHARS:
                found.append(self._reversed[at][::-1])
            at += 1
        return found

    def near(self, word: str, other: str, words: int = NEAR_WORDS) -> bool:
        """Whether some page has `word` (a word of the pages) within `words` words of
        `other`, a form of it ("hurtigbufferen" for "hurtigbuffer") or a compound it ends
        ("hurtigbuffer" for "buffer")."""
        if not (word.isalnum() and other.isalnum()):
            return False
        with self._lock:
            first = self._stemmer.stemWord(word)
            forms, compounds = self._word(other)
            near = [f'"{form}"*' for form in forms[:MAX_NEAR_FORMS] if form.isalnum()]
            near += [f'"{compound}"' for compound in compounds[:MAX_NEAR_FORMS] if compound.isalnum()]
            if not near or not first.isalnum():
                return False
            expression = " OR ".join(f'NEAR("{first}" {term}, {words})' for term in near)
            return self._db.execute("SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1", (expression,)).fetchone() is not None

    def nearest(self, word: str) -> tuple[str, int, int] | None:
        """The word of these pages closest to `word`, its edits and how many pages have it."""
        with self._lock:
            if self._corrector is None:
                self._corrector = Corrector(dict(self._counts))
            found = self._corrector.nearest(word)
            return (found[0], found[1], self._counts[found[0]]) if found else None


class _Prepared:
    """A page read for the index: its sections, the words of its title, headings and body
    (lower case, in order; the body after the description) and the distinct words of three
    letters or more of its title and sections (the vocabulary corrections come from)."""

    def __init__(self, page: Page):
        self.page = page
        self.sections = sections(page.body)
        body = "\n".join(s.text for s in self.sections)
        title, headings, body = self.words = tuple(
            WORD.findall(text.lower()) for text in (page.title, " ".join(s.heading for s in self.sections), body)
        )
        self.distinct = _distinct(set().union(*self.words))
        # The description the authors wrote (front matter) is indexed with the body: it says
        # what the page is about in other words. One taken from the first paragraph is there.
        described = WORD.findall(page.description.lower())
        if described and described != body[: len(described)]:
            self.words = (title, headings, described + body)

    @staticmethod
    def distinct_words(title: str, parts: list[Section]) -> set[str]:
        """What `distinct` was for a page indexed with this title and these sections."""
        return _distinct(WORD.findall(" ".join([title, *(f"{s.heading} {s.text}" for s in parts)]).lower()))


def _distinct(words) -> set[str]:
    """The distinct words of three letters or more (a page's vocabulary)."""
    return {w for w in set(words) if len(w) >= 3 and w.isalpha()}
