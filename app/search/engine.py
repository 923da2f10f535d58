"""Full-text search over the help pages that forgives what readers type.

Each language's pages have an in-memory SQLite FTS5 index. Words are stemmed by us
(PyStemmer, Snowball) before they reach FTS5, so "bildene", "bilder" and "bilde" all index
and query as "bild". A query then forgives, in this order:

- inflections the stemmer misses: a word no page has may be a form of one that some page
  has ("adapterne" is searched as "adapter");
- synonyms the authors keep in `docs/_synonyms.yml`, both ways;
- compound words: each page's compounds are split at index time into parts that are words
  of their own ("ansiktsgjenkjenning" into "ansikt" and "gjenkjenning"), in a column of
  their own that ranks below whole words;
- typos: a word no page has, of 5 to 8 letters, is corrected to the most common word
  within one edit, longer words within two ("ansikst" is "ansikt"). The reader is told
  ("Mente du …?") and can search for what they typed instead;
- language: a search that finds little in the reader's language also searches the others.

Ranking: a title that is the query, a title with every term, a heading that is the query,
a heading with every term; then pages matching in their title, in headings, anywhere,
only by a compound's part; within each, BM25 with title, headings, body and parts weighted
10:4:1:0.5. When no page has every term of a query of 3 or 4 terms, pages with all but one.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import zlib
from bisect import bisect_left
from collections import Counter, OrderedDict
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

import Stemmer
from flask import Flask, current_app

from app.content.page import Page
from app.content.sections import Section, sections
from app.content.store import DocumentStore
from app.languages import LANGUAGES
from app.search.spelling import Corrector, base_forms, compound_parts
from app.search.synonyms import SynonymFile, Synonyms

WORD = re.compile(r"\w+")
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
# A prefix expands to every indexed word that starts with it: only this many words of a
# query, each of at least MIN_PREFIX_CHARS, match by prefix ("ansikt" finds "ansiktstrekk");
# the others match whole words. This bounds a query's work whatever the reader types.
MAX_PREFIX_TERMS = 4
MIN_PREFIX_CHARS = 3
MAX_SYNONYMS = 6  # phrases a query word may stand for, itself included
MAX_CORRECTIONS = 3  # words of one query that may be corrected
# Stems remembered from indexing; past this many the memo starts over.
MAX_REMEMBERED_STEMS = 200_000
MAX_REMEMBERED_PARTS = 100_000
MAX_REMEMBERED_FORMS = 4_096  # query words' forms, forgotten when the pages change
MAX_CACHED_RESULTS = 1_000
FEW_RESULTS = 3  # fewer in the reader's language: the other languages are searched too
# Matches ranked and counted at most in a tier: "1000 treff" means as many or more.
MAX_RANKED = 1_000
SPARE_FROM = 3  # terms a query needs before a page may lack one of them,
SPARE_UP_TO = 4  # and may have at most: the expression repeats each term n - 1 times
WEIGHTS = (10.0, 4.0, 1.0, 0.5)  # title, headings, body, compound parts
# Where a whole-word match counts, best first: the title, the title or a heading, anywhere.
# Each is a table and a column filter. The table of titles and headings alone makes the
# first two cheap, and needs no filter for the second (one made it 30 % slower). Compound
# parts are indexed with a mark of their own, so a whole word never matches a part: the
# widest tiers need no column filter, which made them three times slower.
TIERS = (("keys", "{title} : "), ("keys", ""), ("fts", ""))
PART = "ǀ"  # U+01C0, a letter to FTS5: "ǀgjenkjenn" is the part "gjenkjenn" of a compound
CANDIDATES = 50
# A prefix query merges every matching word's list of pages before the first match, in each
# statement again; the same words spelled out with OR are read lazily, and a statement that
# stops at MAX_RANKED matches reads only what it needs. In titles and headings too: their
# tiers took 0.4-2.0 ms with prefix queries, 0.1-1.3 ms with the words spelled out.
MAX_SPELLED_OUT = 16
MIN_COMPOUND_CHARS = 7  # shorter words are not split into parts
MIN_TAIL_CHARS = 4  # a query word found as the end of a compound: at least this long,
MIN_HEAD_CHARS = 3  # after at least this much of the compound
MAX_TAIL_MATCHES = 20  # compounds a query word may match by their end
# Words too common to narrow a search (Bokmål's and English's most common function words);
# left out of a query that has others.
STOPWORDS = frozenset("""
    og i jeg det at en et ei den til er som på de med han av ikke der så var meg seg men ett har
    om vi min mitt mine ha hadde hun nå over da ved fra du ut sin sitt sine dem oss man kan hans
    hvor eller hva skal selv her alle vil bli ble blitt kunne når være vært noen noe ville dere
    deres kun ja etter skulle denne dette disse for deg si mot å meget hvorfor hvordan ingen din
    ditt dine blir samme hvilken hvilke hvilket hvem hver hvis både bare enn fordi før mange også
    slik må bør burde får få gjør gjøre finnes fins hos
    the a an of is are was be what how why when where which who do does can i my me to in on for
    and or it with there any if not
""".split())


@dataclass(frozen=True)
class Hit:
    """One search result: the page, its language, the section that matched best and a
    passage of it, split into (text, highlighted) runs."""

    page: Page
    lang: str
    section: Section | None
    passage: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Results:
    """What a search found: the best hits, how many pages match in all, and the query
    searched instead of the reader's when a word of theirs was corrected."""

    query: str
    hits: tuple[Hit, ...] = ()
    total: int = 0
    corrected: str = ""

    @property
    def counted_all(self) -> bool:
        """False when counting stopped at MAX_RANKED: at least `total` pages match."""
        return self.total < MAX_RANKED


class Term(NamedTuple):
    """A word or phrase of a query: its phrases, as typed first, then its synonyms."""

    phrases: tuple[tuple[str, ...], ...]

    @property
    def word(self) -> str | None:
        """The word typed, when the term is one word with no synonyms."""
        return self.phrases[0][0] if len(self.phrases) == 1 and len(self.phrases[0]) == 1 else None


class Indexed(NamedTuple):
    """What the index keeps of a page beside FTS5: its version and row, and the stems of its
    title and of each heading (a query matching them exactly ranks first)."""

    version: str
    row: int
    title: frozenset[str]
    headings: tuple[frozenset[str], ...]


def match_rank(wanted: frozenset[str], page: Indexed) -> int:
    """How well a query's stems match a page's title and headings, best first: the title is
    the query, has every term; a heading is the query, has every term; none of these."""
    if page.title == wanted:
        return 0
    if wanted <= page.title:
        return 1
    if wanted in page.headings:
        return 2
    if any(wanted <= heading for heading in page.headings):
        return 3
    return 4


def query_words(query: str) -> list[str]:
    """The words of a query, lower case, as far as MAX_QUERY_CHARS and MAX_TERMS reach."""
    return [w for w in WORD.findall(query[:MAX_QUERY_CHARS].lower()) if len(w) > 1 or w.isdigit()][:MAX_TERMS]


class SearchIndex:
    """An in-memory FTS5 index of a DocumentStore, brought up to date before each search."""

    def __init__(self, store: DocumentStore, language: str = "norwegian"):
        self.store = store
        self._stemmer = Stemmer.Stemmer(language)
        self._stems: dict[str, str] = {}
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        # Pages the index frees (merging its segments frees a sixth) are given back at once.
        self._db.execute("PRAGMA auto_vacuum = FULL")
        # Contentless: the index keeps no copy of what it was given (11 of its 24 MB at
        # 10,000 pages). Removing a page takes the same values again: `pages.indexed` keeps
        # them, compressed to a fifth.
        self._db.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(title, headings, body, parts, content = '', "
            "tokenize = 'unicode61 remove_diacritics 0')")
        # Titles and headings again, alone: the title and headings tiers read their short
        # lists of pages here instead of filtering the whole index's long ones by column.
        self._db.execute("CREATE VIRTUAL TABLE keys USING fts5(title, headings, "
                         "tokenize = 'unicode61 remove_diacritics 0')")
        self._db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(fts, row)")
        self._db.execute("CREATE TABLE pages (id INTEGER PRIMARY KEY, slug TEXT UNIQUE, title TEXT, sections BLOB, "
                         "indexed BLOB)")
        # One search or update at a time: an update renumbers rows a search is reading.
        self._lock = threading.RLock()
        self._indexed: dict[str, Indexed] = {}
        self._slugs: dict[int, str] = {}  # id -> slug
        self._counts: Counter[str] = Counter()  # word -> pages that have it
        self._parts: dict[str, frozenset[str]] = {}  # word -> stems of its parts (a memo)
        self._forms_of: dict[str, tuple[list[str], list[str]]] = {}  # query word -> _forms (a memo)
        self._terms: list[str] = []  # every indexed stem, sorted
        self._reversed: list[str] = []  # and each spelled backwards, sorted: to find compounds by their end
        self._corrector: Corrector | None = None
        self.generation = -1
        self._next_id = 1

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
            self._terms = [term for (term,) in self._db.execute("SELECT term FROM terms ORDER BY term")]
            self._reversed = sorted(term[::-1] for term in self._terms if not term.startswith(PART))
            self._corrector = None
            self._forms_of.clear()
            self.generation = generation

    def _insert(self, prepared: _Prepared) -> None:
        page, parts = prepared.page, prepared.sections
        self._counts.update(prepared.distinct)
        row = self._next_id
        self._next_id += 1
        compounds = " ".join(PART + stem for word in prepared.distinct if len(word) >= MIN_COMPOUND_CHARS
                             for stem in self._compound_stems(word))
        title, headings, body = (" ".join(self.stem(words)) for words in prepared.words)
        columns = (title, headings, body, compounds)
        self._db.execute("INSERT INTO fts (rowid, title, headings, body, parts) VALUES (?, ?, ?, ?, ?)",
                         (row, *columns))
        self._db.execute("INSERT INTO keys (rowid, title, headings) VALUES (?, ?, ?)", (row, title, headings))
        self._db.execute("INSERT INTO pages (id, slug, title, sections, indexed) VALUES (?, ?, ?, ?, ?)",
                         (row, page.slug, page.title, _packed(parts), zlib.compress(json.dumps(columns).encode())))
        title_stems = self._key_stems(page.title)
        heading_stems = tuple(self._key_stems(section.heading) for section in parts if section.heading)
        self._indexed[page.slug] = Indexed(page.version, row, title_stems, heading_stems)
        self._slugs[row] = page.slug

    def _compound_stems(self, word: str) -> frozenset[str]:
        """The stems of the parts of a compound word the pages use (none for other words)."""
        found = self._parts.get(word)
        if found is None:
            if len(self._parts) > MAX_REMEMBERED_PARTS:
                self._parts.clear()
            own = self.stem([word])[0]
            parts = compound_parts(word, self._counts) if len(word) >= MIN_COMPOUND_CHARS and word.isalpha() else ()
            found = self._parts[word] = frozenset(self.stem(list(parts))) - {own}
        return found

    def _key_stems(self, text: str) -> frozenset:
        """The stems of a title or heading, without common words, to compare with a query's."""
        return frozenset(self.stem(WORD.findall(text.lower()))) - STOPWORDS

    def _delete(self, slug: str) -> None:
        row = self._indexed.pop(slug).row
        del self._slugs[row]
        title, stored, indexed = self._db.execute(
            "SELECT title, sections, indexed FROM pages WHERE id = ?", (row,)).fetchone()
        for word in _Prepared.distinct_words(title, _unpacked(stored)):
            self._counts[word] -= 1
            if self._counts[word] <= 0:
                del self._counts[word]
        self._db.execute("INSERT INTO fts (fts, rowid, title, headings, body, parts) VALUES ('delete', ?, ?, ?, ?, ?)",
                         (row, *json.loads(zlib.decompress(indexed))))
        self._db.execute("DELETE FROM keys WHERE rowid = ?", (row,))
        self._db.execute("DELETE FROM pages WHERE id = ?", (row,))

    # What a query's words are here

    def knows(self, word: str) -> bool:
        """Whether some page has `word`, a form of it, or a word that starts or ends with it."""
        with self._lock:  # a Snowball stemmer is not safe to share between threads
            return any(self._forms(word))

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
        bases = base_forms(word)
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
        at = bisect_left(self._terms, term)
        return at < len(self._terms) and self._terms[at] == term

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

    def nearest(self, word: str) -> tuple[str, int, int] | None:
        """The word of these pages closest to `word`, its edits and how many pages have it."""
        with self._lock:
            if self._corrector is None:
                self._corrector = Corrector(dict(self._counts))
            found = self._corrector.nearest(word)
            return (found[0], found[1], self._counts[found[0]]) if found else None

    def _expressions(self, terms: list[Term]) -> tuple[list[str], list[str]]:
        """FTS5 expressions of each term: in whole words (the words a prefix matches spelled
        out), and in whole words or as a compound's part.

        A word stands for its forms' stems, each matched as a prefix while MAX_PREFIX_TERMS
        allow (the longest first); a phrase for its words' stems in a row.
        """
        words = [[self._word(phrase[0]) for phrase in term.phrases if len(phrase) == 1] for term in terms]
        phrases = [[self._stemmer.stemWords(list(phrase)) for phrase in term.phrases if len(phrase) > 1]
                   for term in terms]
        firsts = {stems[0] for term in words for stems, _ in term}
        long_enough = sorted((s for s in firsts if len(s) >= MIN_PREFIX_CHARS), key=len, reverse=True)
        prefixed = set(long_enough[:MAX_PREFIX_TERMS])
        # A word's stems match by prefix if its first one does (and each is long enough itself).
        prefixes = {stem for term in words for stems, _ in term if stems[0] in prefixed
                    for stem in stems if len(stem) >= MIN_PREFIX_CHARS}
        whole, with_parts = [], []
        for term_words, term_phrases in zip(words, phrases, strict=True):
            stems = list(dict.fromkeys(stem for stems, _ in term_words for stem in stems))
            compounds = list(dict.fromkeys(compound for _, found in term_words for compound in found))
            listed = [word for stem in stems for word in self._prefixed(stem, stem in prefixes)]
            listed += [f'"{" ".join(phrase)}"' for phrase in term_phrases]
            parts = [f'"{PART}{stem}"' for stem in stems] + [f'"{compound}"' for compound in compounds]
            whole.append(f"({' OR '.join(dict.fromkeys(listed))})")
            with_parts.append(f"({' OR '.join(dict.fromkeys(listed + parts))})")
        return whole, with_parts

    def _prefixed(self, stem: str, prefix: bool) -> list[str]:
        """A stem as FTS5 terms: itself, or (matched as a prefix) the indexed stems it starts,
        spelled out while they are at most MAX_SPELLED_OUT, else the prefix query."""
        if not prefix:
            return [f'"{stem}"']
        first, end = self._starting_with(stem)
        if end - first > MAX_SPELLED_OUT:
            return [f'"{stem}"*']
        return [f'"{term}"' for term in self._terms[first:end]] or [f'"{stem}"']

    # Searching

    def search(self, terms: list[Term], limit: int = 10, forgiving: bool = True) -> tuple[list[Hit], int]:
        """The best pages for `terms` and how many match: pages with every term, else
        (when `forgiving` and there are SPARE_FROM to SPARE_UP_TO terms) pages with all but one;
        not `forgiving`, only pages with every term in their title or a heading.
        Call `update()` first (Search.find does)."""
        with self._lock:
            whole, with_parts = self._expressions(terms)
            if not forgiving:  # only pages whose title or a heading has every term
                found, total = self._candidates(None, f"{{title headings}} : ({' AND '.join(whole)})", limit)
            else:
                found, total = self._candidates(" AND ".join(whole), " AND ".join(with_parts), limit)
                if not found and SPARE_FROM <= len(terms) <= SPARE_UP_TO:
                    spare_one = " OR ".join(f"({' AND '.join(with_parts[:i] + with_parts[i + 1:])})"
                                            for i in range(len(terms)))
                    found, total = self._candidates(None, spare_one, limit)
            if not found:
                return [], 0
            wanted = frozenset(self._word(term.word)[0][0] for term in terms if term.word)

            def rank(row):
                return (match_rank(wanted, self._indexed[self._slugs[row]]), *found[row])

            best = sorted(found, key=rank)[:limit]
            stored = dict(self._db.execute(
                f"SELECT id, sections FROM pages WHERE id IN ({','.join('?' * len(best))})", best).fetchall())
            hits, patterns = [], self._matcher(terms)
            for row in best:
                page = self.store.known(self._slugs[row])  # as indexed: update() just caught up
                if page is not None:
                    section, passage = _passage(_unpacked(stored[row]), patterns)
                    hits.append(Hit(page, "", section, passage))
            return hits, total

    def _counted(self, expression: str, table: str = "fts") -> tuple[int, int | None]:
        """How many rows match, as far as MAX_RANKED, and the last of the first MAX_RANKED
        (None when fewer match): what a tier's ranking is bounded by."""
        count, last = self._db.execute(
            f"SELECT count(*), max(rowid) FROM (SELECT rowid FROM {table} WHERE {table} MATCH ? "
            "ORDER BY rowid LIMIT ?)", (expression, MAX_RANKED)).fetchone()
        return count, last if count >= MAX_RANKED else None

    def _ranked(self, expression: str, last: int | None, table: str = "fts") -> list[tuple[int, float]]:
        weights = WEIGHTS if table == "fts" else WEIGHTS[:2]
        return self._db.execute(
            f"SELECT rowid, bm25({table}, {', '.join('?' * len(weights))}) FROM {table} "
            f"WHERE {table} MATCH ? AND rowid <= ? ORDER BY 2 LIMIT ?",
            (*weights, expression, self._next_id if last is None else last, CANDIDATES)).fetchall()

    def _candidates(self, whole: str | None, widest: str, limit: int) -> tuple[dict[int, tuple[int, float]], int]:
        """Matching rows with (tier, BM25 score), and how many rows match (as far as
        MAX_RANKED): title matches, then headings, then anywhere (whole words), then by a
        compound's part.

        Wider tiers are only searched while fewer than `limit` pages were found, so a word
        that appears on most pages is ranked among the pages that have it in their title
        instead of among all of them. A tier ranks at most its first MAX_RANKED matches (in
        the index's order): ranking every page of 10,000 that has three common words took
        20 ms, and such a query narrows nothing anyway. The whole-word matches are counted
        first: the narrower tiers are among them, so when they are fewer than MAX_RANKED,
        no tier needs a bound of its own (finding one walks the matches again).
        """
        found: dict[int, tuple[int, float]] = {}
        total, last = self._counted(whole) if whole else (0, None)
        if total:
            for tier, (table, columns) in enumerate(TIERS):
                expression = f"{columns}({whole})"
                bound = last if table == "fts" else (self._counted(expression, table)[1] if last else None)
                for row, score in self._ranked(expression, bound, table):
                    found.setdefault(row, (tier, score))
                if len(found) >= limit:
                    return found, total
        total, last = self._counted(widest)
        for row, score in self._ranked(widest, last):
            found.setdefault(row, (len(TIERS), score))
        return found, total

    def _matcher(self, terms: list[Term]) -> list[re.Pattern]:
        """Patterns for the words of a page that match the terms, to mark them: words that
        start with a stem the search used or with a word as typed (an English stem is not
        always a word's start: "happi"), short ones whole. C scans of each section instead
        of stemming each word took passages from a third of a search's time to a tenth.

        One pattern for each word of the query: compiling one for the whole query took 0.1 to
        0.6 ms, for each new query; a word's pattern is compiled once and kept in `re`'s cache.
        They match lower-case text and have no leading `\\b`: a pattern that starts with its
        words' letters lets `re` skip to where one of them starts, which halved a long
        section's scan. `_passage` keeps the matches that start a word."""
        patterns = []
        for word in sorted({word for term in terms for phrase in term.phrases for word in phrase}):
            forms, compounds = self._word(word)
            # Any order marks the same (each alternative matches to the end of a word); a fixed
            # one makes the same word the same pattern, found in `re`'s cache.
            stems = sorted({*forms, *compounds, word})
            patterns.append(re.compile("|".join(
                re.escape(stem) + (r"\w*" if len(stem) >= MIN_PREFIX_CHARS else r"\b") for stem in stems)))
        return patterns


class _Prepared:
    """A page read for the index: its sections, the words of its title, headings and body
    (lower case, in order) and its distinct words of three letters or more."""

    def __init__(self, page: Page):
        self.page = page
        self.sections = sections(page.body)
        self.words = tuple(WORD.findall(text.lower()) for text in (
            page.title, " ".join(s.heading for s in self.sections), "\n".join(s.text for s in self.sections)))
        self.distinct = _distinct(set().union(*self.words))

    @staticmethod
    def distinct_words(title: str, parts: list[Section]) -> set[str]:
        """What `distinct` was for a page indexed with this title and these sections."""
        return _distinct(WORD.findall(" ".join([title, *(f"{s.heading} {s.text}" for s in parts)]).lower()))


def _packed(parts: list[Section]) -> bytes:
    """A page's sections as the index keeps them for passages: JSON, compressed. Their text
    is most of the index (13 MB of 33 at 10,000 pages); compressed it takes a third, and
    reading a hit's back costs microseconds."""
    return zlib.compress(json.dumps([(s.anchor, s.heading, s.text) for s in parts]).encode(), 6)


def _unpacked(stored: bytes) -> list[Section]:
    return [Section(*s) for s in json.loads(zlib.decompress(stored))]


def _distinct(words) -> set[str]:
    """The distinct words of three letters or more (a page's vocabulary)."""
    return {w for w in set(words) if len(w) >= 3 and w.isalpha()}


def _passage(parts: list[Section], patterns: list[re.Pattern], before: int = 8, length: int = 30):
    """The section with the most distinct matching words (the first on a tie) and about
    `length` of its words around its first match, matches marked."""
    if not parts:
        return None, ()
    # Each section is scanned with its heading (once for each word's pattern): the distinct
    # words matched choose the section, and where matches start in its text mark it (a second
    # scan of the chosen section's text took a tenth to a sixth of the passages' time).
    found = [_word_matches(f"{s.heading} {s.text}", patterns, -len(s.heading) - 1) for s in parts]
    scores = [len({word for _, word in matches}) for matches in found]
    best = scores.index(max(scores))
    section = parts[best]
    starts = {start for start, _ in found[best] if start >= 0}
    return (section if section.anchor else None), _marked(section.text, starts, before, length)


def _word_matches(text: str, patterns: list[re.Pattern], offset: int) -> list[tuple[int, str]]:
    """Where `patterns` match at the start of a word of `text` (plus `offset`), and what, in lower case."""
    if not patterns:
        return []
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" alone lowers to two characters
        lowered = text.replace("\u0130", "i").lower()
    return [(m.start() + offset, m.group()) for pattern in patterns for m in pattern.finditer(lowered)
            if not m.start() or not WORD.match(lowered, m.start() - 1)]  # not inside a word


def _marked(text: str, matches: set[int], before: int, length: int) -> tuple:
    """About `length` words of `text` from `before` words ahead of the first of the `matches`
    (where they start), as (text, highlighted) runs."""
    # Words are read only as far as the passage reaches: those ahead of the match in a window
    # of 20 characters a word first (its first word may be cut; when it holds more than
    # `before` words, that one is not needed), else from the start.
    at = min(matches, default=0)
    ahead = [word.start() for word in WORD.finditer(text, max(at - 20 * (before + 1), 0), at)]
    if len(ahead) <= before:
        ahead = [word.start() for word in WORD.finditer(text, 0, at)]
    start = [*ahead, at][max(len(ahead) - before, 0)]
    words = list(islice(WORD.finditer(text, start), length + 1))
    if not words:
        return ()
    more = len(words) > length
    words = words[:length]
    runs, position = [], words[0].start()
    for word in words:
        if word.start() in matches:
            runs.append((text[position:word.start()], False))
            runs.append((word.group(), True))
            position = word.end()
    runs.append((text[position:words[-1].end()], False))
    runs[0] = (("… " if len(ahead) > before else "") + runs[0][0], False)
    runs[-1] = (runs[-1][0] + (" …" if more else ""), False)
    return tuple((t.replace("\n", " "), hit) for t, hit in runs if t)


class Search:
    """Search across the languages' indexes, with the authors' synonyms, corrections of
    typos and a bounded cache of results for each version of the pages and synonyms."""

    def __init__(self, indexes: dict[str, SearchIndex], synonyms: SynonymFile):
        self.indexes = indexes
        self.synonyms = synonyms
        self._cache: OrderedDict[tuple, Results] = OrderedDict()
        self._state: tuple = ()
        self._lock = threading.Lock()

    def find(self, query: str, lang: str, exact: bool = False, limit: int = 10, forgiving: bool = True) -> Results:
        """The pages for `query`, in `lang` first; `exact` searches only what was typed.

        Unless `exact`, a word no page has is corrected. When `forgiving`, a few words no
        page has are left out of a longer query, and a page may lack one of its terms.
        """
        query = " ".join(query.split())[:MAX_QUERY_CHARS]
        for index in self.indexes.values():
            index.update()
        synonyms = self.synonyms.current()
        state = (self.synonyms.version, *(index.generation for index in self.indexes.values()))
        key = (query.lower(), lang, exact, limit, forgiving)
        with self._lock:
            if state != self._state:
                self._cache.clear()
                self._state = state
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return Results(query, found.hits, found.total, found.corrected)
        found = self._find(query, lang, exact, limit, forgiving, synonyms)
        with self._lock:
            self._cache[key] = found
            if len(self._cache) > MAX_CACHED_RESULTS:
                self._cache.popitem(last=False)
        return found

    def _find(self, query, lang, exact, limit, forgiving, synonyms) -> Results:
        words = query_words(query)
        if not words:
            return Results(query)
        if not exact:
            corrected = self._corrected(words, lang)
            if corrected != words:
                hits, total = self._everywhere(_terms(corrected, synonyms), lang, limit, forgiving)
                if hits:
                    return Results(query, hits, total, " ".join(corrected))
        hits, total = self._everywhere(_terms(words, synonyms), lang, limit, forgiving)
        return Results(query, hits, total)

    def _known(self, term: Term) -> bool:
        """Whether some page, in any language, has one of the term's phrases (every word of it)."""
        return any(all(any(index.knows(word) for index in self.indexes.values()) for word in phrase)
                   for phrase in term.phrases)

    def _corrected(self, words: list[str], lang: str) -> list[str]:
        """`words` with each that no page in any language has replaced by its nearest word
        (the reader's language first on a tie), at most MAX_CORRECTIONS of them."""
        corrected, budget = [], MAX_CORRECTIONS
        for word in words:
            if budget and word not in STOPWORDS and not any(ix.knows(word) for ix in self.indexes.values()):
                budget -= 1
                candidates = [(found[1], code != lang, -found[2], found[0])
                              for code, index in self.indexes.items() if (found := index.nearest(word))]
                if candidates:
                    word = min(candidates)[3]
            corrected.append(word)
        return corrected

    def _everywhere(self, terms: list[Term], lang: str, limit: int, forgiving: bool) -> tuple[tuple[Hit, ...], int]:
        """Hits in `lang`, then, when they are few, in the other languages (marked with theirs).

        Words no page has are left out when `forgiving` and they are at most a third of
        the terms; more of them, and the query is about something the pages do not cover.
        """
        if forgiving:
            known = [term for term in terms if self._known(term)]
            if len(terms) - len(known) > len(terms) // 3:
                return (), 0
            terms = known
        hits, total = self.indexes[lang].search(terms, limit, forgiving)
        hits = [Hit(hit.page, lang, hit.section, hit.passage) for hit in hits]
        if total < FEW_RESULTS:
            seen = {hit.page.slug for hit in hits}
            for code, index in self.indexes.items():
                if code != lang:
                    more, found = index.search(terms, limit, forgiving)
                    new = [Hit(hit.page, code, hit.section, hit.passage) for hit in more if hit.page.slug not in seen]
                    seen.update(hit.page.slug for hit in new)
                    hits += new
                    total = min(total + found - (len(more) - len(new)), MAX_RANKED)  # a page once
        return tuple(hits[:limit]), total


def _terms(words: list[str], synonyms: Synonyms) -> list[Term]:
    """A query's terms: its words and synonym phrases, common words left out when others remain."""
    terms, at = [], 0
    while at < len(words):
        length, others = synonyms.longest_at(words, at)
        terms.append(Term((tuple(words[at:at + length]), *others[:MAX_SYNONYMS - 1])))
        at += length
    useful = [term for term in terms if not (term.word and term.word in STOPWORDS)]
    return useful or terms


def init_app(app: Flask) -> None:
    """A search index of each language's pages, built in the background from the first request.

    10,000 pages take a few seconds to index, so a worker serves pages while it builds,
    and a search made meanwhile waits for its index. The build starts with the first
    request rather than here: a server that loads the app and then forks its workers
    would otherwise fork in the middle of it.
    """
    stores = app.extensions["library"].stores
    indexes = {lang: SearchIndex(store, LANGUAGES[lang].stemmer) for lang, store in stores.items()}
    # A broken synonyms file is logged and searched without (the launcher and check-docs refuse it).
    app.extensions["search"] = Search(indexes, SynonymFile(app.config["DOCS_DIR"]))
    started = threading.Event()

    @app.before_request
    def build_indexes():
        if not started.is_set():
            started.set()
            for lang, index in indexes.items():
                threading.Thread(target=index.update, name=f"search-index-{lang}", daemon=True).start()


def get_search() -> Search:
    """The current app's search."""
    return current_app.extensions["search"]


def get_index(lang: str) -> SearchIndex:
    """The current app's search index for pages in `lang`."""
    return current_app.extensions["search"].indexes[lang]
