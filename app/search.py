"""Full-text search over the help pages: SQLite FTS5 with Norwegian Snowball stemming.

Words are stemmed by us (PyStemmer, Snowball's Norwegian) before they reach FTS5, so
"bildene", "bilder" and "bilde" all index and query as "bild"; FTS5's unicode61
tokenizer folds case and keeps æ, ø and å. Query terms match as prefixes, so "ansikt"
finds "ansiktstrekk". Ranking: a title that is the query, a title with every term, a heading that is the
query, a heading with every term; then pages matching in their title, then in
headings, then anywhere; within each, BM25 with title, headings and body weighted 10:4:1.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from typing import NamedTuple

import Stemmer
from flask import Flask, current_app

from app.documents import DocumentStore
from app.languages import LANGUAGES
from app.pages import Page, page_sections

WORD = re.compile(r"\w+")
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
# A prefix expands to every indexed word that starts with it: only this many terms of a
# query, each of at least MIN_PREFIX_CHARS, match by prefix ("ansikt" finds "ansiktstrekk");
# the others match whole words. This bounds a query's work whatever the reader types.
MAX_PREFIX_TERMS = 4
MIN_PREFIX_CHARS = 3
# Stems remembered from indexing; past this many the memo starts over.
MAX_REMEMBERED_STEMS = 200_000
WEIGHTS = (10.0, 4.0, 1.0)  # title, headings, body
TIERS = ("{title}", "{title headings}", "")  # where a match counts: ranked in this order
CANDIDATES = 50
# Words too common to narrow a search; used only if a query has nothing else.
STOPWORDS = frozenset(
    "og i er en et ei å på av for med til som det den de har kan hva hvordan hvorfor jeg du vi "
    "ikke at om fra seg så men eller the a an of is what how".split())

@dataclass(frozen=True)
class Hit:
    """One search result: the page and a passage of its text, split into (text, highlighted) runs."""

    page: Page
    passage: tuple[tuple[str, bool], ...]


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


class SearchIndex:
    """An in-memory FTS5 index of a DocumentStore, brought up to date before each search."""

    def __init__(self, store: DocumentStore, language: str = "norwegian"):
        self.store = store
        self._stemmer = Stemmer.Stemmer(language)
        self._stems: dict[str, str] = {}
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(title, headings, body, "
            "tokenize = 'unicode61 remove_diacritics 0')")
        self._db.execute("CREATE TABLE pages (id INTEGER PRIMARY KEY, slug TEXT UNIQUE, text TEXT)")
        # One search or update at a time: an update renumbers rows a search is reading.
        self._lock = threading.RLock()
        self._indexed: dict[str, Indexed] = {}
        self._slugs: dict[int, str] = {}  # id -> slug
        self._generation = -1
        self._next_id = 1

    def stem(self, words: list[str]) -> list[str]:
        """Stems of lower-case words of the pages, each distinct word stemmed once (bounded memo)."""
        missing = [w for w in set(words) if w not in self._stems]
        if missing:
            if len(self._stems) + len(missing) > MAX_REMEMBERED_STEMS:
                self._stems.clear()
            self._stems.update(zip(missing, self._stemmer.stemWords(missing), strict=True))
        return [self._stems.get(w) or self._stemmer.stemWord(w) for w in words]

    def _stemmed(self, text: str) -> str:
        return " ".join(self.stem(WORD.findall(text.lower())))

    def update(self) -> None:
        """Index pages added or changed since the last call, and drop removed ones."""
        pages = self.store.pages()
        if self.store.generation == self._generation:
            return
        with self._lock, self._db:
            current = {page.slug: page for page in pages}
            for slug in [s for s in self._indexed if s not in current]:
                self._delete(slug)
            for slug, page in current.items():
                known = self._indexed.get(slug)
                if known is None or known.version != page.version:
                    if known:
                        self._delete(slug)
                    self._insert(page)
            self._generation = self.store.generation

    def _insert(self, page: Page) -> None:
        headings, text = page_sections(page.body)
        row = self._next_id
        self._next_id += 1
        self._db.execute("INSERT INTO fts (rowid, title, headings, body) VALUES (?, ?, ?, ?)",
                         (row, self._stemmed(page.title), self._stemmed(" ".join(headings)), self._stemmed(text)))
        self._db.execute("INSERT INTO pages (id, slug, text) VALUES (?, ?, ?)", (row, page.slug, text))
        title_stems = self._key_stems(page.title)
        heading_stems = tuple(self._key_stems(heading) for heading in headings)
        self._indexed[page.slug] = Indexed(page.version, row, title_stems, heading_stems)
        self._slugs[row] = page.slug

    def _key_stems(self, text: str) -> frozenset:
        """The stems of a title or heading, without common words, to compare with a query's."""
        return frozenset(self.stem(WORD.findall(text.lower()))) - STOPWORDS

    def _delete(self, slug: str) -> None:
        row = self._indexed.pop(slug).row
        del self._slugs[row]
        self._db.execute("DELETE FROM fts WHERE rowid = ?", (row,))
        self._db.execute("DELETE FROM pages WHERE id = ?", (row,))

    def query_stems(self, query: str) -> list[str]:
        """The distinct stems a query searches for, common words dropped when others remain."""
        words = [w for w in WORD.findall(query[:MAX_QUERY_CHARS].lower()) if len(w) > 1 or w.isdigit()]
        useful = [w for w in words if w not in STOPWORDS] or words
        # Not remembered: what readers type must not grow the memo.
        return list(dict.fromkeys(self._stemmer.stemWords(useful)))[:MAX_TERMS]

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """The best pages for `query`: every term if any page has them all, else any term."""
        stems = self.query_stems(query)
        if not stems:
            return []
        with self._lock:
            return self._search(stems, limit)

    def _search(self, stems: list[str], limit: int) -> list[Hit]:
        self.update()
        terms = match_terms(stems)
        found = self._candidates(" AND ".join(terms), limit)
        if not found and len(stems) > 1:
            found = self._candidates(" OR ".join(terms), limit)
        wanted = frozenset(stems)

        def rank(row):
            return (match_rank(wanted, self._indexed[self._slugs[row]]), *found[row])

        hits = []
        for row in sorted(found, key=rank)[:limit]:
            page = self.store.get(self._slugs[row])
            if page is not None:
                hits.append(Hit(page, self._passage(row, stems)))
        return hits

    def _candidates(self, expression: str, limit: int) -> dict[int, tuple[int, float]]:
        """Matching rows with (tier, BM25 score): title matches, then headings, then anywhere.

        Wider tiers are only searched while fewer than `limit` pages were found, so a word
        that appears on most pages is ranked among the pages that have it in their title
        instead of among all of them.
        """
        found: dict[int, tuple[int, float]] = {}
        for tier, columns in enumerate(TIERS):
            scoped = f"{columns} : ({expression})" if columns else expression
            with self._lock:
                rows = self._db.execute(
                    "SELECT rowid, bm25(fts, ?, ?, ?) FROM fts WHERE fts MATCH ? ORDER BY 2 LIMIT ?",
                    (*WEIGHTS, scoped, CANDIDATES)).fetchall()
            for row, score in rows:
                found.setdefault(row, (tier, score))
            if len(found) >= limit:
                break
        return found

    def _passage(self, row: int, stems: list[str], before: int = 8, length: int = 30) -> tuple:
        """About `length` words of the page's text around the first match, matches marked."""
        with self._lock:
            (text,) = self._db.execute("SELECT text FROM pages WHERE id = ?", (row,)).fetchone()
        words = list(WORD.finditer(text))
        if not words:
            return ()

        def is_match(i: int) -> bool:
            word = words[i].group().lower()
            stem = self._stems.get(word) or self.stem([word])[0]
            return stem.startswith(tuple(stems))

        first_match = next((i for i in range(len(words)) if is_match(i)), 0)
        first = max(first_match - before, 0)
        last = min(first + length, len(words)) - 1
        matches = {i for i in range(first, last + 1) if is_match(i)}
        runs, position = [], words[first].start()
        for i in range(first, last + 1):
            word = words[i]
            if i in matches:
                runs.append((text[position:word.start()], False))
                runs.append((word.group(), True))
                position = word.end()
        runs.append((text[position:words[last].end()], False))
        prefix = "… " if first > 0 else ""
        suffix = " …" if last < len(words) - 1 else ""
        runs[0] = (prefix + runs[0][0], False)
        runs[-1] = (runs[-1][0] + suffix, False)
        return tuple((t.replace("\n", " "), hit) for t, hit in runs if t)


def match_terms(stems: list[str]) -> list[str]:
    """FTS5 terms for a query's stems: the longest MAX_PREFIX_TERMS (of MIN_PREFIX_CHARS or
    more) match as prefixes, the rest as whole words."""
    long_enough = sorted((s for s in stems if len(s) >= MIN_PREFIX_CHARS), key=len, reverse=True)
    prefixes = set(long_enough[:MAX_PREFIX_TERMS])
    return [f'"{s}"*' if s in prefixes else f'"{s}"' for s in stems]


def init_app(app: Flask) -> None:
    """A search index of each language's pages, built in the background from the first request.

    10,000 pages take about a second to index, so a worker serves pages while it builds,
    and a search made meanwhile waits for its index. The build starts with the first
    request rather than here: a server that loads the app and then forks its workers
    would otherwise fork in the middle of it.
    """
    stores = app.extensions["library"].stores
    indexes = {lang: SearchIndex(store, LANGUAGES[lang].stemmer) for lang, store in stores.items()}
    app.extensions["search"] = indexes
    started = threading.Event()

    @app.before_request
    def build_indexes():
        if not started.is_set():
            started.set()
            for lang, index in indexes.items():
                threading.Thread(target=index.update, name=f"search-index-{lang}", daemon=True).start()


def get_index(lang: str) -> SearchIndex:
    """The current app's search index for pages in `lang`."""
    return current_app.extensions["search"][lang]
