"""Full-text search over the help pages that forgives what readers type.

Each language's pages have an in-memory SQLite FTS5 index. Words are stemmed by us
(PyStemmer, Snowball) before they reach FTS5, so "bildene", "bilder" and "bilde" all index
and query as "bild". A query then forgives, in this order:

- inflections the stemmer misses: a word no page has may be a form of one that some page
  has ("adapterne" is searched as "adapter");
- synonyms the authors keep in `docs/_synonyms.yml`, both ways;
- compound words: each page's compounds are split at index time into parts that are words
  of a Bokmål word list or of the pages ("ansiktsgjenkjenning" into "ansikt" and
  "gjenkjenning", "brannmur" into "brann" and "mur"), indexed beside the compound in its
  column, so its parts in any order, or its last part alone, find it;
- words written together: a word no page has that is two words some page has in a row
  ("zeroshot" for "zero-shot", "ipadapter" for "IP-Adapter", "pullrequests") is searched
  as the two, and the reader is told, as for a typo; never a word of the Bokmål list
  ("stormaskin" is no "stor maskin");
- typos: a word no page has, of 5 to 8 letters, is corrected to the most common word
  within one edit, longer words within two ("ansikst" is "ansikt"); a word of the Bokmål
  list only where the correction stands near a neighbouring word of the query on a page
  ("skrape bilder" is "skarpe bilder", "registrerer ferie" no "registrerer serie"). The
  reader is told ("Viser treff for …") and can search for what they typed instead. A word
  of the list alone in a query is taken as meant ("hofte" is no "ofte"); when it finds
  nothing, its correction is offered ("Mente du «skarpe»?"), not searched;
- compounds: a compound no page has that was not corrected is searched as its two parts,
  words the pages have near each other ("statusetikett" as "status" and "etikett"), as
  the pages' compounds are found by theirs; never a word of the Bokmål list or a form of
  one, nor an English word (left to its translations);
- language: a search that finds little in the reader's language also searches the others;
- no sure answer: a question (three words or more, common ones left out) that finds nothing
  is offered its partial matches apart, pages with two of its rarer words (app/search/
  ranking.py), never as its results: the reader is not left at a dead end, and "no answer,
  no results" still holds.

This module is the search the app asks (`Search.find`): corrections, languages and a
cache of results. A query's terms are app/search/query.py; each language's index and
vocabulary app/search/index.py; the ranking app/search/ranking.py; passages
app/search/passages.py.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

from flask import Flask, current_app

from app.content.translations import CURRENT, drift
from app.languages import DEFAULT_LANGUAGE, LANGUAGES
from app.search import lexicon
from app.search.index import SearchIndex
from app.search.query import MAX_RANKED, STOPWORDS, Hit, Results, Term, query_words, terms_of, typed
from app.search.ranking import QUESTION_TERMS
from app.search.spelling import written_apart
from app.search.synonyms import SynonymFile, Synonyms
from app.search.translation import english, translatable, translated, written_in_norwegian

MAX_CORRECTIONS = 3  # words of one query that may be corrected
MAX_CACHED_RESULTS = 1_000
FEW_RESULTS = 3  # fewer in the reader's language: the other languages are searched too
PARTIAL = 3  # a question's partial matches offered when nothing answers it


class Search:
    """Search across the languages' indexes, with the authors' synonyms, corrections of
    typos and a bounded cache of results for each version of the pages and synonyms."""

    def __init__(self, indexes: dict[str, SearchIndex], synonyms: SynonymFile):
        self.indexes = indexes
        self.synonyms = synonyms
        self._cache: OrderedDict[tuple, Results] = OrderedDict()
        self._state: tuple = ()
        self._lock = threading.Lock()
        # Read now, where the app is made (the launcher, before it forks its workers), not by
        # a worker's first search: the workers share them, and no reader waits for them.
        lexicon.english_norwegian()
        lexicon.bokmal_forms()

    def find(self, query: str, lang: str, exact: bool = False, limit: int = 10, forgiving: bool = True) -> Results:
        """The pages for `query`, in `lang` first; `exact` searches only what was typed.

        Unless `exact`, a word no page has is corrected (a word of the Bokmål list alone is
        searched as typed, and its correction offered when nothing is found). When
        `forgiving`, a few words no page has are left out of a longer query, and a page may
        lack one of its terms; a question that finds nothing then has its partial matches.
        """
        query = typed(query)
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
                return replace(found, query=query)
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
        norwegian = written_in_norwegian(words)
        corrected, offered = words, None
        if not exact:
            corrected, offered = self._corrected(words, lang, synonyms)
            if corrected != words:
                hits, total = self._everywhere(corrected, synonyms, lang, limit, forgiving, norwegian)
                if hits:
                    return Results(query, hits, total, " ".join(corrected))
        hits, total = self._everywhere(words, synonyms, lang, limit, forgiving, norwegian, exact)
        if hits:
            return Results(query, hits, total)
        # Nothing found, and a word of the Bokmål list alone was taken as meant ("skrape"):
        # its correction ("skarpe") is offered when it finds pages.
        if offered and self._everywhere(offered, synonyms, lang, 1, forgiving, norwegian)[0]:
            return Results(query, suggested=" ".join(offered))
        if exact or not forgiving or len(terms_of(corrected, synonyms)) < QUESTION_TERMS:
            return Results(query)
        # A question no page answers surely: the pages with some of its words together are
        # offered apart ("Sider som nevner noe av det du spurte om"), never as its results.
        partial, _ = self._everywhere(corrected, synonyms, lang, PARTIAL, forgiving, norwegian, partial=True)
        return Results(query, partial=partial)

    def _corrected(self, words: list[str], lang: str, synonyms: Synonyms) -> tuple[list[str], list[str] | None]:
        """`words` with each that no page in any language has replaced by the two words it is
        written together of, where a page has them in a row ("zeroshot": "zero shot"), else
        by its nearest word (the reader's language first on a tie), at most MAX_CORRECTIONS
        of them. A word of the authors' synonyms is no typo: it stands for words the pages
        have. And, when a word of the Bokmål list alone in the query was taken as meant
        (see `_mistyped`), `words` with its correction, to offer the reader (unless it is a
        common word: "dritt" is no "ditt"); else None."""
        corrected, offered, budget = [], None, MAX_CORRECTIONS
        content = [word for word in words if word not in STOPWORDS and any(c.isalnum() for c in word)]
        for word in words:
            if (
                budget
                and word not in STOPWORDS
                and not any(ix.knows(word) for ix in self.indexes.values())
                and not translatable(word)  # an English word the Norwegian pages say otherwise
                and word not in synonyms.words  # "fjerne" for "slette", not "gjerne"
            ):
                budget -= 1
                apart = self._apart(word, lang)
                if apart:  # "zeroshot" is "zero shot", as a page has them in a row
                    corrected += apart
                    continue
                candidates = [
                    (found[1], code != lang, -found[2], found[0])
                    for code, index in self.indexes.items()
                    if (found := index.nearest(word))
                ]
                if english(word):  # two English words run together: a typo only one edit away
                    candidates = [candidate for candidate in candidates if candidate[0] <= 1]
                nearest = min(candidates)[3] if candidates else None
                if nearest and self._mistyped(word, nearest, content):
                    word = nearest
                elif nearest and len(content) == 1 and nearest not in STOPWORDS:
                    offered = [nearest if other == word else other for other in words]
            corrected.append(word)
        return corrected, offered

    def _apart(self, word: str, lang: str) -> tuple[str, str] | None:
        """The two words of the pages that `word` is written together of (SearchIndex.apart),
        the reader's language first."""
        order = sorted(self.indexes, key=lambda code: code != lang)
        return next(filter(None, (self.indexes[code].apart(word) for code in order)), None)

    def _mistyped(self, word: str, nearest: str, content: list[str]) -> bool:
        """Whether `word`, which no page has, is a typo for `nearest`. A word of the Bokmål
        list is a word, not a typo, unless its correction stands near a neighbouring word of
        the query on some page ("skrape bilder" is "skarpe bilder"; "registrerer ferie" is
        no "registrerer serie"). Alone in a query it may be either, and is taken as meant
        (`_corrected` offers the correction). Measured with 250 words of the list that no
        page has, each alone (bench/outside.py `unknown_words`): 42 on the outside set's
        pages and 17 on ours had been "corrected" into another word ("hofte" into "ofte");
        no typo query of either set changed (6 in 2,778 typos drawn by the outside set's
        rule are words of the list)."""
        if word not in lexicon.norwegian() or word not in content:
            return True
        if len(content) < 2:
            return False
        at = content.index(word)
        neighbours = content[max(at - 1, 0) : at] + content[at + 1 : at + 2]
        return any(index.near(nearest, other) for other in neighbours for index in self.indexes.values())

    def _in(self, lang: str, words: list[str], terms: list[Term], norwegian: bool, exact: bool) -> list[Term]:
        """The terms of a query's `words` as searched in `lang`'s pages: in Norwegian ones, a
        compound no page has as its parts (unless `exact`), English words with their
        translations (app/search/translation.py), and two words that the pages write as one
        compound with it too (app/search/spelling.py)."""
        index = self.indexes[lang]
        if index.language != "norwegian":
            return terms
        if not exact:
            terms = self._parts(index, terms)
        return written_apart(translated(terms, index.knows, index.has, norwegian), words, index.has)

    @staticmethod
    def _parts(index: SearchIndex, terms: list[Term]) -> list[Term]:
        """`terms` with each compound no page has as its two parts, where a page has them near
        each other (SearchIndex.compound): "statusetikett" is "status" and "etikett". At
        most MAX_CORRECTIONS of them are tried: each costs up to a few milliseconds at 10,000
        pages (the nearness is an FTS5 query: 3.6 ms at most in a review, over 9,900 pages)."""
        split, budget = [], MAX_CORRECTIONS
        for term in terms:
            parts = None
            # An English word is left to its translations: split here, "darkmode" lost the
            # page that says "Dark mode".
            if budget and term.word and not index.knows(term.word) and not english(term.word):
                budget -= 1
                parts = index.compound(term.word)
            split += [Term(((part,),)) for part in parts] if parts else [term]
        return split

    def _everywhere(
        self,
        words: list[str],
        synonyms: Synonyms,
        lang: str,
        limit: int,
        forgiving: bool,
        norwegian: bool,
        exact: bool = False,
        partial: bool = False,
    ) -> tuple[tuple[Hit, ...], int]:
        """Hits for a query's `words` in `lang`, then, when they are few, in the other
        languages (a page with a current version in `lang` shown in it, `_as_read`); `partial`,
        its partial matches (SearchIndex.ranked).

        A word no page has is a term no page has: the ranking decides whether a page has
        enough of the others (app/search/ranking.py).
        """
        terms = terms_of(words, synonyms)
        hits, total = self.indexes[lang].ranked(
            self._in(lang, words, terms, norwegian, exact), limit, forgiving, partial
        )
        hits = [Hit(hit.page, lang, hit.section, hit.passage) for hit in hits]
        if total < FEW_RESULTS:
            seen = {hit.page.slug for hit in hits}
            for code, index in self.indexes.items():
                if code != lang:
                    more, found = index.ranked(
                        self._in(code, words, terms, norwegian, exact), limit, forgiving, partial
                    )
                    new = [self._as_read(hit, code, lang) for hit in more if hit.page.slug not in seen]
                    seen.update(hit.page.slug for hit in new)
                    hits += new
                    total = min(total + found - (len(more) - len(new)), MAX_RANKED)  # a page once
        return tuple(hits[:limit]), total

    def _as_read(self, hit: Hit, code: str, lang: str) -> Hit:
        """A hit among `code`'s pages, as the reader of `lang` should get it: the page in
        `lang` where it is a current translation of that one or that one of it (it says the
        same), with the passage that matched, in `code`; else the page in `code`, marked as
        such (an outdated translation may lack what was found)."""
        page = self.indexes[lang].store.known(hit.page.slug)
        original, translation = (page, hit.page) if lang == DEFAULT_LANGUAGE else (hit.page, page)
        if page is None or drift(original, translation) != CURRENT:
            return Hit(hit.page, code, hit.section, hit.passage)
        return Hit(page, lang, None, hit.passage, passage_lang=code)


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
