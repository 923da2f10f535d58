"""What the authors' insights say, read from the database: every figure is summed by the
database and every list is cut there (LIMIT), so a view costs the same whether the tables
hold a hundred rows or a million.

A period is the last 7, 30 or 90 days up to today (UTC); a row dated outside it, in the
future included (a clock that was wrong), is left out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select, tuple_
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable

from app.content.library import get_library
from app.languages import DEFAULT_LANGUAGE
from app.privacy import without_controls
from app.readers.models import (
    OTHER_HOSTS,
    OTHER_SLUGS,
    AliasHits,
    Comment,
    DeadContext,
    DeadLink,
    PageViews,
    SearchCount,
    Vote,
    db,
)

# A page is ranked by its share of "Nei" only with at least this many votes in the period.
MIN_VOTES = 3
LATEST_COMMENTS = 50
TOP = 50  # queries and dead links listed, most first
TOP_PAGES = 200  # pages listed with their votes, and with their views
MAX_REFERRERS = 5  # referring hosts shown per dead link


def rows(statement) -> list:
    """Every row of `statement`; 503 while the database cannot be read."""
    try:
        return db.session.execute(statement).all()
    except SQLAlchemyError:
        db.session.rollback()
        raise ServiceUnavailable("The insights database cannot be read just now.", retry_after=30) from None


def span(days: int, today: date | None) -> tuple[date, date]:
    """The first and last day of a period of `days` days ending `today` (UTC)."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=days - 1), today


def each_day(first: date, days: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(days)]


def page_titles() -> dict[str, str]:
    return {slug: page.title for slug, (page, _) in get_library().pages_in(DEFAULT_LANGUAGE).items()}


def feedback_summary(days: int, today: date | None = None, slug: str | None = None, viewed: dict | None = None) -> dict:
    """Votes of the last `days` days (of one page, or all): per day, the TOP_PAGES pages that
    help least with their views and reasons, and the latest comments. `viewed` is the same
    period's views_summary when the caller has it (for its views per day)."""
    first, today = span(days, today)
    where = [Vote.day.between(first, today)] + ([Vote.slug == slug] if slug else [])
    yes, votes = func.sum(case((Vote.helpful, 1), else_=0)), func.count()
    per_day = {day: {"yes": 0, "no": 0} for day in each_day(first, days)}
    for day, yes_votes, all_votes in rows(select(Vote.day, yes, votes).where(*where).group_by(Vote.day)):
        per_day[day] = {"yes": int(yes_votes), "no": all_votes - int(yes_votes)}
    no_share = (votes - yes) * 1.0 / votes
    ranked = rows(
        select(Vote.slug, yes, votes)
        .where(*where)
        .group_by(Vote.slug)
        .order_by(votes < MIN_VOTES, no_share.desc(), votes.desc(), Vote.slug)
        .limit(TOP_PAGES)
    )
    shown = [page for page, _, _ in ranked]
    reasons: dict[str, Counter] = defaultdict(Counter)
    for page, ticked, count in rows(
        select(Vote.slug, Vote.reasons, func.count())
        .where(*where, Vote.slug.in_(shown), Vote.reasons != "", Vote.helpful.is_(False))  # a "Ja" had none to give
        .group_by(Vote.slug, Vote.reasons)
    ):
        for reason in ticked.split(","):
            reasons[page][reason] += count
    views = dict(
        rows(
            select(PageViews.slug, func.sum(PageViews.views))
            .where(PageViews.day.between(first, today), PageViews.slug.in_(shown))
            .group_by(PageViews.slug)
        )
    )
    titles = page_titles()
    pages = []
    for page, yes_votes, all_votes in ranked:
        no_votes, page_views = all_votes - int(yes_votes), int(views.get(page) or 0)
        pages.append(
            {
                "slug": page,
                "title": titles.get(page, page),
                "yes": int(yes_votes),
                "no": no_votes,
                "votes": all_votes,
                "no_share": no_votes / all_votes,
                "views": page_views,
                "no_per_100_views": round(100 * no_votes / page_views, 1) if page_views else None,
                "reasons": dict(reasons[page].most_common()),
            }
        )
    where_comments = [Comment.day.between(first, today)] + ([Comment.slug == slug] if slug else [])
    # A comment stored before control characters were dropped on the way in may still hold some.
    comments = [
        {"day": day.isoformat(), "slug": page, "lang": lang, "comment": without_controls(comment)}
        for day, page, lang, comment in rows(
            select(Comment.day, Comment.slug, Comment.lang, Comment.comment)
            .where(*where_comments)
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(LATEST_COMMENTS)
        )
    ]
    viewed = viewed or views_summary(days, today, slug)
    return {
        "days": days,
        "from": first.isoformat(),
        "to": today.isoformat(),
        "min_votes": MIN_VOTES,
        "pages": pages,
        "per_day": [
            {"day": day.isoformat(), **counts, "views": viewed_day["views"]}
            for (day, counts), viewed_day in zip(per_day.items(), viewed["per_day"], strict=True)
        ],
        "comments": comments,
        "comments_total": rows(select(func.count(Comment.id)).where(*where_comments))[0][0]
        if len(comments) == LATEST_COMMENTS
        else len(comments),
    }


def views_summary(days: int, today: date | None = None, slug: str | None = None) -> dict:
    """Page views of the last `days` days (of one page, or all): per day, and the TOP_PAGES
    most read pages."""
    first, today = span(days, today)
    where = [PageViews.day.between(first, today)] + ([PageViews.slug == slug] if slug else [])
    views = func.sum(PageViews.views)
    per_day = dict.fromkeys(each_day(first, days), 0)
    for day, count in rows(select(PageViews.day, views).where(*where).group_by(PageViews.day)):
        per_day[day] = int(count)
    titles = page_titles()
    return {
        "days": days,
        "from": first.isoformat(),
        "to": today.isoformat(),
        "total": sum(per_day.values()),
        "per_day": [{"day": day.isoformat(), "views": count} for day, count in per_day.items()],
        "pages": [
            {"slug": page, "title": titles.get(page, page), "views": int(count)}
            for page, count in rows(
                select(PageViews.slug, views)
                .where(*where)
                .group_by(PageViews.slug)
                .order_by(views.desc(), PageViews.slug)
                .limit(TOP_PAGES)
            )
        ],
    }


def searches_summary(days: int, today: date | None = None) -> dict:
    """Searches of the last `days` days: per day (with those that found nothing), and the queries
    at least INSIGHTS_MIN_CLIENTS readers sent on a day: most searched, finding nothing, corrected
    (each with its latest day's results and correction). Rarer queries are counted in `hidden` only."""
    first, today = span(days, today)
    min_clients = current_app.config["INSIGHTS_MIN_CLIENTS"]
    period = SearchCount.day.between(first, today)
    shown = (period, SearchCount.query != "", SearchCount.readers >= min_clients)
    searches, no_results = func.sum(SearchCount.searches), func.sum(SearchCount.no_results)
    per_day = {day: {"searches": 0, "no_results": 0} for day in each_day(first, days)}
    for day, count, empty in rows(
        select(SearchCount.day, searches, no_results).where(period).group_by(SearchCount.day)
    ):
        per_day[day] = {"searches": int(count), "no_results": int(empty)}
    total = sum(day["searches"] for day in per_day.values())
    shown_searches = rows(select(searches).where(*shown))[0][0] or 0

    def ranked(order, *having) -> list[dict]:
        query = (
            select(SearchCount.lang, SearchCount.query, searches, no_results)
            .where(*shown)
            .group_by(SearchCount.lang, SearchCount.query)
        )
        if having:
            query = query.having(*having)
        return [
            {"query": text, "lang": lang, "searches": int(count), "no_results": int(empty)}
            for lang, text, count, empty in rows(
                query.order_by(order.desc(), SearchCount.query, SearchCount.lang).limit(TOP)
            )
        ]

    top, empty = ranked(searches), ranked(no_results, no_results > 0)
    corrected = ranked(searches, func.count(SearchCount.corrected) > 0)
    listed = {(query["lang"], query["query"]) for query in top + empty + corrected}
    latest, latest_correction = {}, {}
    for lang, text, results, correction in rows(
        select(SearchCount.lang, SearchCount.query, SearchCount.results, SearchCount.corrected)
        .where(*shown, tuple_(SearchCount.lang, SearchCount.query).in_(listed))
        .order_by(SearchCount.day)
    ):
        latest[lang, text] = results, correction
        if correction:
            latest_correction[lang, text] = correction
    for query in top + empty:
        query["results"], query["corrected"] = latest[query["lang"], query["query"]]
    for query in corrected:
        query["results"] = latest[query["lang"], query["query"]][0]
        query["corrected"] = latest_correction[query["lang"], query["query"]]
    return {
        "days": days,
        "from": first.isoformat(),
        "to": today.isoformat(),
        "min_clients": min_clients,
        "total": total,
        "hidden": total - int(shown_searches),
        "per_day": [
            {"day": day.isoformat(), **counts, "found": counts["searches"] - counts["no_results"]}
            for day, counts in per_day.items()
        ],
        "top": top,
        "no_results": empty,
        "corrected": corrected,
    }


def dead_links_summary(days: int, today: date | None = None) -> dict:
    """Requests for pages that do not exist, in the last `days` days: the TOP slugs asked for
    most, each with its referring hosts and the page the 404 page suggested first (the latest
    day's); and how many requests went beyond the days' limits or a client's share of them
    (`other`)."""
    first, today = span(days, today)
    period = DeadLink.day.between(first, today)
    requests = func.sum(DeadLink.requests)
    total = int(rows(select(requests).where(period))[0][0] or 0)
    other = int(rows(select(requests).where(period, DeadLink.slug == OTHER_SLUGS))[0][0] or 0)
    links = {
        slug: {"slug": slug, "requests": int(count), "referrers": Counter(), "suggestion": None}
        for slug, count in rows(
            select(DeadLink.slug, requests)
            .where(period, DeadLink.slug != OTHER_SLUGS)
            .group_by(DeadLink.slug)
            .order_by(requests.desc(), DeadLink.slug)
            .limit(TOP)
        )
    }
    for slug, referrer, count in rows(
        select(DeadLink.slug, DeadLink.referrer, requests)
        .where(period, DeadLink.slug.in_(links))
        .group_by(DeadLink.slug, DeadLink.referrer)
    ):
        links[slug]["referrers"][referrer] += int(count)
    for slug, _, suggestion in rows(
        select(DeadLink.slug, DeadLink.day, func.max(DeadLink.suggestion))
        .where(period, DeadLink.slug.in_(links))
        .group_by(DeadLink.slug, DeadLink.day)
        .order_by(DeadLink.day)
    ):
        links[slug]["suggestion"] = suggestion or None
    for link in links.values():
        hosts = link["referrers"]
        others = hosts.pop(OTHER_HOSTS, 0)
        link["referrers"] = dict(hosts.most_common(MAX_REFERRERS))
        link["other_referrers"] = others + sum(hosts.values()) - sum(link["referrers"].values())
    return {
        "days": days,
        "from": first.isoformat(),
        "to": today.isoformat(),
        "total": total,
        "other": other,
        "links": list(links.values()),
    }


def dead_contexts_summary(days: int, today: date | None = None) -> dict:
    """Requests for context keys no page names (places in the app without help), in the last
    `days` days: the TOP keys asked for most, each with the platforms and app versions that
    asked (MAX_REFERRERS of them) and the last day one did; and how many requests went beyond
    the days' limits or a client's share of them (`other`)."""
    first, today = span(days, today)
    period = DeadContext.day.between(first, today)
    requests = func.sum(DeadContext.requests)
    total = int(rows(select(requests).where(period))[0][0] or 0)
    other = int(rows(select(requests).where(period, DeadContext.context == OTHER_SLUGS))[0][0] or 0)
    contexts = {
        key: {"context": key, "requests": int(count), "last_day": last.isoformat(), "apps": [], "other_apps": 0}
        for key, count, last in rows(
            select(DeadContext.context, requests, func.max(DeadContext.day))
            .where(period, DeadContext.context != OTHER_SLUGS)
            .group_by(DeadContext.context)
            .order_by(requests.desc(), DeadContext.context)
            .limit(TOP)
        )
    }
    for key, platform, version, count in rows(
        select(DeadContext.context, DeadContext.platform, DeadContext.app_version, requests)
        .where(period, DeadContext.context.in_(contexts))
        .group_by(DeadContext.context, DeadContext.platform, DeadContext.app_version)
        .order_by(requests.desc(), DeadContext.platform, DeadContext.app_version)
    ):
        entry = contexts[key]
        if platform == OTHER_HOSTS or len(entry["apps"]) >= MAX_REFERRERS:
            entry["other_apps"] += int(count)
        else:
            entry["apps"].append({"platform": platform, "app_version": version, "requests": int(count)})
    return {
        "days": days,
        "from": first.isoformat(),
        "to": today.isoformat(),
        "total": total,
        "other": other,
        "contexts": list(contexts.values()),
    }


def aliases_summary(days: int, today: date | None = None) -> dict:
    """Old links that arrived by an alias in the last `days` days: the TOP_PAGES aliases
    followed most, each with the page it led to last and the last day one arrived; and the
    aliases the pages name that no request arrived by (`unused`): candidates to retire."""
    first, today = span(days, today)
    period = AliasHits.day.between(first, today)
    requests = func.sum(AliasHits.requests)
    used = {
        alias: {"alias": alias, "requests": int(count), "last_day": last.isoformat(), "page": None}
        for alias, count, last in rows(
            select(AliasHits.alias, requests, func.max(AliasHits.day))
            .where(period)
            .group_by(AliasHits.alias)
            .order_by(requests.desc(), AliasHits.alias)
            .limit(TOP_PAGES)
        )
    }
    for alias, page in rows(
        select(AliasHits.alias, AliasHits.page).where(period, AliasHits.alias.in_(used)).order_by(AliasHits.day)
    ):
        used[alias]["page"] = page
    named = get_library().addresses().aliases
    arrived = {alias for (alias,) in rows(select(AliasHits.alias).distinct().where(period, AliasHits.alias.in_(named)))}
    return {
        "days": days,
        "from": first.isoformat(),
        "to": today.isoformat(),
        "total": int(rows(select(requests).where(period))[0][0] or 0),
        "aliases": list(used.values()),
        "unused": [{"alias": alias, "page": page} for alias, page in sorted(named.items()) if alias not in arrived][
            :TOP_PAGES
        ],
    }
