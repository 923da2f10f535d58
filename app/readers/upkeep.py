"""The authors' list of pages (`/innsikt#forfattere`): every page with its owner, the day it is
due a review, where its translation stands, its views and share of "Nei" in the period and
the day it last changed, in the order of any column; and the pages past their review date.

What a page says of itself comes from its front matter and text (`owner:`, `review_by:`,
`updated:`, `translated_from:`), never from a file's time, which a checkout sets. The
figures are summed by the database, one grouped query for views and one for votes.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select

from app.content.library import get_library
from app.content.page import Page
from app.content.translations import STATES, drift
from app.languages import CODES, DEFAULT_LANGUAGE
from app.readers.models import PageViews, Vote
from app.readers.summaries import rows, span

# The columns, by the names `sorter=` gives them, each with what it sorts by (None: last).
COLUMNS = {
    "side": lambda entry: entry["title"].casefold(),
    "eier": lambda entry: entry["owner"].casefold() or None,
    "gjennomgang": lambda entry: entry["review_by"],
    "oversettelse": lambda entry: STATES.index(entry["translation"]) if entry["translation"] else None,
    "visninger": lambda entry: entry["views"],
    "nei": lambda entry: entry["no_share"],
    "endret": lambda entry: entry["last_changed"],
}
DEFAULT_SORT = "gjennomgang"  # the review due soonest (or longest past) first
# Columns whose first click sorts the most first: a header links to the other direction once sorted.
MOST_FIRST = frozenset({"visninger", "nei"})


def is_sort(value: str) -> bool:
    """Whether `value` names a column, with `-` before it for the other direction."""
    return value.removeprefix("-") in COLUMNS


def next_sort(column: str, current: str) -> str:
    """What the header of `column` links to while the list is in `current` order."""
    natural = f"-{column}" if column in MOST_FIRST else column
    return ("-" + column if current == column else column) if current.removeprefix("-") == column else natural


def pages_list(days: int, sort: str = DEFAULT_SORT, today: date | None = None) -> dict:
    """Every page readers are shown (and drafts, in preview) for the authors, in `sort` order
    (a column of COLUMNS, `-` before it for the other direction); the pages past their
    `review_by:` in `due`, longest past first."""
    first, today = span(days, today)
    library = get_library()
    editions = {code: {page.slug: page for page in store.pages()} for code, store in library.stores.items()}
    in_period = PageViews.day.between(first, today)
    views = dict(rows(select(PageViews.slug, func.sum(PageViews.views)).where(in_period).group_by(PageViews.slug)))
    yes, votes = func.sum(case((Vote.helpful, 1), else_=0)), func.count()
    tallies = {
        slug: (int(yes_votes), all_votes)
        for slug, yes_votes, all_votes in rows(
            select(Vote.slug, yes, votes).where(Vote.day.between(first, today)).group_by(Vote.slug)
        )
    }
    entries = []
    for slug in sorted({slug for pages in editions.values() for slug in pages}):
        pages = [editions[code][slug] for code in CODES if slug in editions[code]]
        original = editions[DEFAULT_LANGUAGE].get(slug)
        yes_votes, all_votes = tallies.get(slug, (0, 0))
        review_by = min((page.review_by for page in pages if page.review_by), default=None)
        entries.append(
            {
                "slug": slug,
                "title": (original or pages[0]).title,
                "owner": next((page.owner for page in pages if page.owner), ""),
                "review_by": review_by,
                "due": review_by is not None and review_by < today,
                "translation": translation_state(original, editions, slug),
                "views": int(views.get(slug) or 0),
                "votes": all_votes,
                "no_share": (all_votes - yes_votes) / all_votes if all_votes else None,
                "last_changed": max((page.updated.date() for page in pages if page.updated), default=None),
                "draft": any(page.draft for page in pages),
            }
        )
    ordered = in_order(entries, sort)
    for entry in entries:  # dates as the JSON and the page write them
        for key in ("review_by", "last_changed"):
            entry[key] = entry[key].isoformat() if entry[key] else None
    return {
        "days": days,
        "from": first.isoformat(),
        "to": today.isoformat(),
        "today": today.isoformat(),
        "sort": sort,
        "pages": ordered,
        "due": sorted((entry for entry in entries if entry["due"]), key=lambda entry: entry["review_by"]),
    }


def translation_state(original: Page | None, editions: dict[str, dict[str, Page]], slug: str) -> str | None:
    """Where the page's translations stand, the one most in need of a translator first; None
    for a page with no original in the default language."""
    states = [drift(original, editions[code].get(slug)) for code in CODES if code != DEFAULT_LANGUAGE]
    found = [state for state in states if state]
    return min(found, key=STATES.index) if found else None


def in_order(entries: list[dict], sort: str) -> list[dict]:
    """`entries` by the column `sort` names (by title within it), `-` for the other way; the
    entries without a value for it last either way."""
    column = sort.removeprefix("-")
    key = COLUMNS[column]
    by_title = sorted(entries, key=lambda entry: (entry["title"].casefold(), entry["slug"]))
    having = [entry for entry in by_title if key(entry) is not None]
    lacking = [entry for entry in by_title if key(entry) is None]
    return sorted(having, key=key, reverse=sort.startswith("-")) + lacking
