"""Reader feedback: "Var denne siden nyttig?" under every page, stored without cookies.

A plain form posts to /tilbakemelding. "Ja" is thanked on the page itself (`takk=1`, a page
variant like any other, the same bytes for everyone); "Nei" leads to a short form asking
what was wrong. One vote counts per reader, page and day: a reader is a hash of the day's
salt, the client and the page, and a later answer the same day replaces the earlier one.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urlencode

import click
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask.cli import with_appcontext
from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest, Forbidden, NotFound, ServiceUnavailable

from app import tally
from app.db import DailySalt, Vote, db, dialect_insert, stored_salt
from app.documents import get_library
from app.languages import CODES, DEFAULT_LANGUAGE, texts
from app.limits import client_address, limiter
from app.pagecache import NO_STORE
from app.pages import SLUG
from app.presentation import Presentation, layout_context
from app.votes import NotSaved, VoteWriter

bp = Blueprint("feedback", __name__)

# What a reader can say was wrong, in the order the form shows them.
REASONS = ("not_found", "unclear", "wrong", "other")
MAX_COMMENT_CHARS = 1000
# Control characters other than line breaks and tabs: dropped from comments.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A form with a full comment in three-byte letters, percent-encoded, fits with room to spare.
MAX_BODY_BYTES = 16 * 1024
# Pruning runs this long after midnight UTC: yesterday's salt is gone by then.
PRUNE_AFTER_MIDNIGHT_SECONDS = 60
# Held while `prune_daily` works: the launcher forks no worker meanwhile, since a worker
# forked then could inherit a lock (in SQLite, say) that no thread of its own would release.
PRUNING = threading.Lock()
# A post waits this long for its vote to be committed before it is answered 503.
SAVE_SECONDS = 5.0


class Feedback(NamedTuple):
    """One reader's answer about one page, checked."""

    slug: str
    lang: str  # the language the page was shown in
    helpful: bool
    reasons: tuple[str, ...] = ()
    comment: str | None = None


def feedback_limit():
    """The rate limit on feedback posts, shared by the form and the API."""
    return limiter.shared_limit(lambda: current_app.config["FEEDBACK_RATE_LIMIT"], scope="feedback")


def checked(slug: object, lang: str, helpful: object, reasons: object = (), comment: object = None) -> Feedback:
    """A Feedback from what a client sent; BadRequest naming the problem, NotFound for no such page."""
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise BadRequest("slug must name a help page: lower-case letters a-z, digits and hyphens.")
    found = get_library().find(slug, lang)
    if found is None:
        raise NotFound(f"There is no help page named {slug!r}.")
    if helpful not in ("yes", "no", True, False):
        raise BadRequest("helpful must be yes or no.")
    if isinstance(reasons, str) or not isinstance(reasons, (list, tuple)) or not all(r in REASONS for r in reasons):
        raise BadRequest(f"reasons must be a list of: {', '.join(REASONS)}.")
    if comment is not None and not isinstance(comment, str):
        raise BadRequest("comment must be text.")
    comment = without_controls(comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise BadRequest(f"comment must be at most {MAX_COMMENT_CHARS} characters.")
    return Feedback(slug, found[1], helpful in ("yes", True), tuple(dict.fromkeys(reasons)), comment or None)


def without_controls(text: str) -> str:
    """`text` with line breaks as \\n and no other control characters (no HTML page may show them)."""
    return CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def record(feedback: Feedback) -> None:
    """Store one vote, replacing this reader's earlier vote for the page today; committed
    before this returns (with other votes of this worker: see app/votes.py).
    ServiceUnavailable when the database cannot take it."""
    today = datetime.now(UTC).date()
    try:
        values = {"day": today, "reader": reader(today, feedback.slug), "slug": feedback.slug,
                  "lang": feedback.lang, "helpful": feedback.helpful, "reasons": ",".join(feedback.reasons),
                  "comment": feedback.comment, "created_at": datetime.now(UTC)}
        current_app.extensions["vote_writer"].save(values, timeout=SAVE_SECONDS)
    except (SQLAlchemyError, NotSaved):
        current_app.logger.exception("cannot store feedback")
        raise ServiceUnavailable("The feedback could not be saved; try again later.", retry_after=30) from None


@cache
def upsert(dialect: str):
    """INSERT … ON CONFLICT (day, reader) DO UPDATE for `dialect` (sqlite or postgresql), built once."""
    statement = dialect_insert(dialect)(Vote.__table__)
    return statement.on_conflict_do_update(
        index_elements=["day", "reader"],
        set_={name: statement.excluded[name] for name in ("lang", "helpful", "reasons", "comment", "created_at")})


def reader(day: date, slug: str) -> str:
    """Who answers, for one page and one day: a hash that names nobody once the salt is gone."""
    client = f"{client_address()}\0{request.headers.get('User-Agent', '')[:256]}\0{slug}"
    return hashlib.sha256(daily_salt(day) + client.encode()).hexdigest()


def daily_salt(day: date) -> bytes:
    """The salt of `day`, made by whichever worker or replica needs it first."""
    memo = current_app.extensions["feedback_salt"]
    if day not in memo:
        salt = stored_salt(db.engine, day)
        memo.clear()  # only today's is kept
        memo[day] = salt
    return memo[day]


def cross_site() -> bool:
    """Whether a post comes from another site's page (a browser says so in Sec-Fetch-Site or
    Origin). A post with neither comes from no web page, so no reader was tricked into it."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is not None and origin != own_origin()


def own_origin() -> str:
    """This site's origin: PUBLIC_BASE_URL when set, else the one the request was made to."""
    return current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")


@bp.post("/tilbakemelding")
@feedback_limit()
def submit():
    """The form under a page: a vote, or the reasons for a "Nei"; then the way back."""
    request.max_content_length = MAX_BODY_BYTES
    if cross_site():
        raise Forbidden()
    view = Presentation.of_request()
    form = request.form
    slug = request.args.get("doc", "")
    if form.get("website"):  # a field people never see: only a robot fills it in
        return redirect(thanks_url(slug, view), code=303)
    feedback = checked(slug, view.lang, form.get("helpful"), form.getlist("reasons"), form.get("comment"))
    record(feedback)
    if feedback.helpful or form.get("step") == "details":
        return redirect(thanks_url(slug, view), code=303)
    return redirect(f"{url_for('feedback.details')}?{view.query(doc=slug)}", code=303)


@bp.get("/tilbakemelding")
def details():
    """What was wrong: the form a "Nei" leads to."""
    view = Presentation.of_request()
    slug = request.args.get("doc", "")
    found = get_library().find(slug, view.lang) if SLUG.fullmatch(slug) else None
    if found is None:
        abort(404)
    page, _ = found
    t = texts(view.lang)
    response = current_app.make_response(render_template(
        "feedback.html", page=page, reasons=[(code, t[f"feedback_reason_{code}"]) for code in REASONS],
        action=f"{url_for('feedback.submit')}?{view.query(doc=slug)}",
        back=f"{url_for('help.docs')}?{view.query(doc=slug)}", support=support_url(slug, view.lang),
        privacy=t["feedback_privacy"].format(days=current_app.config["FEEDBACK_RETENTION_DAYS"]),
        max_comment=MAX_COMMENT_CHARS, noindex=True, **layout_context(view, {"doc": slug})))
    response.headers["Cache-Control"] = NO_STORE
    return response


def thanks_url(slug: str, view: Presentation) -> str:
    """The page again, thanking the reader where the question was."""
    thanked = replace(view, thanks=True)
    return f"{url_for('help.docs')}?{thanked.query(doc=slug)}#tilbakemelding"


def support_url(slug: str, lang: str) -> str | None:
    """SUPPORT_URL, naming the page and language the reader comes from; None when not set."""
    base = current_app.config["SUPPORT_URL"]
    if not base:
        return None
    separator = "&" if "?" in base else "?"
    if base.startswith("mailto:"):
        return f"{base}{separator}subject={quote(f'Hjelpesiden {slug} ({lang})')}"
    return f"{base}{separator}{urlencode({'page': slug, 'lang': lang})}"


def prune(today: date | None = None) -> tuple[int, int]:
    """Delete comments older than FEEDBACK_RETENTION_DAYS and the salts of past days;
    how many of each."""
    today = today or datetime.now(UTC).date()
    cutoff = today - timedelta(days=current_app.config["FEEDBACK_RETENTION_DAYS"])
    comments = db.session.execute(
        update(Vote).where(Vote.day < cutoff, Vote.comment.is_not(None)).values(comment=None)).rowcount
    salts = db.session.execute(delete(DailySalt).where(DailySalt.day < today)).rowcount
    db.session.commit()
    return comments, salts


def prune_daily(app: Flask, stop: threading.Event) -> None:
    """Prune now, then just after each midnight (UTC), until `stop` is set: a day's salt is
    gone minutes after its day ends. The launcher runs this in a thread, holding PRUNING
    while it works, and keeps no database connection between prunes."""
    while True:
        with PRUNING, app.app_context():
            try:
                comments, salts = prune()
                app.logger.info("feedback pruned: %d comments, %d salts", comments, salts)
                folded, deleted = tally.prune()
                app.logger.info("insights pruned: %d rare searches folded, %d old rows deleted", folded, deleted)
            except SQLAlchemyError:
                app.logger.exception("pruning feedback failed; trying again after midnight")
            finally:
                db.engine.dispose()
        if stop.wait(seconds_to_next_prune(datetime.now(UTC))):
            return


def seconds_to_next_prune(now: datetime) -> float:
    """Seconds from `now` until a minute past the next midnight UTC."""
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return (midnight - now).total_seconds() + PRUNE_AFTER_MIDNIGHT_SECONDS


@click.group("feedback")
def feedback_cli() -> None:
    """Reader feedback."""


@feedback_cli.command("prune")
@with_appcontext
def prune_command() -> None:
    """Delete comments past FEEDBACK_RETENTION_DAYS, and salts of past days."""
    comments, salts = prune()
    click.echo(f"Deleted {comments} comments older than {current_app.config['FEEDBACK_RETENTION_DAYS']} days "
               f"and {salts} salts of past days.")


def json_feedback(data: Mapping) -> Feedback:
    """A Feedback from the JSON API's object (see openapi.json)."""
    unknown = set(data) - {"slug", "lang", "helpful", "reasons", "comment"}
    if unknown:
        raise BadRequest(f"Unknown fields: {', '.join(sorted(unknown))}.")
    helpful = data.get("helpful")
    if not isinstance(helpful, bool):
        raise BadRequest("helpful must be true or false.")
    lang = data.get("lang", DEFAULT_LANGUAGE)
    if lang not in CODES:
        raise BadRequest(f"lang must be one of: {', '.join(CODES)}.")
    return checked(data.get("slug"), lang, helpful, data.get("reasons", []), data.get("comment"))


def init_app(app: Flask) -> None:
    """Register the form, and `flask feedback prune`."""
    app.extensions["feedback_salt"] = {}
    with app.app_context():
        engine = db.engine
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    lock_file = Path(f"{database}.write-lock") if database and database != ":memory:" else None
    app.extensions["vote_writer"] = VoteWriter(engine, upsert(engine.dialect.name), lock_file)
    app.register_blueprint(bp)
    app.cli.add_command(feedback_cli)
