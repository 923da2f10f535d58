"""Related pages, found from the pages' own words ("more like this"): a page's most
distinctive stems (its title's and headings' weighted above its body's), and the pages that
share the most of them, weighted by how distinctive they are.

Each language's terms are made in a thread of their own when the pages change (see
app/search/versioned.py): only each page's TOP_TERMS stems are kept, with the pages that
have each, so a page's related pages are a few short lists added up when it is rendered,
and its rendered form is cached as any other.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter

import Stemmer
from flask import Flask

from app.content.library import Library
from app.content.page import Page
from app.content.sections import sections
from app.languages import LANGUAGES
from app.search.query import STOPWORDS, WORD
from app.search.versioned import PerVersion

TOP_TERMS = 30  # a page's most distinctive stems, the ones it is compared by
POSTED_TERMS = 60  # ... and the ones other pages find it by
MAX_POSTED = 200  # pages a stem leads to, the ones it weighs most in
WEIGHTS = (3.0, 2.0, 1.0)  # a stem in the title, in a heading, in the body
MIN_WORD_CHARS = 3
# A stem on more than this share of the pages says little about what a page is about (a
# small site keeps every stem that not all its pages have: their weight says the rest).
MAX_SHARE = 0.2
SMALL_SITE = 50
# The first page a worker renders waits this long for the first terms (a few milliseconds
# for a small site, 2 s for 10,000 pages); past it the page goes without automatic related
# pages, and is made again once they are there.
FIRST_WAIT_SECONDS = 0.5


class _Terms:
    """One reader language's pages and, for each of their distinctive stems, which pages
    have it and how much it weighs there (in arrays: at 10,000 pages, lists of tuples took
    28 MB a language)."""

    def __init__(self, library: Library, lang: str):
        shown = library.pages_in(lang)
        self.slugs = list(shown)
        self.langs = [page_lang for _, page_lang in shown.values()]
        stemmers = {code: Stemmer.Stemmer(LANGUAGES[code].stemmer) for code in LANGUAGES}
        counted = [_weighted_stems(page, stemmers[page_lang]) for page, page_lang in shown.values()]
        pages = len(counted) or 1
        frequency = Counter(stem for stems in counted for stem in stems)
        most = max(MAX_SHARE * pages, min(pages - 1, SMALL_SITE))
        ids: dict[str, int] = {}
        posted: list[list[tuple[float, int]]] = []  # stem id -> (weight, page) of the pages it is posted for
        self.top_stems, self.top_weights, self.offsets = array("I"), array("f"), array("I", [0])
        for number, stems in enumerate(counted):
            weights = {
                stem: weight * math.log(pages / frequency[stem])
                for stem, weight in stems.items()
                if 2 <= frequency[stem] <= most  # a stem of one page relates it to none
            }
            norm = math.sqrt(sum(value * value for value in weights.values())) or 1.0
            top = sorted(weights.items(), key=lambda item: -item[1])[:POSTED_TERMS]
            for rank, (stem, value) in enumerate(top):
                stem_id = ids.setdefault(stem, len(ids))
                if stem_id == len(posted):
                    posted.append([])
                posted[stem_id].append((value / norm, number))
                if rank < TOP_TERMS:
                    self.top_stems.append(stem_id)
                    self.top_weights.append(value / norm)
            self.offsets.append(len(self.top_stems))
        # Each stem's pages, the heaviest first, as far as MAX_POSTED: a page's related pages
        # are then found among at most TOP_TERMS times that many (10 ms a page became 1).
        self.postings = []
        for entries in posted:
            entries.sort(reverse=True)
            kept = entries[:MAX_POSTED]
            self.postings.append((array("I", (page for _, page in kept)), array("f", (w for w, _ in kept))))
        self.numbers = {slug: number for number, slug in enumerate(self.slugs)}

    def like(self, slug: str) -> list[tuple[str, str]]:
        """The pages most like `slug` (slug and language), best first; itself left out."""
        number = self.numbers.get(slug)
        if number is None:
            return []
        scores: Counter = Counter()
        for at in range(self.offsets[number], self.offsets[number + 1]):
            value = self.top_weights[at]
            pages, weights = self.postings[self.top_stems[at]]
            for other, weight in zip(pages, weights, strict=True):
                if other != number:
                    scores[other] += value * weight
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self.slugs[item[0]]))
        return [(self.slugs[other], self.langs[other]) for other, _ in ranked]


def _weighted_stems(page: Page, stemmer) -> Counter:
    """A page's stems, each weighted by where it stands: title, headings, body."""
    parts = sections(page.body)
    texts = (page.title, " ".join(s.heading for s in parts), " ".join(s.text for s in parts))
    stems: Counter = Counter()
    for text, weight in zip(texts, WEIGHTS, strict=True):
        words = [w for w in WORD.findall(text.lower()) if len(w) >= MIN_WORD_CHARS and w not in STOPWORDS]
        for stem in stemmer.stemWords(words):
            stems[stem] += weight
    return stems


class RelatedPages:
    """Related pages for every reader language, made anew (in a thread) when pages change."""

    def __init__(self, library: Library):
        self.library = library
        self.terms = PerVersion(library, lambda lang: _Terms(library, lang), "related")

    def like(self, slug: str, lang: str) -> list[tuple[str, str]] | None:
        """The pages most like `slug` for a reader of `lang` (slug and the page's language),
        best first; None while this language's terms are being made for the first time
        (after waiting FIRST_WAIT_SECONDS for them)."""
        made = self.terms.first(lang, FIRST_WAIT_SECONDS)
        return None if made is None else made[1].like(slug)

    def settled(self, lang: str) -> bool:
        """Whether `like` answers from the pages as they are now (not the last version's terms)."""
        return self.terms.settled(lang)


def init_app(app: Flask) -> None:
    """The app's related pages, over its library; their terms are first made from the first
    request, as the search indexes are."""
    related = app.extensions["related"] = RelatedPages(app.extensions["library"])
    related.terms.start_with_first_request(app)
