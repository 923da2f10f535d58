"""What the readers' database holds, as SQLAlchemy models: votes, comments and the daily
salts of reader hashes (feedback); page views, searches with their readers, dead links, old
links that arrived by an alias and unknown context keys (insights). The schema is kept by
Alembic migrations in app/migrations/."""

from __future__ import annotations

from datetime import date, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Boolean, Date, DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


db = SQLAlchemy()


class Vote(db.Model):
    """One reader's answer to "Var denne siden nyttig?" for one page on one day.

    `reader` is a hash of the day's salt, the client's network, the page and one of
    FEEDBACK_VOTES_PER_ADDRESS seats (chosen by the user agent): it tells readers behind one
    address apart that far and no further, and names nobody once the salt is deleted.
    """

    __tablename__ = "feedback_votes"
    __table_args__ = (UniqueConstraint("day", "reader", name="one_vote_per_reader_page_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    reader: Mapped[str] = mapped_column(String(64))
    slug: Mapped[str] = mapped_column(String(100), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    helpful: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(String(200), default="")  # comma-separated REASONS codes
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Comment(db.Model):
    """What a reader wrote about a page: kept apart from the votes, so that no later post
    (another reader's behind the same address, say) replaces it; deleted after
    FEEDBACK_RETENTION_DAYS. Nothing in it says who wrote it."""

    __tablename__ = "feedback_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    slug: Mapped[str] = mapped_column(String(100), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DailySalt(db.Model):
    """The random salt of one day's reader hashes, shared by every worker and replica; deleted
    once its day is over, so that no hash can be tied to an address afterwards."""

    __tablename__ = "feedback_salts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))


class PageViews(db.Model):
    """How often a help page was shown in one language on one day."""

    __tablename__ = "insights_page_views"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    views: Mapped[int] = mapped_column(Integer)


class SearchCount(db.Model):
    """One query (normalized, personal data redacted) in one language on one day.

    `readers` counts the different readers who sent it that day (rows of SearchReader);
    authors see a query only from INSIGHTS_MIN_CLIENTS of them. Once its day is over, a
    query below that is folded into the day's row with the empty query, and its readers
    are deleted.
    """

    __tablename__ = "insights_searches"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    query: Mapped[str] = mapped_column(String(200), primary_key=True)  # "": the day's folded rare queries
    searches: Mapped[int] = mapped_column(Integer)
    no_results: Mapped[int] = mapped_column(Integer)  # how many of them found nothing
    results: Mapped[int] = mapped_column(Integer)  # what the latest one found
    corrected: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the latest one's correction
    readers: Mapped[int] = mapped_column(Integer)


class SearchReader(db.Model):
    """One reader who sent one query on one day: a hash of the day's salt, the client and the
    query, which names nobody once the salt is gone (and is itself deleted after its day)."""

    __tablename__ = "insights_search_readers"
    __table_args__ = (Index("ix_insights_search_readers_query", "day", "lang", "query"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reader: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    query: Mapped[str] = mapped_column(String(200))


class DeadLink(db.Model):
    """Requests for a help page that does not exist, per day and referring host ("" for none),
    with the first page the 404 page suggested ("" for none). At most
    INSIGHTS_DEAD_LINKS_PER_DAY slugs a day, and MAX_REFERRERS hosts a slug; the requests
    beyond them are counted under the slug OTHER_SLUGS and the host OTHER_HOSTS."""

    __tablename__ = "insights_dead_links"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    referrer: Mapped[str] = mapped_column(String(253), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
    suggestion: Mapped[str] = mapped_column(String(100))


class AliasHits(db.Model):
    """Requests that arrived by an old slug (an alias a page names) on one day, and the page
    it led to: how often old links are still followed. Only aliases the pages name are
    counted, so a day has at most as many rows as there are aliases."""

    __tablename__ = "insights_alias_hits"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    alias: Mapped[str] = mapped_column(String(100), primary_key=True)
    page: Mapped[str] = mapped_column(String(100), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)


class DeadContext(db.Model):
    """Requests for `/go/<context>` that no page names, per day and the app's platform and
    version as it said them ("" when it did not). At most INSIGHTS_DEAD_LINKS_PER_DAY keys
    a day and MAX_REFERRERS platforms and versions a key; the requests beyond them are
    counted under the key OTHER_SLUGS, or the platform and version OTHER_HOSTS. Nothing
    says who asked."""

    __tablename__ = "insights_dead_contexts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    context: Mapped[str] = mapped_column(String(100), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    app_version: Mapped[str] = mapped_column(String(24), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)


# What stands for the requests beyond a day's limit of dead links: no slug or host can be it.
OTHER_SLUGS = "*"


OTHER_HOSTS = "*"
