"""What a page's title and headings are to a query: the stems the index keeps of them
(`Indexed`), what a query asks of them (`Wanted`), and how well a page's match them
(`match_rank`): a title or heading with a query's words ranks first (app/search/ranking.py)."""

from __future__ import annotations

from typing import NamedTuple

NO_PARTS: frozenset[str] = frozenset()


class Indexed(NamedTuple):
    """What the index keeps of a page beside FTS5: its version and row, the stems of its
    title's words and of each heading's (a query matching them exactly ranks first), and
    the stems of the parts of their compounds."""

    version: str
    row: int
    title: frozenset[str]
    headings: tuple[frozenset[str], ...]
    parts: frozenset[str] = NO_PARTS


class Wanted(NamedTuple):
    """What a query asks of a page's title and headings: the stems of its words as typed,
    and each term's phrases as stems (as typed, and its synonyms and translations)."""

    typed: frozenset[str]
    terms: tuple[tuple[frozenset[str], ...], ...]

    def within(self, stems: frozenset[str]) -> bool:
        """Whether `stems` have every term, in one of its phrases."""
        return all(any(phrase <= stems for phrase in term) for term in self.terms)


def match_rank(wanted: Wanted, page: Indexed) -> float:
    """How well a query's stems match a page's title and headings, best first: the title is
    the query (0), has every term as typed (1, a compound's part counts); a heading is the
    query (2), has every term (3); the title, then a heading, has every term only as a
    synonym or translation (3.25, 3.5); none of these (4). The words as typed come first:
    a heading "Ledetekst (prompt)" answers "prompt" before a title with "ledetekst"."""
    if page.title == wanted.typed:
        return 0
    title = page.title | page.parts
    if wanted.typed <= title:
        return 1
    if wanted.typed in page.headings:
        return 2
    headings = [heading | page.parts for heading in page.headings]
    if any(wanted.typed <= heading for heading in headings):
        return 3
    if wanted.within(title):
        return 3.25
    if any(wanted.within(heading) for heading in headings):
        return 3.5
    return 4
