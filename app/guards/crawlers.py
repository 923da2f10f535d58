"""Requests no reader made, which insights do not count: a crawler's (a search engine, a
link preview, a monitor), known by its User-Agent header, and a page fetched ahead in case
the reader goes there (`Sec-Purpose: prefetch`, `Purpose: prefetch`, `X-Moz: prefetch`,
Safari's `X-Purpose: preview`). The header is read, never kept; nothing but counting
depends on it, so a client that lies about it changes nothing but whether it is counted.

The crawlers are those of crawler-user-agents (its own licence, MIT, ships with it), about
1,500 patterns matched as one RE2 expression, but for the few that real readers' programs
match (READERS_PROGRAMS). Python's `re` took 175-240 µs for a phone
browser's header (the package's own `is_crawler`, in chunks of 25), one expression of them
all 520-690 µs; RE2 takes 2-3 µs (measured on this project's machine, 2026-12-08). It is
asked for a view until the reader's first of a page in a day, and for a search or a
missing page; on the first MAX_AGENT_CHARS of the header only: a header made of pieces of
the patterns, 64,000 characters long, ran RE2 out of its memory and took 0.3-0.7 s (a
review), and real ones are 100-400 characters.
"""

from __future__ import annotations

import re2
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

# Headers that say a request fetches ahead of the reader, and the words they say it with.
_AHEAD = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_MOZ", "HTTP_X_PURPOSE")
_AHEAD_WORDS = ("prefetch", "prerender", "preview")
MAX_AGENT_CHARS = 512
# Patterns of the list that real readers' programs match, which are counted: an in-app
# browser (Viber's), apps that show a page to the person using them (Tumblr, Notion, Pocket
# Casts, VS Code, Fluid, Slack's desktop app, whose header says "Sonic"), a page read aloud
# at a user's asking (Google Read Aloud), and OkHttp, with which an Android app calls the
# API. Found by a review of the list against real readers' headers.
READERS_PROGRAMS = frozenset(
    {
        "Viber",
        "Tumblr\\/",
        "Notion\\/",
        "PocketCasts\\/",
        "Code\\/1\\.",
        "Fluid",
        "Sonic",
        "Google-Read-Aloud",
        "okhttp",
    }
)


def _crawlers():
    options = re2.Options()
    options.max_mem = 32 << 20  # RE2 keeps its automaton within this, whatever the header
    patterns = [entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA]
    return re2.compile("|".join(pattern for pattern in patterns if pattern not in READERS_PROGRAMS), options)


CRAWLER = _crawlers()


def fetched_ahead(environ: dict) -> bool:
    """Whether the request fetches a page ahead of the reader (who may never open it)."""
    for header in _AHEAD:
        value = environ.get(header)
        if value and any(word in value.lower() for word in _AHEAD_WORDS):
            return True
    return False


def by_a_reader(environ: dict) -> bool:
    """Whether a reader made the request: no crawler, nothing fetched ahead."""
    agent = (environ.get("HTTP_USER_AGENT") or "")[:MAX_AGENT_CHARS]
    return not fetched_ahead(environ) and CRAWLER.search(agent) is None
