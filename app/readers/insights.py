"""Insights for authors, behind HTTP Basic authentication: what readers thought of each
page, how often it was read, what they searched for, which links into the help centre
are dead, which old links (aliases) still arrive and which places in the app (context
keys) have no help.

`/innsikt` and `/innsikt/side?doc=` (Norwegian, for people), `/api/insights/…` (JSON) and
CSV downloads, over 7, 30 or 90 days. Off (404) while INSIGHTS_USERS is empty; never
cached, never indexed. Everything readers wrote or sent (comments, queries, referrers) is
data: escaped in the pages and their SVG charts, and defused in the CSV (a cell starting
with = + - @ is a formula to a spreadsheet: app/readers/exports.py). The counts come from
app/readers/counting.py, the figures from app/readers/summaries.py.
"""

from __future__ import annotations

from functools import wraps

import click
from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from flask.cli import with_appcontext
from werkzeug.security import generate_password_hash

from app.caching.responses import PRIVATE
from app.content.page import SLUG
from app.content.translations import CURRENT, OUTDATED, UNRECORDED, UNTRANSLATED
from app.guards.limits import database_slot
from app.languages import DEFAULT_LANGUAGE, texts
from app.presentation import Presentation, layout_context
from app.readers.authors import authenticated, failed_logins_limit
from app.readers.database import database_command
from app.readers.exports import SEARCHES, VIEWS, VOTES, bar_chart, csv_download
from app.readers.retention import prune_insights
from app.readers.summaries import (
    LATEST_COMMENTS,
    MIN_VOTES,
    TOP_PAGES,
    aliases_summary,
    dead_contexts_summary,
    dead_links_summary,
    feedback_summary,
    page_titles,
    searches_summary,
    views_summary,
)
from app.readers.upkeep import COLUMNS, DEFAULT_SORT, is_sort, next_sort, pages_list

bp = Blueprint("insights", __name__)

# Where a translation stands, in the authors' words: the pages (templates/_translation.html), the
# CSV and the preview say it so. A page with no Norwegian original is "bare oversettelse".
TRANSLATION_STATES = {
    CURRENT: "oppdatert",
    OUTDATED: "utdatert",
    UNRECORDED: "ikke registrert",
    UNTRANSLATED: "ingen oversettelse",
}

PERIODS = (7, 30, 90)


def private(response) -> Response:
    """Never stored by a browser or proxy, never indexed."""
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = PRIVATE
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def period() -> int:
    """`dager=` (or `days=`): 7, 30 or 90; 7 when absent, 400 for anything else."""
    value = request.args.get("dager", request.args.get("days", "7"))
    if value not in {str(days) for days in PERIODS}:
        abort(400)
    return int(value)


def for_authors(rule: str):
    """A GET route for authors only: rate-limited failed logins, then authentication; its
    answer is private, and it holds one of the worker's slots for waiting on the database."""

    def decorate(view):
        @wraps(view)
        def answer(*args, **kwargs):
            with database_slot():
                return private(view(*args, **kwargs))

        return bp.get(rule)(failed_logins_limit()(authenticated(answer)))

    return decorate


def requested_page() -> str | None:
    """`doc=`: one page's slug (400 if it cannot be one), or None for every page."""
    slug = request.args.get("doc")
    if slug is not None and not SLUG.fullmatch(slug):
        abort(400)
    return slug


def sort_order() -> str:
    """`sorter=` (or `sort=`): a column of the authors' list, `-` before it for the other way;
    the review due soonest first when absent, 400 for anything else."""
    value = request.args.get("sorter", request.args.get("sort", DEFAULT_SORT))
    if not is_sort(value):
        abort(400)
    return value


def authors_presentation() -> Presentation:
    theme = request.args.get("theme")
    return Presentation(
        lang=DEFAULT_LANGUAGE, explicit_lang=False, embed=False, theme=theme if theme in ("dark", "light") else None
    )


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
    upkeep = pages_list(days, sort_order())
    return render_template(
        "insights.html",
        upkeep=upkeep,
        sort_links={column: next_sort(column, upkeep["sort"]) for column in COLUMNS},
        top=TOP_PAGES,
        wide=True,
        summary=feedback,
        views=views,
        searches=searches,
        dead=dead,
        contexts=dead_contexts_summary(days),
        aliases=aliases_summary(days),
        periods=PERIODS,
        charts={
            "votes": bar_chart(feedback["per_day"], VOTES),
            "views": bar_chart(views["per_day"], VIEWS),
            "searches": bar_chart(searches["per_day"], SEARCHES),
        },
        reason_names=reason_names(),
        noindex=True,
        **layout_context(authors_presentation(), {}),
    )


@for_authors("/innsikt/side")
def page_insights():
    """One page: its views and votes per day, its reasons and comments."""
    days, slug = period(), requested_page()
    if slug is None:
        abort(400)
    feedback = feedback_summary(days, slug=slug)
    return render_template(
        "insights_page.html",
        slug=slug,
        title=page_titles().get(slug, slug),
        summary=feedback,
        periods=PERIODS,
        charts={"votes": bar_chart(feedback["per_day"], VOTES), "views": bar_chart(feedback["per_day"], VIEWS)},
        reason_names=reason_names(),
        noindex=True,
        **layout_context(authors_presentation(), {}),
    )


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


@for_authors("/api/insights/dead-contexts")
def dead_contexts_json():
    """Context keys no page names, as JSON."""
    return dead_contexts_summary(period())


@for_authors("/api/insights/aliases")
def aliases_json():
    """Old links that arrived by an alias, as JSON."""
    return aliases_summary(period())


@for_authors("/api/insights/pages")
def pages_json():
    """The authors' list of pages as JSON (`sort=`), with the pages due for review."""
    return pages_list(period(), sort_order())


@for_authors("/innsikt/sider.csv")
def pages_csv():
    """The authors' list of pages, in the order asked for, as CSV."""
    upkeep = pages_list(period(), sort_order())
    table = [
        [
            page["slug"],
            page["title"],
            page["owner"],
            page["review_by"] or "",
            "ja" if page["due"] else "nei",
            TRANSLATION_STATES.get(page["translation"], "bare oversettelse"),
            page["views"],
            page["votes"],
            f"{page['no_share']:.2f}" if page["no_share"] is not None else "",
            page["last_changed"] or "",
        ]
        for page in upkeep["pages"]
    ]
    header = ["side", "tittel", "eier", "gjennomgås innen", "forfalt", "oversettelse", "visninger", "stemmer"]
    return csv_download("sider", upkeep["days"], [*header, "nei-andel", "sist endret"], table)


@for_authors("/innsikt/tilbakemeldinger.csv")
def feedback_csv():
    """Every page's votes and views and the latest comments, as CSV for a spreadsheet."""
    summary = feedback_summary(period())
    table = [
        [
            "side",
            "",
            page["slug"],
            page["views"],
            page["yes"],
            page["no"],
            " ".join(f"{k}={v}" for k, v in page["reasons"].items()),
            "",
        ]
        for page in summary["pages"]
    ]
    table += [
        ["kommentar", comment["day"], comment["slug"], "", "", "", "", comment["comment"]]
        for comment in summary["comments"]
    ]
    return csv_download(
        "tilbakemeldinger",
        summary["days"],
        ["type", "dag", "side", "visninger", "ja", "nei", "grunner", "kommentar"],
        table,
    )


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
    table = [
        ["søk", "", query["query"], query["lang"], query["searches"], query["no_results"], query["corrected"] or ""]
        for query in summary["top"]
    ]
    table += [["dag", day["day"], "", "", day["searches"], day["no_results"], ""] for day in summary["per_day"]]
    return csv_download(
        "sok", summary["days"], ["type", "dag", "søk", "språk", "søk totalt", "uten treff", "rettet til"], table
    )


@for_authors("/innsikt/dode-lenker.csv")
def dead_links_csv():
    """Dead links with their referring hosts, as CSV."""
    summary = dead_links_summary(period())
    table = [
        [
            link["slug"],
            link["requests"],
            " ".join(f"{host or '(ingen)'}={count}" for host, count in link["referrers"].items()),
            link["suggestion"] or "",
        ]
        for link in summary["links"]
    ]
    return csv_download("dode-lenker", summary["days"], ["side", "forespørsler", "henvisere", "foreslått"], table)


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
@database_command
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
    total = summary["comments_total"]
    shown = f"de siste {LATEST_COMMENTS}" if total > LATEST_COMMENTS else "dem"
    click.echo(f"Kommentarer: {total} (les {shown} på /innsikt)")
    no_results = sum(day["no_results"] for day in searches["per_day"])
    click.echo(f"Søk: {searches['total']}, {no_results} uten treff")
    for query in searches["no_results"][:10]:
        click.echo(f"  {query['no_results']:>5} uten treff  {query['query']!r} ({query['lang']})")
    click.echo(f"Døde lenker: {dead['total']} forespørsler")
    for link in dead["links"][:10]:
        click.echo(f"  {link['requests']:>5}  {link['slug']}")
    contexts, aliases = dead_contexts_summary(int(days)), aliases_summary(int(days))
    click.echo(f"Steder i appen uten hjelp: {contexts['total']} forespørsler")
    for context in contexts["contexts"][:10]:
        click.echo(f"  {context['requests']:>5}  {context['context']}")
    click.echo(f"Gamle lenker (aliaser) som ble fulgt: {aliases['total']}")
    for alias in aliases["aliases"][:10]:
        click.echo(f"  {alias['requests']:>5}  {alias['alias']} -> {alias['page']}")
    upkeep = pages_list(int(days))
    click.echo(f"Sider som skal gjennomgås: {len(upkeep['due'])}")
    for page in upkeep["due"]:
        click.echo(f"  {page['review_by']}  {page['slug']} (eier: {page['owner'] or 'ingen'})")
    behind = [page for page in upkeep["pages"] if page["translation"] == OUTDATED]
    click.echo(f"Oversettelser som kan være utdatert: {len(behind)}")
    for page in sorted(behind, key=lambda page: page["slug"]):
        click.echo(f"  {page['slug']}")


@insights_cli.command("prune")
@with_appcontext
@database_command
def prune_command() -> None:
    """Fold rare searches of past days into their totals; delete insights past INSIGHTS_RETENTION_DAYS."""
    folded, deleted = prune_insights()
    click.echo(
        f"Folded {folded} rare searches of past days into their totals; deleted {deleted} rows older "
        f"than {current_app.config['INSIGHTS_RETENTION_DAYS']} days."
    )


def init_app(app: Flask) -> None:
    """Register the authors' pages (404 while INSIGHTS_USERS is empty) and the CLI."""
    app.register_blueprint(bp)
    app.cli.add_command(insights_cli)
    app.jinja_env.globals["translation_states"] = TRANSLATION_STATES
