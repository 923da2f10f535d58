"""A worker's counts waiting to be written (a `Batch`), bounded in memory, and how they are
added to the database's counts within the day's limits (`CountWriter`): at most
INSIGHTS_DEAD_LINKS_PER_DAY slugs (MAX_REFERRERS hosts each), as many unknown context keys
(MAX_REFERRERS platforms and app versions each) and INSIGHTS_SEARCHES_PER_DAY queries a
day, the rest counted together. Alias hits need no limit of their own: only the aliases the
pages name are counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from prometheus_client import Counter as Metric
from sqlalchemy import func, select, text, update

from app.readers.database import dialect_insert
from app.readers.identity import reader_hash
from app.readers.models import (
    OTHER_HOSTS,
    OTHER_SLUGS,
    AliasHits,
    DeadContext,
    DeadLink,
    PageViews,
    SearchCount,
    SearchReader,
)

# Different keys of one kind (page views, searches, dead links) waiting in a worker at most.
MAX_KEYS = 5000
# Referring hosts kept per dead link and day; requests from others count under OTHER_HOSTS.
MAX_REFERRERS = 5

DROPPED = Metric("help_insights_dropped", "Counts for insights dropped: too many different keys waiting", ["kind"])


@dataclass
class Searched:
    """One query's searches in a batch."""

    searches: int = 0
    no_results: int = 0
    results: int = 0
    corrected: str | None = None
    clients: set[bytes] = field(default_factory=set)  # unsalted in memory, until the flush


@dataclass
class Batch:
    """Counts waiting to be written."""

    views: Counter = field(default_factory=Counter)  # (day, slug, lang) -> views
    searches: dict[tuple[date, str, str], Searched] = field(default_factory=dict)
    dead_links: Counter = field(default_factory=Counter)  # (day, slug, referrer) -> requests
    suggestions: dict[tuple[date, str, str], str] = field(default_factory=dict)
    alias_hits: Counter = field(default_factory=Counter)  # (day, alias, page) -> requests
    dead_contexts: Counter = field(default_factory=Counter)  # (day, key, platform, app version) -> requests

    def __bool__(self) -> bool:
        return bool(self.views or self.searches or self.dead_links or self.alias_hits or self.dead_contexts)

    def merge(self, later: Batch, min_clients: int) -> None:
        """Add `later` (counted after this one) to this batch, within MAX_KEYS of each kind."""
        for key, views in later.views.items():
            add_count(self.views, key, views, "views")
        for key, dead in later.dead_links.items():
            if add_count(self.dead_links, key, dead, "dead_links"):
                self.suggestions[key] = later.suggestions[key]
        for key, hits in later.alias_hits.items():
            add_count(self.alias_hits, key, hits, "alias_hits")
        for key, dead in later.dead_contexts.items():
            add_count(self.dead_contexts, key, dead, "dead_contexts")
        for key, searched in later.searches.items():
            mine = self.searched(key, searched.searches)
            if mine is None:
                continue
            mine.searches += searched.searches
            mine.no_results += searched.no_results
            mine.results, mine.corrected = searched.results, searched.corrected
            others = [client for client in searched.clients if client not in mine.clients]
            mine.clients.update(others[: max(min_clients - len(mine.clients), 0)])

    def searched(self, key: tuple[date, str, str], searches: int = 1) -> Searched | None:
        """The counts of one query, new if need be; None (and `searches` dropped) past MAX_KEYS queries."""
        found = self.searches.get(key)
        if found is None:
            if len(self.searches) >= MAX_KEYS:
                DROPPED.labels("searches").inc(searches)
                return None
            found = self.searches[key] = Searched()
        return found


def add_count(counts: Counter, key, amount: int, kind: str) -> bool:
    """Add to one key's count; False (and `amount` dropped) past MAX_KEYS keys."""
    if key not in counts and len(counts) >= MAX_KEYS:
        DROPPED.labels(kind).inc(amount)
        return False
    counts[key] += amount
    return True


class CountWriter:
    """Adds a Batch to the database's counts, within the day's limits."""

    def __init__(self, min_clients: int, dead_links_per_day: int, searches_per_day: int):
        self.min_clients = min_clients
        self.dead_links_per_day = dead_links_per_day
        self.searches_per_day = searches_per_day

    def write(self, connection, batch: Batch, salts: dict[date, bytes]) -> None:
        """Add `batch` to the database's counts, in the caller's transaction."""
        insert = dialect_insert(connection.dialect.name)
        if batch.views:
            statement = insert(PageViews.__table__)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["day", "slug", "lang"], set_={"views": PageViews.views + statement.excluded.views}
                ),
                [
                    {"day": day, "slug": slug, "lang": lang, "views": views}
                    for (day, slug, lang), views in batch.views.items()
                ],
            )
        if batch.dead_links:
            self._write_dead_links(connection, insert, batch)
        if batch.alias_hits:
            statement = insert(AliasHits.__table__)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["day", "alias", "page"],
                    set_={"requests": AliasHits.requests + statement.excluded.requests},
                ),
                [
                    {"day": day, "alias": alias, "page": page, "requests": requests}
                    for (day, alias, page), requests in batch.alias_hits.items()
                ],
            )
        if batch.dead_contexts:
            self._write_dead_contexts(connection, insert, batch.dead_contexts)
        if batch.searches:
            self._write_searches(connection, insert, batch.searches, salts)

    def _within_the_days_limit(
        self, connection, searches: dict[tuple[date, str, str], Searched]
    ) -> dict[tuple[date, str, str], Searched]:
        """The batch's searches with those of queries beyond the day's first
        `searches_per_day` added to the day's folded row (query "", with no readers)."""
        if connection.dialect.name == "postgresql":
            # Replicas write at once: one at a time here, so that the day's count stays true.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('insights_searches'))"))
        kept: dict[tuple[date, str, str], Searched] = {}
        for day in {day for day, _, _ in searches}:
            known = set(
                connection.execute(
                    select(SearchCount.lang, SearchCount.query).where(SearchCount.day == day, SearchCount.query != "")
                )
            )
            for (when, lang, query), searched in searches.items():
                if when != day:
                    continue
                if query and (lang, query) not in known and len(known) >= self.searches_per_day:
                    query, searched = "", Searched(searched.searches, searched.no_results)  # its text is not kept
                if query:  # the day's others take no place among its queries
                    known.add((lang, query))
                mine = kept.setdefault((day, lang, query), Searched())
                mine.searches += searched.searches
                mine.no_results += searched.no_results
                mine.results, mine.corrected = searched.results, searched.corrected
                mine.clients |= searched.clients
        return kept

    def _write_dead_links(self, connection, insert, batch: Batch) -> None:
        """Add the batch's dead links, within the day's limits: a slug beyond the day's first
        `dead_links_per_day`, or a host beyond a slug's first MAX_REFERRERS, is counted
        under OTHER_SLUGS or OTHER_HOSTS."""
        if connection.dialect.name == "postgresql":
            # Replicas write at once: one at a time here, so that the day's count stays true.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('insights_dead_links'))"))
        rows: Counter = Counter()
        suggestions = {}
        for day in {day for day, _, _ in batch.dead_links}:
            known = set(connection.execute(select(DeadLink.slug, DeadLink.referrer).where(DeadLink.day == day)))
            slugs = {slug for slug, _ in known} - {OTHER_SLUGS}
            hosts = Counter(slug for slug, referrer in known if referrer != OTHER_HOSTS)
            for (when, slug, referrer), requests in batch.dead_links.items():
                if when != day:
                    continue
                suggestion = batch.suggestions[when, slug, referrer]
                if slug != OTHER_SLUGS and slug not in slugs:
                    if len(slugs) >= self.dead_links_per_day:
                        slug, referrer, suggestion = OTHER_SLUGS, "", ""
                    else:
                        slugs.add(slug)
                if slug != OTHER_SLUGS and (slug, referrer) not in known:
                    if hosts[slug] >= MAX_REFERRERS:
                        referrer = OTHER_HOSTS
                    else:
                        hosts[slug] += 1
                        known.add((slug, referrer))
                rows[day, slug, referrer] += requests
                suggestions[day, slug, referrer] = suggestion
        statement = insert(DeadLink.__table__)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["day", "slug", "referrer"],
                set_={
                    "requests": DeadLink.requests + statement.excluded.requests,
                    "suggestion": statement.excluded.suggestion,
                },
            ),
            [
                {
                    "day": day,
                    "slug": slug,
                    "referrer": referrer,
                    "requests": requests,
                    "suggestion": suggestions[day, slug, referrer],
                }
                for (day, slug, referrer), requests in rows.items()
            ],
        )

    def _write_dead_contexts(self, connection, insert, dead: Counter) -> None:
        """Add the batch's unknown context keys, within the day's limits: a key beyond the day's
        first `dead_links_per_day`, or a platform and app version beyond a key's first
        MAX_REFERRERS, is counted under OTHER_SLUGS or OTHER_HOSTS."""
        if connection.dialect.name == "postgresql":
            # Replicas write at once: one at a time here, so that the day's count stays true.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('insights_dead_contexts'))"))
        rows: Counter = Counter()
        for day in {day for day, *_ in dead}:
            known = set(
                connection.execute(
                    select(DeadContext.context, DeadContext.platform, DeadContext.app_version).where(
                        DeadContext.day == day
                    )
                )
            )
            keys = {key for key, _, _ in known} - {OTHER_SLUGS}
            apps = Counter(key for key, platform, _ in known if platform != OTHER_HOSTS)
            for (when, key, platform, version), requests in dead.items():
                if when != day:
                    continue
                if key != OTHER_SLUGS and key not in keys:
                    if len(keys) >= self.dead_links_per_day:
                        key, platform, version = OTHER_SLUGS, "", ""
                    else:
                        keys.add(key)
                if key != OTHER_SLUGS and (key, platform, version) not in known:
                    if apps[key] >= MAX_REFERRERS:
                        platform, version = OTHER_HOSTS, OTHER_HOSTS
                    else:
                        apps[key] += 1
                        known.add((key, platform, version))
                rows[day, key, platform, version] += requests
        statement = insert(DeadContext.__table__)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["day", "context", "platform", "app_version"],
                set_={"requests": DeadContext.requests + statement.excluded.requests},
            ),
            [
                {"day": day, "context": key, "platform": platform, "app_version": version, "requests": requests}
                for (day, key, platform, version), requests in rows.items()
            ],
        )

    def _write_searches(
        self, connection, insert, searches: dict[tuple[date, str, str], Searched], salts: dict[date, bytes]
    ) -> None:
        searches = self._within_the_days_limit(connection, searches)
        statement = insert(SearchCount.__table__)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["day", "lang", "query"],
                set_={
                    "searches": SearchCount.searches + statement.excluded.searches,
                    "no_results": SearchCount.no_results + statement.excluded.no_results,
                    "results": statement.excluded.results,
                    "corrected": statement.excluded.corrected,
                },
            ),
            [
                {
                    "day": day,
                    "lang": lang,
                    "query": query,
                    "searches": s.searches,
                    "no_results": s.no_results,
                    "results": s.results,
                    "corrected": s.corrected,
                    "readers": 0,
                }
                for (day, lang, query), s in searches.items()
            ],
        )
        readers = [
            {"day": day, "lang": lang, "query": query, "reader": reader_hash(salts[day], client.hex(), lang, query)}
            for (day, lang, query), s in searches.items()
            for client in s.clients
        ]
        if readers:
            connection.execute(insert(SearchReader.__table__).on_conflict_do_nothing(), readers)
        # Each query's readers so far, for the threshold: only queries still below it are counted again.
        for day, lang, query in searches:
            counted = (
                select(func.count())
                .select_from(SearchReader)
                .where(SearchReader.day == day, SearchReader.lang == lang, SearchReader.query == query)
                .scalar_subquery()
            )
            connection.execute(
                update(SearchCount)
                .where(
                    SearchCount.day == day,
                    SearchCount.lang == lang,
                    SearchCount.query == query,
                    SearchCount.readers < self.min_clients,
                )
                .values(readers=counted)
            )
