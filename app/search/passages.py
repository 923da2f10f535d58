"""What a search result shows of a page: the section that matches best, and a passage of it
with the matching words marked; and the sections as the index keeps them for that."""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from itertools import islice

from app.content.sections import Section
from app.search.query import WORD

MAX_ATTACHED = 3  # characters of punctuation a passage keeps with its first and last words
MAX_BETWEEN = 200  # characters a passage shows between two words (a page may hold a long run of "!")


def packed(parts: list[Section]) -> bytes:
    """A page's sections as the index keeps them for passages: JSON, compressed. Their text
    is most of the index (13 MB of 33 at 10,000 pages); compressed it takes a third, and
    reading a hit's back costs microseconds."""
    return zlib.compress(json.dumps([(s.anchor, s.heading, s.text) for s in parts]).encode(), 6)


def unpacked(stored: bytes) -> list[Section]:
    return [Section(*s) for s in json.loads(zlib.decompress(stored))]


def passage(parts: list[Section], patterns: list[re.Pattern], before=8, length=30, terms=None, title=""):
    """The section that has the most of the query's terms (a heading with more of them first,
    then the first section: a page's lead before its list of sources) and about `length` of
    its words around its first match, matches marked. `terms`: the terms each pattern stands
    for (by default, a term each): a word matched in several forms, or by its synonyms and
    translations, counts once, so that "adapter" and "adaptere" in passing do not outweigh
    a heading "Adapter" (the most distinct words matched chose the section before). The
    page's lead, the section before its first heading, has the page's `title` for one."""
    if not parts:
        return None, ()
    terms = terms or [frozenset({i}) for i in range(len(patterns))]
    # Each section is scanned with its heading (once for each word's pattern): the terms
    # matched choose the section, and where matches start in its text mark it (a second
    # scan of the chosen section's text took a tenth to a sixth of the passages' time).
    headings = [s.heading or ("" if s.anchor else title) for s in parts]
    found = [_word_matches(f"{h} {s.text}", patterns, -len(h) - 1) for h, s in zip(headings, parts, strict=True)]
    scores = [
        (
            len(frozenset().union(*(terms[i] for _, i in matches))),
            len(frozenset().union(*(terms[i] for start, i in matches if start < 0))),  # in its heading
        )
        for matches in found
    ]
    best = scores.index(max(scores))
    section = parts[best]
    starts = {start for start, _ in found[best] if start >= 0}
    return (section if section.anchor else None), _marked(section.text, starts, before, length)


def _word_matches(text: str, patterns: list[re.Pattern], offset: int) -> list[tuple[int, int]]:
    """Where `patterns` match at the start of a word of `text` (plus `offset`), and which of them."""
    if not patterns:
        return []
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" alone lowers to two characters
        lowered = text.replace("\u0130", "i").lower()
    return [
        (m.start() + offset, i)
        for i, pattern in enumerate(patterns)
        for m in pattern.finditer(lowered)
        if not m.start() or not WORD.match(lowered, m.start() - 1)
    ]  # not inside a word


def _attached(text: str, at: int, step: int) -> int:
    """Where the quotes, brackets and stops attached to a word end (`step` 1) or start (-1),
    from `at`, its end or start: «IP», (ledetekst)."""
    for _ in range(MAX_ATTACHED):
        ahead = at if step > 0 else at - 1
        if not 0 <= ahead < len(text) or unicodedata.category(text[ahead])[0] not in "PS":
            break  # a word, a space, a control character: only punctuation and symbols go along
        at += step
    return at


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
    runs, position = [], _attached(text, words[0].start(), -1)
    for word in words:
        if word.start() in matches:
            runs.append((text[position : word.start()], False))
            runs.append((word.group(), True))
            position = word.end()
    runs.append((text[position : _attached(text, words[-1].end(), 1)], False))
    runs[0] = (("… " if len(ahead) > before else "") + runs[0][0], False)
    runs[-1] = (runs[-1][0] + (" …" if more else ""), False)
    return tuple(
        ((t if hit or len(t) <= MAX_BETWEEN else t[:MAX_BETWEEN] + " …").replace("\n", " "), hit)
        for t, hit in runs
        if t
    )
