"""How pages are ranked for a query, and when a query finds nothing.

A query's terms (its words, common words left out, with their synonyms and translations:
app/search/query.py) are matched in the pages as whole words, forms, compounds' parts and
prefixes. Then:

- **Which pages answer.** A term counts as found on a page by a word, a form or a
  compound's part, never by a word it merely begins ("power" is not found in
  "powershell"). Terms on a third or more of the pages narrow nothing and are not counted
  (unless every term is such). A query of which more than one counted term in four is on
  no page at all is about something else ("hvordan bruker jeg vipps"): it finds nothing.
  Otherwise a page must have at least half of the counted terms (rounded up).
- **One word** ranks by where it is: a title that is the query, a title with it, a
  heading that is the query, a heading with it; then in the title, in the title and
  headings, anywhere; then BM25.
- **Two words** rank by BM25 over the whole page (title, headings and body weighted
  10:4:1, a compound's parts weighing as its column) times the share of the query's
  weight (each term's IDF) the page has; a title that is the query comes first, and a
  title or heading with both words weighs more.
- **Three or more** (questions): a title that is the query first, then a plain BM25 of
  the best candidates (Lucene's, title three times) over the words, not the compounds made
  of them ("ledetekst" is no answer to "teksten"), raised for a page whose body has them
  together in a sentence (app/search/proximity.py); a page with no two of them together
  (in one sentence, or one in its title or a heading) is no answer. Measured on the outside set:
  the share and title factors cost questions 7 points of top-1 there, while they win two words.
- **Partial matches** of a question that finds nothing, offered apart (app/search/engine.py):
  the same ranking, of the pages that have two of its counted terms, and two of its terms
  together, whatever it has that no page has and however weak the match. A question is
  three terms as searched, each word once (a word and its forms or synonyms are one).

Candidates are read by FTS5: pages with any of the terms, ranked by BM25; at most
MAX_RANKED matches of a statement are ranked. Which terms the best of them have is read
from the words the index keeps of each page.

`TieredRanking` is the ranking half of `SearchIndex` (app/search/index.py): its methods
read the index's FTS5 tables and vocabulary.
"""

from __future__ import annotations

import json
import math
import re
import zlib

from app.search import bm25, proximity
from app.search.keys import Indexed, Wanted, match_rank
from app.search.passages import passage, unpacked
from app.search.query import MAX_RANKED, Hit, Term

# A prefix expands to every indexed word that starts with it: only this many words of a
# query, each of at least MIN_PREFIX_CHARS, match by prefix ("ansikt" finds "ansiktstrekk");
# the others match whole words. This bounds a query's work whatever the reader types.
MAX_PREFIX_TERMS = 4
MIN_PREFIX_CHARS = 3
WEIGHTS = (10.0, 4.0, 1.0)  # title, headings, body (a compound's parts weigh as its column)
PART = "ǀ"  # U+01C0, a letter to FTS5: "ǀgjenkjenn" is the part "gjenkjenn" of a compound
CANDIDATES = 50  # pages a statement ranks by BM25
CHECKED = 20  # the best of them whose words are read, to see which terms they have
# A prefix query merges every matching word's list of pages before the first match, in each
# statement again; the same words spelled out with OR are read lazily, and a statement that
# stops at MAX_RANKED matches reads only what it needs. In titles and headings too: their
# tiers took 0.4-2.0 ms with prefix queries, 0.1-1.3 ms with the words spelled out.
MAX_SPELLED_OUT = 16
# Terms of a query ranked by where they match; longer ones rank by BM25 (measured: with 2,
# the outside set lost 7 % of compound-part queries at top-1 and 3 % of questions at top-3).
SHORT = 1
MAX_STARTED = 64  # indexed words a stem starts that are read to see whether they are forms of it
MAX_ENDING_CHARS = 2  # letters an inflected word may have beyond its stem ("brill" for "bril")
COMMON_SHARE = 1 / 3  # a term on this share of the pages narrows nothing
MIN_COMMON_PAGES = 20  # (and on at least this many: a small site has no common words)
SPARE = 2  # a page may lack one counted term in this many
UNKNOWN_SHARE = 4  # a query with more than one counted term in this many that no page has finds nothing
QUESTION_TERMS = 3  # terms from which a query ranks by BM25 alone, over its words (not their compounds)
# A page answers a question only with this many of its terms together: in one sentence, or
# one of them in its title or a heading, where a term is near every other (app/search/
# proximity.py; a term is there by any of its words, a compound with it too). Measured on
# both quality sets and 400 reader queries: outside no-answer 70 -> 75 % ("hvordan kobler
# jeg power bi til bøttene"), questions 92 -> 91 % at top-3 (one page, its words far apart,
# left the top 3); of the readers' queries, 3 answerable ones found their page higher
# ("account already exists when logging in"), 2 lower, and 3 more unanswerable ones found
# nothing ("koble til sql server fra jupyter"). Much the same with windows of 8 and 20 words.
MIN_TOGETHER = 2
# The least BM25 the best page of a query of two words or more has, for each unit of the
# query's IDF: measured on our set, answering pages have 0.7 and more (one compound-part
# query 0.43), pages for questions no page answers 0.46 to 3.5.
MIN_STRENGTH = 0.6
MIN_IDF = 1e-6  # FTS5's for a word on more than half of the pages
LONG_STEM_CHARS = 7  # a stem this long is found in the words it starts with up to
MAX_LONG_ENDING_CHARS = 4  # this many letters more
# A two-word query's title or heading matches, as factors of its BM25: every term in the
# title, a heading that is the query, every term in a heading.
TITLE_BOOST = {1: 1.5, 2: 1.3, 3: 1.15}


def _quoted(word: str) -> str:
    """An indexed word (" word ", or words of a phrase) as an FTS5 string."""
    return f'"{word.strip()}"'


class TieredRanking:
    """The ranking of a SearchIndex: FTS5 expressions of a query's terms, the pages that
    have enough of them, their order, and the hits with their passages."""

    def _expressions(self, terms: list[Term]) -> tuple[list[str], list[str], list[tuple[list[str], list[str]]]]:
        """FTS5 expressions of each term: in whole words (the words a prefix matches spelled
        out), and in whole words or as a compound's part; and the indexed words that find
        it, each as " word ": its own (its forms, as a part, its phrases) and compounds of it.

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
        whole, with_parts, found_by = [], [], []
        for term_words, term_phrases in zip(words, phrases, strict=True):
            stems = list(dict.fromkeys(stem for stems, _ in term_words for stem in stems))
            compounds = list(dict.fromkeys(compound for _, found in term_words for compound in found))
            listed = [word for stem in stems for word in self._prefixed(stem, stem in prefixes)]
            listed += [f'"{" ".join(phrase)}"' for phrase in term_phrases]
            parts = [f'"{PART}{stem}"' for stem in stems] + [f'"{compound}"' for compound in compounds]
            whole.append(f"({' OR '.join(dict.fromkeys(listed))})")
            with_parts.append(f"({' OR '.join(dict.fromkeys(listed + parts))})")
            own = [word for stem in stems for word in self._found_by(stem)] + [" ".join(p) for p in term_phrases]
            compounds += [word for stem in stems for word in self._found_by(stem, compounds=True)]
            found_by.append(([f" {w} " for w in dict.fromkeys(own)], [f" {w} " for w in dict.fromkeys(compounds)]))
        return whole, with_parts, found_by

    def _found_by(self, stem: str, compounds: bool = False) -> list[str]:
        """The indexed words that mean a query's stem is on a page: itself, as a compound's
        part, and the words it starts that are it inflected ("bril" in "brill"); with
        `compounds`, the words it starts that are compounds of it instead ("opp" in
        "oppskaler", where "skaler" is a word of the lexicon). Never any word it starts
        ("power" in "powershell")."""
        found = [] if compounds else [word for word in (stem, PART + stem) if self._has(word)]
        if len(stem) >= MIN_PREFIX_CHARS and (compounds or not found):  # inflected: only a stem no page has
            first, end = self._starting_with(stem)
            for word in self._terms[first : min(end, first + MAX_STARTED)]:
                rest = word[len(stem) :]
                inflected = len(rest) <= MAX_ENDING_CHARS
                # A long stem's word is also found a few letters on: "hurtigbuf" (typed with one
                # f) in "hurtigbuffer", which no correction reaches (only "hurtigbufferen" is on a page).
                inflected = inflected or (len(stem) >= LONG_STEM_CHARS and len(rest) <= MAX_LONG_ENDING_CHARS)
                if rest and (self._is_word_part(rest) and not inflected if compounds else inflected):
                    found.append(word)
        return found

    def _is_word_part(self, rest: str) -> bool:
        """Whether what follows a word at the start of an indexed stem is a word of the
        lexicon (after a linking s or e): the stem is then a compound of the word."""
        if self._lexicon is None:
            return False
        return any(
            len(part) >= MIN_PREFIX_CHARS and (part in self._lexicon.words or part in self._lexicon.stems)
            for part in (rest, rest[1:] if rest[0] in "se" else "")
        )

    def _prefixed(self, stem: str, prefix: bool) -> list[str]:
        """A stem as FTS5 terms: itself, or (matched as a prefix) the indexed stems it starts,
        spelled out while they are at most MAX_SPELLED_OUT, else the prefix query."""
        if not prefix:
            return [f'"{stem}"']
        first, end = self._starting_with(stem)
        if end - first > MAX_SPELLED_OUT:
            return [f'"{stem}"*']
        return [f'"{term}"' for term in self._terms[first:end]] or [f'"{stem}"']

    def ranked(
        self, terms: list[Term], limit: int = 10, forgiving: bool = True, partial: bool = False
    ) -> tuple[list[Hit], int]:
        """The best pages for `terms` and how many match: pages with enough of the terms
        (see the module's docstring); not `forgiving`, only pages with every term in their
        title or a heading; `partial`, a question's partial matches (`_answering`). Call
        `update()` first (Search.find does)."""
        with self._lock:
            whole, with_parts, found_by = self._expressions(terms)
            # The stems of the words as typed (a term's first phrase) and of each term's
            # phrases, to compare with titles.
            phrases = tuple(
                tuple(frozenset(self._word(word)[0][0] for word in phrase) for phrase in term.phrases) for term in terms
            )
            wanted = Wanted(frozenset().union(*(term[0] for term in phrases)), phrases)
            if forgiving:
                best, total = self._answering(terms, whole, with_parts, found_by, wanted, limit, partial)
            else:  # only pages whose title or a heading has every term
                expression = f"{{title headings}} : ({' AND '.join(whole)})"
                total, last = self._counted(expression)
                found = self._ranked(expression, last)
                best = sorted(found, key=lambda row: (match_rank(wanted, self._page(row)), found[row]))[:limit]
            if not best:
                return [], 0
            stored = dict(
                self._db.execute(
                    f"SELECT id, sections FROM pages WHERE id IN ({','.join('?' * len(best))})", best
                ).fetchall()
            )
            hits, (patterns, of_terms) = [], self._matcher(terms)
            for row in best:
                page = self.store.known(self._slugs[row])  # as indexed: update() just caught up
                if page is not None:
                    section, shown = passage(unpacked(stored[row]), patterns, terms=of_terms, title=page.title)
                    hits.append(Hit(page, "", section, shown))
            return hits, total

    def _page(self, row: int) -> Indexed:
        return self._indexed[self._slugs[row]]

    def _answering(self, terms, whole, with_parts, found_by, wanted, limit, partial=False) -> tuple[list[int], int]:
        """The rows of the pages that have enough of the terms, best first, and how many match.
        `partial`: a question's partial matches (see the module's docstring)."""
        if partial:  # each word once: repeated, inflected or glossed ("tofaktorautentisering (2FA)")
            kept = [i for i, (own, _) in enumerate(found_by) if not any(set(own) & set(o) for o, _ in found_by[:i])]
            terms, whole, with_parts, found_by = ([x[i] for i in kept] for x in (terms, whole, with_parts, found_by))
            if len(terms) < QUESTION_TERMS:  # (translations too may leave fewer than typed)
                return [], 0
        pages = max(len(self._indexed), 1)
        # How many pages have each term, about (its indexed words' counts added up; a
        # phrase's first word's)
        having = [min(sum(self._pages_having(word.split()[0]) for word in own), pages) for own, _ in found_by]
        common = max(pages * COMMON_SHARE, MIN_COMMON_PAGES)
        counted = [i for i, n in enumerate(having) if n < common] or list(range(len(terms)))
        # A term no page has is a word of another subject ("vipps", "kafé"), not one the
        # pages say otherwise (those are found by their forms, parts, synonyms, translations).
        unknown = [i for i in counted if not any(found_by[i])]
        if len(unknown) > len(counted) // UNKNOWN_SHARE and not partial:
            return [], 0
        needed = MIN_TOGETHER if partial else len(counted) - len(counted) // SPARE
        # BM25 ranks by a term's own words: a rare compound it is part of would weigh as much
        # as the term itself ("bildebehandling" for "bilder").
        exact = [
            f"({' OR '.join(map(_quoted, own or compounds))})" if own or compounds else ""
            for own, compounds in found_by
        ]
        if len(terms) >= QUESTION_TERMS:  # a question's words, not the compounds made of them
            exact = [
                f"({' OR '.join(map(_quoted, whole_own or own or compounds))})" if own or compounds else ""
                for own, compounds in found_by
                for whole_own in [[w for w in own if not w.startswith(" " + PART)]]
            ]
        if sum(having) <= MAX_RANKED:
            expression = " OR ".join(filter(None, exact))
        else:  # a page with none of the rarest terms lacks too many: only pages with one of them
            rarest = sorted(counted, key=having.__getitem__)[: len(counted) - needed + 1]
            expression = " OR ".join(filter(None, (exact[i] for i in rarest)))
        if not expression:
            return [], 0
        count, last = self._counted(expression)
        weights = [bm25.idf(pages, n) for n in having]
        shape = (found_by, counted, needed, weights, wanted)
        if len(terms) <= SHORT:
            # Pages whose title or headings have the word rank first whatever their BM25: when
            # they are enough, the whole index's BM25 is not needed (the longest statement).
            keyed = self._ranked(f"({' AND '.join(whole)})", None, "keys")
            ranked = self._ordered(list(keyed)[:CHECKED], keyed, True, shape)
            if len(ranked) < limit:
                scores = self._ranked(expression, last)
                checked = list(scores)[:CHECKED] + [row for row in keyed if row not in scores][:CHECKED]
                ranked = self._ordered(checked, scores, True, shape)
        else:
            scores = self._ranked(expression, last)
            ranked = self._ordered(list(scores)[:CHECKED], scores, False, shape)
            # A weak match is no answer: the best page's BM25 against what the query's words
            # weigh (their IDF added up, as FTS5 has it) is low when it has them only once in
            # passing, or only the commoner ones. (A handful of pages says little of what
            # words weigh: not there.)
            weight = sum(max(math.log((pages - n + 0.5) / (n + 0.5)), MIN_IDF) for n in having)
            if (
                ranked
                and not partial
                and pages >= MIN_COMMON_PAGES
                and -scores.get(ranked[0], 0.0) < MIN_STRENGTH * weight
            ):
                return [], 0
        if not ranked:
            return [], 0
        # Counted: the pages with every term (as far as MAX_RANKED: then "at least"), or the
        # pages found here when they are more.
        total = count if len(terms) == 1 else self._counted(" AND ".join(with_parts))[0]
        return ranked[:limit], total if total >= MAX_RANKED else max(total, len(ranked))

    def _ordered(self, rows: list[int], scores: dict[int, float], short: bool, shape) -> list[int]:
        """Those of `rows` that have enough of the terms, best first (see the module's docstring)."""
        found_by, counted, needed, weights, wanted = shape
        worst = max(scores.values(), default=0.0)
        ranked = []
        loaded = self._columns(rows)
        together = {}
        if len(found_by) >= QUESTION_TERMS:
            scores, together = self._plain_bm25(loaded, found_by)
        for row, columns in loaded:
            where = [
                tuple(any(word in column for word in own + compounds) for column in columns)
                for own, compounds in found_by
            ]
            if sum(any(where[i]) for i in counted) < needed or together.get(row, MIN_TOGETHER) < MIN_TOGETHER:
                continue
            rank = match_rank(wanted, self._page(row))
            score = scores.get(row, worst)
            if len(found_by) >= QUESTION_TERMS:  # BM25 alone (a title that is the query first)
                ranked.append(((rank > 0, score), row))
            elif short:
                # Every counted term in the title, in the title and headings, anywhere.
                tier = next((t for t in range(3) if all(any(where[i][: t + 1]) for i in counted)), 3)
                ranked.append(((rank, tier, score), row))
            else:
                share = sum(w for w, found in zip(weights, where, strict=True) if any(found)) / sum(weights)
                ranked.append(((rank > 0, score * share * TITLE_BOOST.get(int(rank), 1.0)), row))
        return [row for _, row in sorted(ranked)]

    def _plain_bm25(self, loaded, found_by) -> tuple[dict[int, float], dict[int, int]]:
        """The loaded rows' plain BM25 (app/search/bm25.py) over each term's own words, and
        how many of the terms each row has together (app/search/proximity.py)."""
        pages = max(len(self._indexed), 1)
        terms = []
        for own, compounds in found_by:
            words = [word for word in own if not word.startswith(" " + PART)] or own or compounds
            having = min(sum(self._pages_having(word.split()[0]) for word in words), pages)
            terms.append((words, bm25.idf(pages, having)))
        scores = bm25.scores(loaded, terms, self._lengths / pages)
        # Raised for the words standing together (app/search/proximity.py): a term is in a
        # title or heading by any of its words, parts too ("skjerm" in "Skjermbilder"); in
        # the body by its words and the compounds of it, which stand in their places (a
        # compound's parts are listed after a column's words).
        found = [own + compounds for own, compounds in found_by]
        placed = [[word for word in words if not word.startswith(" " + PART)] for words in found]
        together = {row: proximity.together(columns, found, placed) for row, columns in loaded}
        near = {row: scores[row] * (1 + proximity.WEIGHT * together[row] / len(placed)) for row, _ in loaded}
        return near, together

    def _columns(self, rows: list[int]):
        """Each row with its indexed columns (title, headings, body), each as " word word "."""
        if not rows:
            return []
        stored = dict(
            self._db.execute(f"SELECT id, indexed FROM pages WHERE id IN ({','.join('?' * len(rows))})", rows)
        )
        return [(row, [f" {column} " for column in json.loads(zlib.decompress(stored[row]))]) for row in rows]

    def _counted(self, expression: str, table: str = "fts") -> tuple[int, int | None]:
        """How many rows match, as far as MAX_RANKED, and the last of the first MAX_RANKED
        (None when fewer match): what a tier's ranking is bounded by."""
        count, last = self._db.execute(
            f"SELECT count(*), max(rowid) FROM (SELECT rowid FROM {table} WHERE {table} MATCH ? "
            "ORDER BY rowid LIMIT ?)",
            (expression, MAX_RANKED),
        ).fetchone()
        return count, last if count >= MAX_RANKED else None

    def _ranked(self, expression: str, last: int | None, table: str = "fts") -> dict[int, float]:
        """The CANDIDATES best rows by BM25 (as far as row `last`), best first: row -> BM25
        (negative: the lower, the better)."""
        weights = WEIGHTS if table == "fts" else WEIGHTS[:2]
        return dict(
            self._db.execute(
                f"SELECT rowid, bm25({table}, {', '.join('?' * len(weights))}) FROM {table} "
                f"WHERE {table} MATCH ? AND rowid <= ? ORDER BY 2 LIMIT ?",
                (*weights, expression, self._next_id if last is None else last, CANDIDATES),
            ).fetchall()
        )

    def _matcher(self, terms: list[Term]) -> tuple[list[re.Pattern], list[frozenset[int]]]:
        """Patterns for the words of a page that match the terms, to mark them: words that
        start with a stem the search used or with a word as typed (an English stem is not
        always a word's start: "happi"), short ones whole. C scans of each section instead
        of stemming each word took passages from a third of a search's time to a tenth.

        One pattern for each word of the query: compiling one for the whole query took 0.1 to
        0.6 ms, for each new query; a word's pattern is compiled once and kept in `re`'s cache.
        They match lower-case text and have no leading `\\b`: a pattern that starts with its
        words' letters lets `re` skip to where one of them starts, which halved a long
        section's scan. `passage` keeps the matches that start a word. And each one's terms."""
        patterns, words = [], {}
        for at, term in enumerate(terms):
            for word in {word for phrase in term.phrases for word in phrase}:
                words.setdefault(word, set()).add(at)
        for word in sorted(words):
            forms, compounds = self._word(word)
            # Any order marks the same (each alternative matches to the end of a word); a fixed
            # one makes the same word the same pattern, found in `re`'s cache.
            stems = sorted({*forms, *compounds, word})
            patterns.append(
                re.compile(
                    "|".join(re.escape(stem) + (r"\w*" if len(stem) >= MIN_PREFIX_CHARS else r"\b") for stem in stems)
                )
            )
        return patterns, [frozenset(words[word]) for word in sorted(words)]
