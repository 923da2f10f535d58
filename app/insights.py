"""Insights for authors: what readers thought of each page, behind HTTP Basic authentication.

`/innsikt` (Norwegian, for people), `/api/insights/feedback` (JSON) and
`/innsikt/tilbakemeldinger.csv`, over 7, 30 or 90 days. Off (404) while INSIGHTS_USERS is
empty; never cached, never indexed. Everything readers wrote is data: escaped in the page
and its SVG chart, and defused in the CSV (a cell starting with = + - @ is a formula to a
spreadsheet).
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

from app.config import ConfigError
from app.db import Vote, db
from app.documents import get_library
from app.languages import DEFAULT_LANGUAGE, texts
from app.limits import limiter
from app.presentation import Presentation, layout_context

bp = Blueprint("insights", __name__)

PERIODS = (7, 30, 90)
# A page is ranked by its share of "Nei" only with at least this many votes in the period.
MIN_VOTES = 3
LATEST_COMMENTS = 50
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


def feedback_summary(days: int, today: date | None = None) -> dict:
    """Votes of the last `days` days: per page, per day, reasons, and the latest comments."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    try:
        rows = db.session.execute(
            select(Vote.day, Vote.slug, Vote.lang, Vote.helpful, Vote.reasons, Vote.comment)
            .where(Vote.day >= first).order_by(Vote.created_at.desc())).all()
    except SQLAlchemyError:
        db.session.rollback()
        raise ServiceUnavailable("The feedback database cannot be read just now.", retry_after=30) from None
    titles = {slug: page.title for slug, (page, _) in get_library().pages_in(DEFAULT_LANGUAGE).items()}
    pages: dict[str, dict] = defaultdict(lambda: {"yes": 0, "no": 0, "reasons": Counter()})
    per_day = {first + timedelta(days=i): {"yes": 0, "no": 0} for i in range(days)}
    comments = []
    for day, slug, lang, helpful, reasons, comment in rows:
        answer = "yes" if helpful else "no"
        pages[slug][answer] += 1
        per_day[day][answer] += 1
        pages[slug]["reasons"].update(reason for reason in reasons.split(",") if reason)
        if comment and len(comments) < LATEST_COMMENTS:
            comments.append({"day": day.isoformat(), "slug": slug, "lang": lang, "comment": comment})
    ranked = sorted(
        ({"slug": slug, "title": titles.get(slug, slug), "yes": counts["yes"], "no": counts["no"],
          "votes": counts["yes"] + counts["no"], "no_share": counts["no"] / (counts["yes"] + counts["no"]),
          "reasons": dict(counts["reasons"].most_common())} for slug, counts in pages.items()),
        key=lambda page: (page["votes"] < MIN_VOTES, -page["no_share"], -page["votes"], page["slug"]))
    return {"days": days, "from": first.isoformat(), "to": today.isoformat(), "min_votes": MIN_VOTES,
            "pages": ranked, "per_day": [{"day": day.isoformat(), **counts} for day, counts in per_day.items()],
            "comments": comments}


def bar_chart(per_day: list[dict], width: int = 640, height: int = 160) -> dict:
    """Stacked bars (yes under no) per day, as numbers for the SVG template: no markup here."""
    top = max((day["yes"] + day["no"] for day in per_day), default=0) or 1
    step = width / max(len(per_day), 1)
    bars = []
    for i, day in enumerate(per_day):
        yes_h = day["yes"] / top * height
        no_h = day["no"] / top * height
        bars.append({"x": round(i * step + step * 0.1, 2), "w": round(step * 0.8, 2), "day": day["day"],
                     "yes": day["yes"], "no": day["no"], "yes_y": round(height - yes_h, 2),
                     "yes_h": round(yes_h, 2), "no_y": round(height - yes_h - no_h, 2), "no_h": round(no_h, 2)})
    return {"width": width, "height": height, "top": top, "bars": bars}


@bp.get("/innsikt")
@failed_logins_limit()
@authenticated
def overview():
    """The authors' page: pages that do not help, what readers said, votes per day."""
    days = period()
    summary = feedback_summary(days)
    view = Presentation(lang=DEFAULT_LANGUAGE, explicit_lang=False, embed=False, theme=request.args.get("theme")
                        if request.args.get("theme") in ("dark", "light") else None)
    t = texts(DEFAULT_LANGUAGE)
    reasons = {code: t[f"feedback_reason_{code}"] for code in ("not_found", "unclear", "wrong", "other")}
    return render_template("insights.html", summary=summary, chart=bar_chart(summary["per_day"]), periods=PERIODS,
                           reason_names=reasons, noindex=True, **layout_context(view, {}))


@bp.get("/api/insights/feedback")
@failed_logins_limit()
@authenticated
def feedback_json():
    """The same numbers as JSON."""
    return feedback_summary(period())


@bp.get("/innsikt/tilbakemeldinger.csv")
@failed_logins_limit()
@authenticated
def feedback_csv():
    """Every page's votes and the latest comments, as CSV for a spreadsheet."""
    summary = feedback_summary(period())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["type", "dag", "side", "ja", "nei", "grunner", "kommentar"])
    for page in summary["pages"]:
        writer.writerow(cells(["side", "", page["slug"], page["yes"], page["no"],
                               " ".join(f"{k}={v}" for k, v in page["reasons"].items()), ""]))
    for comment in summary["comments"]:
        writer.writerow(cells(["kommentar", comment["day"], comment["slug"], "", "", "", comment["comment"]]))
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="tilbakemeldinger-{summary["days"]}d.csv"'})


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
    """A plain-text summary of reader feedback, for cron and mail."""
    summary = feedback_summary(int(days))
    click.echo(f"Tilbakemeldinger {summary['from']} til {summary['to']}")
    total_yes = sum(day["yes"] for day in summary["per_day"])
    total_no = sum(day["no"] for day in summary["per_day"])
    click.echo(f"Stemmer: {total_yes + total_no} (ja {total_yes}, nei {total_no})")
    click.echo(f"Sider som hjelper minst (minst {MIN_VOTES} stemmer):")
    for page in [p for p in summary["pages"] if p["votes"] >= MIN_VOTES][:10]:
        click.echo(f"  {page['no_share']:4.0%} nei av {page['votes']:>4}  {page['slug']}")
    click.echo(f"Kommentarer: {len(summary['comments'])} (les dem på /innsikt)")


def init_app(app: Flask) -> None:
    """Register the authors' pages (404 while INSIGHTS_USERS is empty) and the CLI."""
    users = app.extensions["insights_users"] = parse_users(app.config["INSIGHTS_USERS"])
    if users:
        method = next(iter(users.values())).split("$")[0]
        app.extensions["insights_unknown_user"] = generate_password_hash(os.urandom(16).hex(), method=method)
    app.register_blueprint(bp)
    app.cli.add_command(insights_cli)
