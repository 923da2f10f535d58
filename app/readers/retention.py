"""Keeping what readers leave only as long as the settings say: comments past
FEEDBACK_RETENTION_DAYS, salts of past days, rare searches folded into their day's total
once the day is over, and insights past INSIGHTS_RETENTION_DAYS. The launcher prunes at
start and just after each midnight (UTC); `flask feedback prune` and `flask insights
prune` do it by hand."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from app.readers.database import dialect_insert
from app.readers.models import (
    AliasHits,
    Comment,
    DailySalt,
    DeadContext,
    DeadLink,
    PageViews,
    SearchCount,
    SearchReader,
    db,
)

# Pruning runs this long after midnight UTC: yesterday's salt is gone by then.
PRUNE_AFTER_MIDNIGHT_SECONDS = 60


# Held while `prune_daily` works: the launcher forks no worker meanwhile, since a worker
# forked then could inherit a lock (in SQLite, say) that no thread of its own would release.
PRUNING = threading.Lock()


def prune_feedback(today: date | None = None) -> tuple[int, int]:
    """Delete comments FEEDBACK_RETENTION_DAYS old (readers are told they are deleted after
    so many days: one of the first minute of a day is then kept that long, not a day more)
    and the salts of past days; how many of each."""
    today = today or datetime.now(UTC).date()
    cutoff = today - timedelta(days=current_app.config["FEEDBACK_RETENTION_DAYS"])
    comments = db.session.execute(delete(Comment).where(Comment.day <= cutoff)).rowcount
    salts = db.session.execute(delete(DailySalt).where(DailySalt.day < today)).rowcount
    db.session.commit()
    return comments, salts


def prune_insights(today: date | None = None) -> tuple[int, int]:
    """Fold the rare searches of past days into their day's total (their text is deleted, and
    every reader hash of past days); delete insights older than INSIGHTS_RETENTION_DAYS.
    How many searches were folded, and how many rows deleted."""
    today = today or datetime.now(UTC).date()
    config = current_app.config
    rare = (SearchCount.day < today, SearchCount.readers < config["INSIGHTS_MIN_CLIENTS"], SearchCount.query != "")
    folded = db.session.execute(
        select(
            SearchCount.day,
            SearchCount.lang,
            func.sum(SearchCount.searches),
            func.sum(SearchCount.no_results),
            func.count(),
        )
        .where(*rare)
        .group_by(SearchCount.day, SearchCount.lang)
    ).all()
    if folded:
        statement = dialect_insert(db.engine.dialect.name)(SearchCount.__table__)
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["day", "lang", "query"],
                set_={
                    "searches": SearchCount.searches + statement.excluded.searches,
                    "no_results": SearchCount.no_results + statement.excluded.no_results,
                },
            ),
            [
                {
                    "day": day,
                    "lang": lang,
                    "query": "",
                    "searches": searches,
                    "no_results": no_results,
                    "results": 0,
                    "corrected": None,
                    "readers": 0,
                }
                for day, lang, searches, no_results, _ in folded
            ],
        )
        db.session.execute(delete(SearchCount).where(*rare))
    db.session.execute(delete(SearchReader).where(SearchReader.day < today))
    cutoff = today - timedelta(days=config["INSIGHTS_RETENTION_DAYS"])
    deleted = sum(
        db.session.execute(delete(model).where(model.day < cutoff)).rowcount
        for model in (SearchCount, PageViews, DeadLink, AliasHits, DeadContext)
    )
    db.session.commit()
    return sum(queries for *_, queries in folded), deleted


def prune_daily(app: Flask, stop: threading.Event) -> None:
    """Prune now, then just after each midnight (UTC), until `stop` is set: a day's salt is
    gone minutes after its day ends. The launcher runs this in a thread, holding PRUNING
    while it works, and keeps no database connection between prunes."""
    while True:
        with PRUNING, app.app_context():
            try:
                comments, salts = prune_feedback()
                app.logger.info("feedback pruned: %d comments, %d salts", comments, salts)
                folded, deleted = prune_insights()
                app.logger.info("insights pruned: %d rare searches folded, %d old rows deleted", folded, deleted)
            except SQLAlchemyError:
                app.logger.exception("pruning failed; trying again after midnight")
            finally:
                db.engine.dispose()
        if stop.wait(seconds_to_next_prune(datetime.now(UTC))):
            return


def seconds_to_next_prune(now: datetime) -> float:
    """Seconds from `now` until a minute past the next midnight UTC."""
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return (midnight - now).total_seconds() + PRUNE_AFTER_MIDNIGHT_SECONDS
