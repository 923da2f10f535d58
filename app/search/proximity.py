"""How near each other a question's words stand on a page: how many of its terms are found
within WINDOW words of each other (in the title or a heading, a term is near every other).
Their share raises a question's BM25 (app/search/ranking.py) for a page that answers it in
one sentence over one that has its words scattered in passing, and a page with no two of
them together is no answer (ranking.MIN_TOGETHER).

Measured on both quality sets (bench/outside.py): outside questions 90 -> 92 % at top-3
with a window of 12 words and the share weighing half (91-92 % with windows of 10 to 30
words, 90 % at 5; the same with a weight of a quarter or a whole); every other kind on both
sets the same. This is Tao and Zhai's finding ("An exploration of proximity measures in
information retrieval", SIGIR 2007) in its simplest form: a span of the query's words."""

from __future__ import annotations

from collections.abc import Sequence

WINDOW = 12  # words: about a sentence
WEIGHT = 0.5  # a page with every term within one window scores half as much again
MAX_PLACES = 64  # places of a word read on a page (a common word may be on it hundreds of times)


def together(columns: Sequence[str], terms: list[list[str]], placed: list[list[str]] | None = None) -> int:
    """How many of `terms` (each the indexed words that find it, as " word ") a page's title
    and headings have, with the most of the others that stand in its body within WINDOW
    words together. `placed`: each term's words that stand in their places in the body (a
    compound's parts are listed after a column's words), when not all of them do.

    Where a word is is found with str.find (in C) and its place in words by counting the
    spaces before it, not by splitting the body: only the matches cost Python time."""
    title, headings, body = columns
    everywhere = {i for i, words in enumerate(terms) if any(w in title or w in headings for w in words)}
    found: list[tuple[int, int]] = []  # (character, term)
    for i, words in enumerate(placed or terms):
        if i in everywhere:
            continue
        for word in words:
            at, seen = body.find(word), 0
            while at >= 0 and seen < MAX_PLACES:
                found.append((at, i))
                at, seen = body.find(word, at + 1), seen + 1
    found.sort()
    places, words_before, last = [], 0, 0
    for at, i in found:
        words_before += body.count(" ", last, at)
        last = at
        places.append((words_before, i))
    best, start, counts = 0, 0, {}
    for place, i in places:  # a window sliding over the matches, in order
        counts[i] = counts.get(i, 0) + 1
        while place - places[start][0] > WINDOW:
            gone = places[start][1]
            counts[gone] -= 1
            if not counts[gone]:
                del counts[gone]
            start += 1
        best = max(best, len(counts))
    return len(everywhere) + best
