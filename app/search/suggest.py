"""Suggestions while a reader types: the titles and headings of the pages a reader of a
language is shown whose words start with what was typed so far (the last word a prefix,
the others whole words or prefixes too), forgiving one typo in the last word and
Norwegian letters typed without the keys ("kjore" finds «kjøre»).

Each language has a sorted list of its titles' and headings' words (folded), made once per
version of the pages, so a suggestion is a few binary searches: p95 0.25 ms at 10,000 pages
(bench/suggest.py). What a reader types is never added to it; the answers are kept in a
bounded cache per version of the pages. Suggestions are not searches: nothing here is
counted for the insights.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, islice

from flask import Flask, current_app
from rapidfuzz.distance import Levenshtein

from app.content.library import Library
from app.content.sections import sections
from app.search.query import WORD, visible
from app.search.spelling import fold
from app.search.versioned import PerVersion

MAX_SUGGESTIONS = 8
MAX_PREFIX_CHARS = 60  # of what was typed: enough for any title's first words
MAX_WORDS = 6
MIN_TYPO_CHARS = 4  # a last word this long may have one typo
# Words of the titles and headings a prefix may reach at most before the search stops
# looking: a one-letter prefix at 10,000 pages would otherwise read every word.
MAX_SCANNED = 2_000
MAX_CACHED = 1_000
SHORT_KEPT = 256  # best entries kept for each one- and two-letter prefix


@dataclass(frozen=True)
class Suggestion:
    """A page, or a heading of one (with its anchor), that matches what was typed."""

    slug: str
    title: str
    lang: str
    heading: str | None = None
    anchor: str | None = None


class _Vocabulary:
    """One language's titles and headings, best first (titles before headings, shorter
    texts first), and for each distinct word of them (folded) the entries that have it.

    An entry's number is its place in that order, so a word's entries, merged in order,
    come best first: a suggestion reads only as many as it shows (a one-letter prefix at
    10,000 pages took 4 ms when every matching entry was sorted, 0.1 ms this way).
    """

    def __init__(self, library: Library, lang: str):
        found: list[tuple[tuple, Suggestion, str]] = []
        for page, page_lang in library.pages_in(lang).values():
            found.append(
                ((0, len(page.title), page.title.casefold()), Suggestion(page.slug, page.title, page_lang), page.title)
            )
            for section in sections(page.body):
                if section.heading:
                    rank = (1, len(section.heading), section.heading.casefold())
                    found.append(
                        (
                            rank,
                            Suggestion(page.slug, page.title, page_lang, section.heading, section.anchor),
                            section.heading,
                        )
                    )
        found.sort(key=lambda item: item[0])
        words: dict[str, str] = {}  # one string for each distinct word
        postings: dict[str, list[int]] = {}
        self.entries = [suggestion for _, suggestion, _ in found]
        self.entry_words: list[tuple[str, ...]] = []
        for number, (_, _, text) in enumerate(found):
            own = tuple(words.setdefault(word, word) for word in _words(text))
            self.entry_words.append(own)
            for word in dict.fromkeys(own):
                postings.setdefault(word, []).append(number)
        self.keys = sorted(postings)
        self.postings = [array("I", postings[word]) for word in self.keys]
        # How many entries the words before each place in `keys` have: a prefix's count at once.
        self.counted = array("I", accumulate((len(posting) for posting in self.postings), initial=0))
        # The best entries of each one- and two-letter prefix, merged once: the prefixes with
        # the most words under them.
        self.short: dict[str, array] = {}
        for length in (1, 2):
            for prefix in {key[:length] for key in self.keys}:
                self.short[prefix] = array("I", islice(self._merged([self.range_of(prefix)]), SHORT_KEPT))

    def range_of(self, prefix: str) -> range:
        """Where the words starting with `prefix` are in `self.keys`."""
        first = bisect_left(self.keys, prefix)
        return range(first, bisect_left(self.keys, prefix + "\uffff", first))

    def count(self, prefixes: list[str]) -> int:
        """About how many entries have a word starting with one of `prefixes`."""
        return sum(self.counted[span.stop] - self.counted[span.start] for span in map(self.range_of, prefixes))

    def _merged(self, spans) -> Iterator[int]:
        """The entries of the words in `spans`, best first, each once."""
        last = -1
        for number in heapq.merge(*(self.postings[at] for span in spans for at in span)):
            if number != last:
                yield number
                last = number

    def entries_starting(self, prefixes: list[str]) -> Iterator[int]:
        """The entries with a word starting with one of `prefixes`, best first."""
        if len(prefixes) == 1 and prefixes[0] in self.short:
            kept = self.short[prefixes[0]]
            yield from kept
            if len(kept) < SHORT_KEPT:
                return
            yield from islice(self._merged([self.range_of(prefixes[0])]), SHORT_KEPT, None)
            return
        yield from self._merged([self.range_of(prefix) for prefix in prefixes])

    def near(self, prefix: str) -> list[str]:
        """Prefixes of the vocabulary one edit from `prefix` (a typo), among the words that
        share its first two letters (each distinct start of a word compared once)."""
        found, last = set(), ""
        for at in self.range_of(prefix[:2])[:MAX_SCANNED]:
            word = self.keys[at]
            start = word[: len(prefix) + 1]
            if start == last:
                continue
            last = start
            for length in (len(prefix) - 1, len(prefix), len(prefix) + 1):
                if 0 < length <= len(word) and Levenshtein.distance(prefix, word[:length], score_cutoff=1) <= 1:
                    found.add(word[:length])
        return sorted(found)


class Suggester:
    """Suggestions for every language. A language's vocabulary is made in a thread of its
    own when the pages have changed (10,000 pages take about a second), and suggestions
    come from the one before it meanwhile: a suggestion never waits for it. Until a
    worker's first is made, there are none."""

    def __init__(self, library: Library):
        self.library = library
        self.vocabularies = PerVersion(library, lambda lang: _Vocabulary(library, lang), "suggest")
        self._cache: OrderedDict[tuple[str, str, str], tuple[Suggestion, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def suggest(self, typed: str, lang: str) -> tuple[Suggestion, ...]:
        """Up to MAX_SUGGESTIONS titles and headings for what a reader of `lang` typed so far."""
        words = _words(typed[:MAX_PREFIX_CHARS])[:MAX_WORDS]
        made = self.vocabularies.current(lang)
        if not words or made is None:
            return ()
        state, vocabulary = made
        key = (state, lang, " ".join(words) + (" " if typed[-1:].isspace() else ""))
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        found = _matches(vocabulary, words, whole_last=typed[-1:].isspace())
        with self._lock:
            self._cache[key] = found
            if len(self._cache) > MAX_CACHED:
                self._cache.popitem(last=False)
        return found

    def ready(self, timeout: float = 10) -> bool:
        """Wait until every language's vocabulary is made from the pages as they are."""
        return self.vocabularies.ready(timeout)


def _words(text: str) -> list[str]:
    """The words of a title, a heading or what was typed, folded."""
    # As the search reads it (`visible`): a combining accent is no letter to WORD and would
    # split the word in two, and a soft hyphen or zero-width joiner would too.
    return [fold(word) for word in WORD.findall(visible(text).lower())]


def _matches(vocabulary: _Vocabulary, words: list[str], whole_last: bool) -> tuple[Suggestion, ...]:
    """The best entries that have a word starting with each of `words` (the last one, unless
    `whole_last`, forgiving a typo when nothing starts with it as typed), a page once."""
    *before, last = words
    prefixes = [last]
    if not whole_last and len(last) >= MIN_TYPO_CHARS and not vocabulary.range_of(last):
        prefixes = vocabulary.near(last) or prefixes
    # Each word of what was typed, as the starts a word of an entry may have; the rarest one
    # names the entries to look at (best first), the others are checked on each.
    wanted = sorted([[word] for word in dict.fromkeys(before)] + [prefixes], key=vocabulary.count)
    driver, others = wanted[0], [tuple(starts) for starts in wanted[1:]]
    found, pages = [], set()
    for number in islice(vocabulary.entries_starting(driver), MAX_SCANNED):
        entry = vocabulary.entries[number]
        if entry.slug in pages:
            continue
        own = vocabulary.entry_words[number]
        if all(any(word.startswith(starts) for word in own) for starts in others):
            pages.add(entry.slug)
            found.append(entry)
            if len(found) == MAX_SUGGESTIONS:
                break
    return tuple(found)


def init_app(app: Flask) -> None:
    """The app's suggester, over its library. Its vocabularies are first made from the
    first request, as the search indexes are."""
    suggester = app.extensions["suggester"] = Suggester(app.extensions["library"])
    suggester.vocabularies.start_with_first_request(app)


def get_suggester() -> Suggester:
    """The current app's suggester."""
    return current_app.extensions["suggester"]
