"""Reader feedback: "Var denne siden nyttig?" under every page, stored without cookies.

A plain form posts to /tilbakemelding. "Ja" is thanked on the page itself (`takk=1`, a page
variant like any other, the same bytes for everyone); "Nei" leads to a short form asking
what was wrong. One vote counts per reader, page and day, and one client network (an IPv4
address, an IPv6 /64) counts as at most FEEDBACK_VOTES_PER_ADDRESS readers, whatever its
headers say: a reader is a hash of the day's salt, the network, the page and one of that
many seats, which the user agent picks. A later answer from the same seat replaces the
vote; a comment is kept apart and never replaced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache
from typing import NamedTuple
from urllib.parse import quote, unquote_to_bytes, urlencode

import click
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask.cli import with_appcontext
from sqlalchemy import bindparam, cast, func, insert, select, type_coerce
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    NotFound,
    RequestEntityTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)

from app.caching.responses import NO_STORE
from app.content.library import get_library
from app.content.page import SLUG
from app.guards.clients import client_network
from app.guards.limits import DATABASE_SLOT_WAIT_SECONDS, database_slot, limiter, rate_limit
from app.languages import CODES, DEFAULT_LANGUAGE, texts
from app.presentation import Presentation, layout_context
from app.privacy import is_unicode, without_controls
from app.readers.database import database_command, dialect_insert
from app.readers.group_commit import GroupCommit, NotSaved, write_lock_file
from app.readers.identity import daily_salts, reader_hash
from app.readers.models import Comment, Vote, db
from app.readers.retention import prune_feedback

bp = Blueprint("feedback", __name__)

# What a reader can say was wrong, in the order the form shows them.
REASONS = ("not_found", "unclear", "wrong", "other")
MAX_COMMENT_CHARS = 1000
# A form with a full comment in three-byte letters, percent-encoded, fits with room to spare.
MAX_BODY_BYTES = 16 * 1024
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
    return limiter.shared_limit(rate_limit("FEEDBACK_RATE_LIMIT"), scope="feedback")


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
    if comment and not is_unicode(comment):
        raise BadRequest("comment must be Unicode text (it holds a lone surrogate).")
    comment = without_controls(comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise BadRequest(f"comment must be at most {MAX_COMMENT_CHARS} characters.")
    # Reasons say why a page did not help: a "Ja" keeps none (they would count among a page's reasons).
    useful = helpful in ("yes", True)
    return Feedback(slug, found[1], useful, () if useful else tuple(dict.fromkeys(reasons)), comment or None)


def record(feedback: Feedback) -> None:
    """Store one vote, replacing this reader's earlier vote for the page today, and its comment;
    committed before this returns (with other writes of this worker: see app/readers/group_commit.py).
    ServiceUnavailable when the database cannot take it, or while this worker's requests that
    wait on the database are as many as DATABASE_SLOTS."""
    # To the hour, no finer: a time to the microsecond would match the post's line in a
    # proxy's or load balancer's log, and with it the reader's address. Comments of one hour
    # are ordered by their ids.
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    writer = current_app.extensions["feedback_writer"]
    with database_slot(wait=0 if writer.failing else DATABASE_SLOT_WAIT_SECONDS):
        try:
            vote = {
                "day": now.date(),
                "reader": reader(now.date(), feedback.slug),
                "slug": feedback.slug,
                "lang": feedback.lang,
                "helpful": feedback.helpful,
                "reasons": ",".join(feedback.reasons),
                "created_at": now,
            }
            dialect = db.engine.dialect.name
            statements = [(upsert(dialect), vote)]
            if feedback.comment:
                statements.append(
                    (
                        comment_insert(dialect, current_app.config["FEEDBACK_COMMENTS_PER_DAY"]),
                        {
                            "day": now.date(),
                            "slug": feedback.slug,
                            "lang": feedback.lang,
                            "comment": feedback.comment,
                            "created_at": now,
                        },
                    )
                )
            writer.save(statements, timeout=SAVE_SECONDS)
        except (SQLAlchemyError, NotSaved) as error:
            current_app.logger.warning("cannot store feedback: %s", type(error).__name__)
            raise ServiceUnavailable("The feedback could not be saved; try again later.", retry_after=30) from None


@cache
def upsert(dialect: str):
    """INSERT … ON CONFLICT (day, reader) DO UPDATE for `dialect` (sqlite or postgresql), built once."""
    statement = dialect_insert(dialect)(Vote.__table__)
    return statement.on_conflict_do_update(
        index_elements=["day", "reader"],
        set_={name: statement.excluded[name] for name in ("lang", "helpful", "reasons", "created_at")},
    )


@cache
def comment_insert(dialect: str, per_day: int):
    """INSERT of a comment that adds nothing once the day holds `per_day` comments, built once.

    PostgreSQL is told the values' types (a parameter in a SELECT list has none); SQLite is
    not, since its CAST to DATE is a cast to a number ('2026-12-06' would be 2026)."""
    columns = ("day", "slug", "lang", "comment", "created_at")
    table = Comment.__table__
    typed = cast if dialect == "postgresql" else type_coerce
    that_day = select(func.count()).select_from(table).where(table.c.day == bindparam("day")).scalar_subquery()
    values = select(*(typed(bindparam(name), table.c[name].type) for name in columns)).where(that_day < per_day)
    return insert(table).from_select(columns, values)


def reader(day: date, slug: str) -> str:
    """Who answers, for one page and one day: the client's network and one of its
    FEEDBACK_VOTES_PER_ADDRESS seats, which its user agent picks (so that readers behind one
    address count apart, up to that many, and a client that changes its headers moves
    between those seats only)."""
    salt = daily_salts(current_app).of(day)
    browser = request.headers.get("User-Agent", "")[:256].encode("utf-8", "replace")
    seat = (
        int.from_bytes(hashlib.sha256(salt + browser).digest()[:4]) % current_app.config["FEEDBACK_VOTES_PER_ADDRESS"]
    )
    return reader_hash(salt, client_network(), slug, str(seat))


def body() -> bytes:
    """The request's body, at most MAX_BODY_BYTES; RequestEntityTooLarge (413) past that.

    werkzeug (3.1) reads a body of unknown length (chunked) only as far as the limit and
    returns what it read without a word, so a longer form was parsed cut short (a comment
    too long, a 400; fields past the cut, lost): such a body is read one byte further."""
    request.max_content_length = MAX_BODY_BYTES + (request.content_length is None)
    data = request.get_data(cache=True)
    if len(data) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    return data


def json_body() -> object:
    """The request's JSON body; BadRequest for anything that is not JSON, nested too deep included."""
    try:
        return json.loads(body())
    except (ValueError, RecursionError):
        raise BadRequest("The body is not JSON.") from None


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


def is_utf8(form: bytes) -> bool:
    """Whether a URL-encoded form's fields are UTF-8 once percent-decoded."""
    try:
        unquote_to_bytes(form).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@bp.post("/tilbakemelding")
@feedback_limit()
def submit():
    """The form under a page: a vote, or the reasons for a "Nei"; then the way back."""
    if cross_site():
        raise Forbidden()
    presentation = Presentation.of_request()
    if len(request.args.getlist("doc")) > 1:
        raise BadRequest("The form names more than one page.")
    # The form is URL-encoded (a multipart body's undecodable bytes would be stored as U+FFFD),
    # and werkzeug keeps bytes it cannot decode as "%FF": comments the reader never wrote.
    if request.mimetype not in ("application/x-www-form-urlencoded", ""):  # (none: an empty form)
        raise UnsupportedMediaType("The form is sent URL-encoded.")
    if not is_utf8(body()):
        raise BadRequest("The form must be UTF-8.")
    form = request.form
    slug = request.args.get("doc", "")
    if form.get("website"):  # a field people never see: only a robot fills it in
        return redirect(thanks_url(slug, presentation), code=303)
    feedback = checked(slug, presentation.lang, form.get("helpful"), form.getlist("reasons"), form.get("comment"))
    record(feedback)
    if feedback.helpful or form.get("step") == "details":
        return redirect(thanks_url(slug, presentation), code=303)
    return redirect(f"{url_for('feedback.details')}?{presentation.query(doc=slug)}", code=303)


@bp.get("/tilbakemelding")
def details():
    """What was wrong: the form a "Nei" leads to."""
    presentation = Presentation.of_request()
    slug = request.args.get("doc", "")
    found = get_library().find(slug, presentation.lang) if SLUG.fullmatch(slug) else None
    if found is None:
        abort(404)
    page, _ = found
    t = texts(presentation.lang)
    response = current_app.make_response(
        render_template(
            "feedback.html",
            page=page,
            reasons=[(code, t[f"feedback_reason_{code}"]) for code in REASONS],
            action=f"{url_for('feedback.submit')}?{presentation.query(doc=slug)}",
            back=f"{url_for('help.docs')}?{presentation.query(doc=slug)}",
            support=support_url(slug, presentation.lang),
            privacy=t["feedback_privacy"].format(days=current_app.config["FEEDBACK_RETENTION_DAYS"]),
            max_comment=MAX_COMMENT_CHARS,
            noindex=True,
            **layout_context(presentation, {"doc": slug}),
        )
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


def thanks_url(slug: str, presentation: Presentation) -> str:
    """The page again, thanking the reader where the question was."""
    thanked = replace(presentation, thanks=True)
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


@click.group("feedback")
def feedback_cli() -> None:
    """Reader feedback."""


@feedback_cli.command("prune")
@with_appcontext
@database_command
def prune_command() -> None:
    """Delete comments past FEEDBACK_RETENTION_DAYS, and salts of past days."""
    comments, salts = prune_feedback()
    click.echo(
        f"Deleted {comments} comments {current_app.config['FEEDBACK_RETENTION_DAYS']} days old or older "
        f"and {salts} salts of past days."
    )


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
    with app.app_context():
        engine = db.engine
    app.extensions["feedback_writer"] = GroupCommit(engine, write_lock_file(engine))
    daily_salts(app)  # now: a reader key that cannot be read stops the start, not every vote
    app.register_blueprint(bp)
    app.cli.add_command(feedback_cli)
