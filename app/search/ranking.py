"""How pages are ranked for a query: a title that is the query, a title with every term, a
heading that is the query, a heading with every term; then pages matching in their title,
in headings, anywhere, only by a compound's part; within each, BM25 with title, headings
and body weighted 10:4:1 (a compound's parts are indexed in its column, marked). When no
page has every term of a query of 3 or 4 terms, pages with all but one.

`TieredRanking` is the ranking half of `SearchIndex` (app/search/index.py): its methods
read the index's FTS5 tables and vocabulary.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from app.search.passages import passage, unpacked
from app.search.query import MAX_RANKED, Hit, Term

# A prefix expands to every indexed word that starts with it: only this many words of a
# query, each of at least MIN_PREFIX_CHARS, match by prefix ("ansikt" finds "ansiktstrekk");
# the others match whole words. This bounds a query's work whatever the reader types.
MAX_PREFIX_TERMS = 4
MIN_PREFIX_CHARS = 3
SPARE_FROM = 3  # terms a query needs before a page may lack one of them,
SPARE_UP_TO = 4  # and may have at most: the expression repeats each term n - 1 times
WEIGHTS = (10.0, 4.0, 1.0)  # title, headings, body (a compound's parts weigh as its column)
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


class TieredRanking:
    """The ranking of a SearchIndex: FTS5 expressions of a query's terms, the tiers they are
    matched in, and the hits with their passages."""

    def _expressions(self, terms: list[Term]) -> tuple[list[str], list[str]]:
        """FTS5 expressions of each term: in whole words (the words a prefix matches spelled
        out), and in whole words or as a compound's part.

        A word stands for its forms' stems, each matched as a prefix while MAX_PREFIX_TERMS
        allow (the longest first); a phrase for its words' stems in a row.
        """
        words = [[self._word(phrase[0]) for phrase in term.phrases if len(phrase) == 1] for term in terms]
        phrases = [
            [self._stemmer.stemWords(list(phrase)) for phrase in term.phrases if len(phrase) > 1] for term in terms
        ]
        firsts = {stems[0] for term in words for stems, _ in term}
        long_enough = sorted((s for s in firsts if len(s) >= MIN_PREFIX_CHARS), key=len, reverse=True)
        prefixed = set(long_enough[:MAX_PREFIX_TERMS])
        # A word's stems match by prefix if its first one does (and each is long enough itself).
        prefixes = {
            stem
            for term in words
            for stems, _ in term
            if stems[0] in prefixed
            for stem in stems
            if len(stem) >= MIN_PREFIX_CHARS
        }
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

    def ranked(self, terms: list[Term], limit: int = 10, forgiving: bool = True) -> tuple[list[Hit], int]:
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
                    spare_one = " OR ".join(
                        f"({' AND '.join(with_parts[:i] + with_parts[i + 1 :])})" for i in range(len(terms))
                    )
                    found, total = self._candidates(None, spare_one, limit)
            if not found:
                return [], 0
            wanted = frozenset(self._word(term.word)[0][0] for term in terms if term.word)

            def rank(row):
                return (match_rank(wanted, self._indexed[self._slugs[row]]), *found[row])

            best = sorted(found, key=rank)[:limit]
            stored = dict(
                self._db.execute(
                    f"SELECT id, sections FROM pages WHERE id IN ({','.join('?' * len(best))})", best
                ).fetchall()
            )
            hits, patterns = [], self._matcher(terms)
            for row in best:
                page = self.store.known(self._slugs[row])  # as indexed: update() just caught up
                if page is not None:
                    section, shown = passage(unpacked(stored[row]), patterns)
                    hits.append(Hit(page, "", section, shown))
            return hits, total

    def _counted(self, expression: str, table: str = "fts") -> tuple[int, int | None]:
        """How many rows match, as far as MAX_RANKED, and the last of the first MAX_RANKED
        (None when fewer match): what a tier's ranking is bounded by."""
        count, last = self._db.execute(
            f"SELECT count(*), max(rowid) FROM (SELECT rowid FROM {table} WHERE {table} MATCH ? "
            "ORDER BY rowid LIMIT ?)",
            (expression, MAX_RANKED),
        ).fetchone()
        return count, last if count >= MAX_RANKED else None

    def _ranked(self, expression: str, last: int | None, table: str = "fts") -> list[tuple[int, float]]:
        weights = WEIGHTS if table == "fts" else WEIGHTS[:2]
        return self._db.execute(
            f"SELECT rowid, bm25({table}, {', '.join('?' * len(weights))}) FROM {table} "
            f"WHERE {table} MATCH ? AND rowid <= ? ORDER BY 2 LIMIT ?",
            (*weights, expression, self._next_id if last is None else last, CANDIDATES),
        ).fetchall()

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
            patterns.append(
                re.compile(
                    "|".join(re.escape(stem) + (r"\w*" if len(stem) >= MIN_PREFIX_CHARS else r"\b") for stem in stems)
                )
            )
        return patterns
