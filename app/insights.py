"""Insights for authors, behind HTTP Basic authentication: what readers thought of each
page, how often it was read, what they searched for and which links into the help centre
are dead.

`/innsikt` and `/innsikt/side?doc=` (Norwegian, for people), `/api/insights/…` (JSON) and
CSV downloads, over 7, 30 or 90 days. Off (404) while INSIGHTS_USERS is empty; never
cached, never indexed. Everything readers wrote or sent (comments, queries, referrers) is
data: escaped in the pages and their SVG charts, and defused in the CSV (a cell starting
with = + - @ is a formula to a spreadsheet). The counts come from app/tally.py.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import wraps

import click
from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, ServiceUnavailable, Unauthorized
from werkzeug.security import check_password_hash, generate_password_hash

from app import tally
from app.config import ConfigError
from app.db import DeadLink, PageViews, SearchCount, Vote, db
from app.documents import get_library
from app.feedback import without_controls
from app.languages import DEFAULT_LANGUAGE, texts
from app.limits import limiter
from app.pages import SLUG
from app.presentation import Presentation, layout_context

bp = Blueprint("insights", __name__)

PERIODS = (7, 30, 90)
# A page is ranked by its share of "Nei" only with at least this many votes in the period.
MIN_VOTES = 3
LATEST_COMMENTS = 50
TOP = 50  # queries and dead links listed, most first
MAX_REFERRERS = 5  # referring hosts shown per dead link
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_users(setting: str) -> dict[str, str]:
    """INSIGHTS_USERS (`name:hash name:hash`) as {name: werkzeug password hash}."""
    users = {}
    for entry in setting.split():
        name, _, hashed = entry.partition(":")
        if not name or not hashed.startswith(("scrypt:", "pbkdf2:")):
            raise ConfigError(f"INSIGHTS_USERS has {name or entry[:20]!r} without a werkzeug password hash "
                             "(make one with `flask insights hash-password`)")
        users[name] = hashed
    return users


def failed_logins_limit():
    """The rate limit on failed logins (401s), per client: guessing passwords is slow."""
    return limiter.limit(lambda: current_app.config["INSIGHTS_AUTH_RATE_LIMIT"], scope="insights-auth",
                         deduct_when=lambda response: response.status_code == 401)


def authenticated(view):
    """Let authors in: 404 while insights are off, 403 cross-site, 401 without good credentials."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        users = current_app.extensions["insights_users"]
        if not users:
            abort(404)
        if request.headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
            raise Forbidden()
        auth = request.authorization
        name = auth.username if auth and auth.type == "basic" else None
        # An unknown name is checked against a hash of the same kind: it costs what a wrong password does.
        hashed = users.get(name or "", current_app.extensions["insights_unknown_user"])
        password_ok = check_password_hash(hashed, (auth.password or "") if auth else "")
        if not (name in users and password_ok):
            raise Unauthorized(www_authenticate=_challenge())
        return private(view(*args, **kwargs))
    return wrapper


def _challenge() -> WWWAuthenticate:
    return WWWAuthenticate("basic", {"realm": "Innsikt", "charset": "UTF-8"})


def private(response) -> Response:
    """Never stored by a browser or proxy, never indexed."""
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def period() -> int:
    """`dager=` (or `days=`): 7, 30 or 90; 7 when absent, 400 for anything else."""
    value = request.args.get("dager", request.args.get("days", "7"))
    if value not in {str(days) for days in PERIODS}:
        abort(400)
    return int(value)


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


def page_titles() -> dict[str, str]:
    return {slug: page.title for slug, (page, _) in get_library().pages_in(DEFAULT_LANGUAGE).items()}


def feedback_summary(days: int, today: date | None = None, slug: str | None = None,
                     viewed: dict | None = None) -> dict:
    """Votes of the last `days` days (of one page, or all): per page, per day, reasons, the
    latest comments; with each page's views (`viewed`, the same period's views_summary, when
    the caller has it), so that its votes can be read as a rate."""
    first, today = span(days, today)
    where = [Vote.day >= first] + ([Vote.slug == slug] if slug else [])
    votes = rows(select(Vote.day, Vote.slug, Vote.lang, Vote.helpful, Vote.reasons, Vote.comment)
                 .where(*where).order_by(Vote.created_at.desc()))
    viewed = viewed or views_summary(days, today, slug)
    views = {page["slug"]: page["views"] for page in viewed["pages"]}
    titles = page_titles()
    pages: dict[str, dict] = defaultdict(lambda: {"yes": 0, "no": 0, "reasons": Counter()})
    per_day = {first + timedelta(days=i): {"yes": 0, "no": 0} for i in range(days)}
    comments = []
    for day, page, lang, helpful, reasons, comment in votes:
        answer = "yes" if helpful else "no"
        pages[page][answer] += 1
        per_day[day][answer] += 1
        pages[page]["reasons"].update(reason for reason in reasons.split(",") if reason)
        if comment and len(comments) < LATEST_COMMENTS:
            # Stored before control characters were dropped on the way in, a comment may still hold some.
            comments.append({"day": day.isoformat(), "slug": page, "lang": lang, "comment": without_controls(comment)})
    ranked = sorted(
        ({"slug": page, "title": titles.get(page, page), "yes": counts["yes"], "no": counts["no"],
          "votes": counts["yes"] + counts["no"], "no_share": counts["no"] / (counts["yes"] + counts["no"]),
          "views": views.get(page, 0),
          "no_per_100_views": round(100 * counts["no"] / views[page], 1) if views.get(page) else None,
          "reasons": dict(counts["reasons"].most_common())} for page, counts in pages.items()),
        key=lambda page: (page["votes"] < MIN_VOTES, -page["no_share"], -page["votes"], page["slug"]))
    return {"days": days, "from": first.isoformat(), "to": today.isoformat(), "min_votes": MIN_VOTES,
            "pages": ranked, "per_day": [{"day": day.isoformat(), **counts, "views": viewed_day["views"]}
                                         for (day, counts), viewed_day in zip(per_day.items(), viewed["per_day"],
                                                                              strict=True)],
            "comments": comments}


def views_summary(days: int, today: date | None = None, slug: str | None = None) -> dict:
    """Page views of the last `days` days (of one page, or all): per day, and per page, most first."""
    first, today = span(days, today)
    where = [PageViews.day >= first] + ([PageViews.slug == slug] if slug else [])
    per_day = {first + timedelta(days=i): 0 for i in range(days)}
    pages: Counter = Counter()
    for day, page, views in rows(select(PageViews.day, PageViews.slug, PageViews.views).where(*where)):
        per_day[day] += views
        pages[page] += views
    titles = page_titles()
    return {"days": days, "from": first.isoformat(), "to": today.isoformat(), "total": sum(pages.values()),
            "per_day": [{"day": day.isoformat(), "views": views} for day, views in per_day.items()],
            "pages": [{"slug": page, "title": titles.get(page, page), "views": views}
                      for page, views in pages.most_common()]}


def searches_summary(days: int, today: date | None = None) -> dict:
    """Searches of the last `days` days: per day (with those that found nothing), and the queries
    at least INSIGHTS_MIN_CLIENTS readers sent on a day: most searched, finding nothing, corrected.
    Rarer queries are counted in `hidden` only."""
    first, today = span(days, today)
    min_clients = current_app.config["INSIGHTS_MIN_CLIENTS"]
    per_day = {first + timedelta(days=i): {"searches": 0, "no_results": 0} for i in range(days)}
    queries: dict[tuple[str, str], dict] = {}
    hidden = 0
    for day, lang, query, searches, no_results, results, corrected, readers in rows(
            select(SearchCount.day, SearchCount.lang, SearchCount.query, SearchCount.searches, SearchCount.no_results,
                   SearchCount.results, SearchCount.corrected, SearchCount.readers)
            .where(SearchCount.day >= first).order_by(SearchCount.day)):
        per_day[day]["searches"] += searches
        per_day[day]["no_results"] += no_results
        if not query or readers < min_clients:
            hidden += searches
            continue
        shown = queries.setdefault((lang, query), {"query": query, "lang": lang, "searches": 0, "no_results": 0})
        shown["searches"] += searches
        shown["no_results"] += no_results
        shown["results"], shown["corrected"] = results, corrected  # the latest day's
    ranked = sorted(queries.values(), key=lambda q: (-q["searches"], q["query"], q["lang"]))
    return {"days": days, "from": first.isoformat(), "to": today.isoformat(), "min_clients": min_clients,
            "total": sum(day["searches"] for day in per_day.values()), "hidden": hidden,
            "per_day": [{"day": day.isoformat(), **counts, "found": counts["searches"] - counts["no_results"]}
                        for day, counts in per_day.items()],
            "top": ranked[:TOP],
            "no_results": sorted((q for q in ranked if q["no_results"]), key=lambda q: -q["no_results"])[:TOP],
            "corrected": [q for q in ranked if q["corrected"]][:TOP]}


def dead_links_summary(days: int, today: date | None = None) -> dict:
    """Requests for pages that do not exist, in the last `days` days: per slug, with the
    referring hosts and the page the 404 page suggested first (the latest day's)."""
    first, today = span(days, today)
    links: dict[str, dict] = {}
    for _, slug, referrer, requests, suggestion in rows(
            select(DeadLink.day, DeadLink.slug, DeadLink.referrer, DeadLink.requests, DeadLink.suggestion)
            .where(DeadLink.day >= first).order_by(DeadLink.day)):
        link = links.setdefault(slug, {"slug": slug, "requests": 0, "referrers": Counter()})
        link["requests"] += requests
        link["referrers"][referrer] += requests
        link["suggestion"] = suggestion or None
    ranked = sorted(links.values(), key=lambda link: (-link["requests"], link["slug"]))[:TOP]
    for link in ranked:
        link["referrers"] = dict(link["referrers"].most_common(MAX_REFERRERS))
    return {"days": days, "from": first.isoformat(), "to": today.isoformat(),
            "total": sum(link["requests"] for link in links.values()), "links": ranked}


def bar_chart(per_day: list[dict], series: dict[str, str], width: int = 640, height: int = 160) -> dict:
    """Bars per day, each stacked from its `series` (key: label, bottom first), as numbers for
    the SVG template (templates/_chart.html): no markup here."""
    top = max((sum(day[key] for key in series) for day in per_day), default=0) or 1
    step = width / max(len(per_day), 1)
    bars = []
    for i, day in enumerate(per_day):
        bottom, parts = height, []
        for key, label in series.items():
            tall = day[key] / top * height
            bottom -= tall
            parts.append({"key": key, "label": label, "value": day[key], "y": round(bottom, 2), "h": round(tall, 2)})
        bars.append({"x": round(i * step + step * 0.1, 2), "w": round(step * 0.8, 2), "day": day["day"],
                     "parts": parts})
    return {"width": width, "height": height, "top": top, "bars": bars, "series": series}


VOTES = {"yes": "ja", "no": "nei"}
VIEWS = {"views": "visninger"}
SEARCHES = {"found": "med treff", "no_results": "uten treff"}


def for_authors(rule: str):
    """A GET route for authors only: rate-limited failed logins, then authentication."""
    def decorate(view):
        return bp.get(rule)(failed_logins_limit()(authenticated(view)))
    return decorate


def requested_page() -> str | None:
    """`doc=`: one page's slug (400 if it cannot be one), or None for every page."""
    slug = request.args.get("doc")
    if slug is not None and not SLUG.fullmatch(slug):
        abort(400)
    return slug


def authors_view() -> Presentation:
    theme = request.args.get("theme")
    return Presentation(lang=DEFAULT_LANGUAGE, explicit_lang=False, embed=False,
                        theme=theme if theme in ("dark", "light") else None)


def reason_names() -> dict[str, str]:
    t = texts(DEFAULT_LANGUAGE)
    return {code: t[f"feedback_reason_{code}"] for code in ("not_found", "unclear", "wrong", "other")}


@for_authors("/innsikt")
def overview():
    """The authors' page: pages that do not help, views, searches and dead links."""
    days = period()
    views = views_summary(days)
    feedback = feedback_summary(days, viewed=views)
    searches, dead = searches_summary(days), dead_links_summary(days)
    return render_template(
        "insights.html", summary=feedback, views=views, searches=searches, dead=dead, periods=PERIODS,
        charts={"votes": bar_chart(feedback["per_day"], VOTES), "views": bar_chart(views["per_day"], VIEWS),
                "searches": bar_chart(searches["per_day"], SEARCHES)},
        reason_names=reason_names(), noindex=True, **layout_context(authors_view(), {}))


@for_authors("/innsikt/side")
def page_insights():
    """One page: its views and votes per day, its reasons and comments."""
    days, slug = period(), requested_page()
    if slug is None:
        abort(400)
    feedback = feedback_summary(days, slug=slug)
    return render_template(
        "insights_page.html", slug=slug, title=page_titles().get(slug, slug), summary=feedback, periods=PERIODS,
        charts={"votes": bar_chart(feedback["per_day"], VOTES), "views": bar_chart(feedback["per_day"], VIEWS)},
        reason_names=reason_names(), noindex=True, **layout_context(authors_view(), {}))


@for_authors("/api/insights/feedback")
def feedback_json():
    """Votes as JSON (`doc=` for one page)."""
    return feedback_summary(period(), slug=requested_page())


@for_authors("/api/insights/views")
def views_json():
    """Page views as JSON (`doc=` for one page)."""
    return views_summary(period(), slug=requested_page())


@for_authors("/api/insights/searches")
def searches_json():
    """Searches as JSON."""
    return searches_summary(period())


@for_authors("/api/insights/dead-links")
def dead_links_json():
    """Dead links as JSON."""
    return dead_links_summary(period())


@for_authors("/innsikt/tilbakemeldinger.csv")
def feedback_csv():
    """Every page's votes and views and the latest comments, as CSV for a spreadsheet."""
    summary = feedback_summary(period())
    table = [["side", "", page["slug"], page["views"], page["yes"], page["no"],
              " ".join(f"{k}={v}" for k, v in page["reasons"].items()), ""] for page in summary["pages"]]
    table += [["kommentar", comment["day"], comment["slug"], "", "", "", "", comment["comment"]]
              for comment in summary["comments"]]
    return csv_download("tilbakemeldinger", summary["days"],
                        ["type", "dag", "side", "visninger", "ja", "nei", "grunner", "kommentar"], table)


@for_authors("/innsikt/visninger.csv")
def views_csv():
    """Views per page, and per day, as CSV."""
    summary = views_summary(period())
    table = [["side", "", page["slug"], page["views"]] for page in summary["pages"]]
    table += [["dag", day["day"], "", day["views"]] for day in summary["per_day"]]
    return csv_download("visninger", summary["days"], ["type", "dag", "side", "visninger"], table)


@for_authors("/innsikt/sok.csv")
def searches_csv():
    """The queries shown to authors, and searches per day, as CSV."""
    summary = searches_summary(period())
    table = [["søk", "", query["query"], query["lang"], query["searches"], query["no_results"],
              query["corrected"] or ""] for query in summary["top"]]
    table += [["dag", day["day"], "", "", day["searches"], day["no_results"], ""] for day in summary["per_day"]]
    return csv_download("sok", summary["days"], ["type", "dag", "søk", "språk", "søk totalt", "uten treff",
                                                 "rettet til"], table)


@for_authors("/innsikt/dode-lenker.csv")
def dead_links_csv():
    """Dead links with their referring hosts, as CSV."""
    summary = dead_links_summary(period())
    table = [[link["slug"], link["requests"], " ".join(f"{host or '(ingen)'}={count}"
                                                        for host, count in link["referrers"].items()),
              link["suggestion"] or ""] for link in summary["links"]]
    return csv_download("dode-lenker", summary["days"], ["side", "forespørsler", "henvisere", "foreslått"], table)


def csv_download(name: str, days: int, header: list[str], table: list[list]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(cells(row) for row in table)
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}-{days}d.csv"'})


def cells(row: list) -> list[str]:
    """A CSV row a spreadsheet reads as text: a cell that would start a formula gets a leading '."""
    return [f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_START) else cell for cell in row]


@click.group("insights")
def insights_cli() -> None:
    """Insights for authors."""


@insights_cli.command("hash-password")
@click.password_option()
def hash_password(password: str) -> None:
    """Print a password hash for an INSIGHTS_USERS entry (name:hash)."""
    click.echo(generate_password_hash(password))


@insights_cli.command("report")
@click.option("--days", type=click.Choice([str(days) for days in PERIODS]), default="7")
@with_appcontext
def report(days: str) -> None:
    """A plain-text summary for cron and mail: feedback, views, searches and dead links."""
    views = views_summary(int(days))
    summary = feedback_summary(int(days), viewed=views)
    searches, dead = searches_summary(int(days)), dead_links_summary(int(days))
    click.echo(f"Innsikt {summary['from']} til {summary['to']}")
    total_yes = sum(day["yes"] for day in summary["per_day"])
    total_no = sum(day["no"] for day in summary["per_day"])
    click.echo(f"Visninger: {views['total']}")
    click.echo(f"Stemmer: {total_yes + total_no} (ja {total_yes}, nei {total_no})")
    click.echo(f"Sider som hjelper minst (minst {MIN_VOTES} stemmer):")
    for page in [p for p in summary["pages"] if p["votes"] >= MIN_VOTES][:10]:
        click.echo(f"  {page['no_share']:4.0%} nei av {page['votes']:>4}  {page['slug']}")
    click.echo(f"Kommentarer: {len(summary['comments'])} (les dem på /innsikt)")
    no_results = sum(day["no_results"] for day in searches["per_day"])
    click.echo(f"Søk: {searches['total']}, {no_results} uten treff")
    for query in searches["no_results"][:10]:
        click.echo(f"  {query['no_results']:>5} uten treff  {query['query']!r} ({query['lang']})")
    click.echo(f"Døde lenker: {dead['total']} forespørsler")
    for link in dead["links"][:10]:
        click.echo(f"  {link['requests']:>5}  {link['slug']}")


@insights_cli.command("prune")
@with_appcontext
def prune_command() -> None:
    """Fold rare searches of past days into their totals; delete insights past INSIGHTS_RETENTION_DAYS."""
    folded, deleted = tally.prune()
    click.echo(f"Folded {folded} rare searches of past days into their totals; deleted {deleted} rows older "
               f"than {current_app.config['INSIGHTS_RETENTION_DAYS']} days.")


def init_app(app: Flask) -> None:
    """Register the authors' pages (404 while INSIGHTS_USERS is empty) and the CLI."""
    users = app.extensions["insights_users"] = parse_users(app.config["INSIGHTS_USERS"])
    if users:
        method = next(iter(users.values())).split("$")[0]
        app.extensions["insights_unknown_user"] = generate_password_hash(os.urandom(16).hex(), method=method)
    app.register_blueprint(bp)
    app.cli.add_command(insights_cli)
