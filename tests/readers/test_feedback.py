"""Reader feedback: the form under every page, the follow-up, the JSON API, and what is stored."""

from __future__ import annotations

import io
import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest
from helpers import SAME_SITE, comments, from_address, migrated, scripts_other_than_ours, stored, votes
from sqlalchemy import create_engine, text

from app.config import ConfigError
from app.readers.feedback import MAX_BODY_BYTES
from app.readers.group_commit import FAILED_SECONDS

PAGE = "/docs.php?doc=what-is-ip-adapter"
FORM = "/tilbakemelding?doc=what-is-ip-adapter"


@pytest.fixture
def feedback_app(make_app, tmp_path):
    return migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db", SUPPORT_URL="mailto:hjelp@example.org"))


@pytest.fixture
def reader(feedback_app):
    return feedback_app.test_client()


# The form under every page.


@pytest.mark.parametrize("query", ["", "&lang=en", "&embed=1", "&theme=dark", "&lang=en&embed=1&theme=light"])
def test_every_page_asks_with_a_plain_form_that_keeps_the_presentation(reader, query):
    html = reader.get(PAGE + query).text
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
    assert form, "no feedback form"
    assert form.group(1) == "/tilbakemelding?doc=what-is-ip-adapter" + query.replace("&", "&amp;")
    assert '<button name="helpful" value="yes">' in form.group(2)
    assert '<button name="helpful" value="no">' in form.group(2)
    question = "Was this page helpful?" if "lang=en" in query else "Var denne siden nyttig?"
    assert question in form.group(2) and scripts_other_than_ours(html) == []


def test_the_cached_page_is_the_same_for_every_reader(reader, feedback_app):
    first = reader.get(PAGE, headers={"User-Agent": "a"})
    other = feedback_app.test_client().get(PAGE, headers={"User-Agent": "b"})
    assert first.data == other.data and first.headers["ETag"] == other.headers["ETag"]
    assert "Set-Cookie" not in first.headers


def test_yes_is_thanked_on_the_page_itself(reader, feedback_app):
    response = reader.post(FORM + "&lang=en&embed=1", data={"helpful": "yes"}, headers=SAME_SITE)
    assert response.status_code == 303
    assert response.headers["Location"] == "/docs.php?doc=what-is-ip-adapter&lang=en&embed=1&takk=1#tilbakemelding"
    assert "Set-Cookie" not in response.headers
    thanked = reader.get(response.headers["Location"].split("#")[0])
    assert thanked.status_code == 200 and "Thank you for your feedback!" in thanked.text
    assert 'name="helpful"' not in thanked.text and '<meta name="robots" content="noindex">' in thanked.text
    assert 'class="embed"' in thanked.text
    again = feedback_app.test_client().get(response.headers["Location"].split("#")[0])
    assert again.data == thanked.data  # a page variant, cached like the others
    [vote] = votes(feedback_app)
    assert vote["slug"] == "what-is-ip-adapter" and vote["helpful"] and vote["lang"] == "en"


def test_no_asks_what_was_wrong_then_thanks(reader, feedback_app):
    response = reader.post(FORM + "&theme=dark", data={"helpful": "no"}, headers=SAME_SITE)
    assert response.status_code == 303
    assert response.headers["Location"] == "/tilbakemelding?doc=what-is-ip-adapter&theme=dark"
    details = reader.get(response.headers["Location"])
    assert details.status_code == 200 and details.headers["Cache-Control"] == "no-store"
    html = details.text
    assert "Hva var galt?" in html and 'data-theme="dark"' in html and 'content="noindex"' in html
    assert 'action="/tilbakemelding?doc=what-is-ip-adapter&amp;theme=dark"' in html
    for reason in ("not_found", "unclear", "wrong", "other"):
        assert f'name="reasons" value="{reason}"' in html
    assert 'maxlength="1000"' in html and "personlige opplysninger" in html
    assert 'href="mailto:hjelp@example.org?subject=Hjelpesiden%20what-is-ip-adapter%20%28nb%29"' in html
    done = reader.post(
        FORM + "&theme=dark",
        headers=SAME_SITE,
        data={
            "helpful": "no",
            "step": "details",
            "reasons": ["unclear", "wrong"],
            "comment": "  Mangler et eksempel.  ",
        },
    )
    assert done.headers["Location"] == "/docs.php?doc=what-is-ip-adapter&theme=dark&takk=1#tilbakemelding"
    [vote] = votes(feedback_app)  # the details replaced the first "Nei"
    assert (vote["helpful"], vote["reasons"]) == (False, "unclear,wrong")
    assert comments(feedback_app) == ["Mangler et eksempel."]


def test_one_vote_per_reader_page_and_day(reader, feedback_app):
    for helpful in ("yes", "no", "yes"):
        reader.post(FORM, data={"helpful": helpful}, **from_address("198.51.100.1", "telefon"))
    reader.post(FORM, data={"helpful": "no"}, **from_address("198.51.100.2", "telefon"))
    reader.post(
        "/tilbakemelding?doc=instantid-intro", data={"helpful": "no"}, **from_address("198.51.100.1", "telefon")
    )
    found = votes(feedback_app)
    assert [(v["slug"], v["helpful"]) for v in found] == [
        ("what-is-ip-adapter", True),
        ("what-is-ip-adapter", False),
        ("instantid-intro", False),
    ]
    assert len({v["reader"] for v in found}) == 3


@pytest.mark.parametrize(
    "addresses",
    [
        ["203.0.113.9"],
        ["203.0.113.9", "::ffff:203.0.113.9"],  # IPv4 as a dual-stack socket writes it: the same address
        ["2001:db8:1:2::1", "2001:db8:1:2:ffff::7"],  # one /64
    ],
)
def test_one_address_moves_a_pages_tally_by_at_most_three_votes_whatever_its_headers(reader, feedback_app, addresses):
    for i in range(24):
        post = from_address(addresses[i % len(addresses)], f"Agent/{i}")
        assert reader.post(FORM, data={"helpful": "no"}, **post).status_code == 303
    assert len(votes(feedback_app)) <= 3
    reader.post(FORM, data={"helpful": "no"}, **from_address("203.0.113.10"))
    reader.post(FORM, data={"helpful": "no"}, **from_address("2001:db8:1:3::1"))
    assert (
        len(votes(feedback_app)) <= 5
        and len(votes(feedback_app)) - 2 == len({v["reader"] for v in votes(feedback_app)}) - 2
    )


def test_the_votes_per_address_are_a_setting(make_app, tmp_path):
    app = migrated(make_app(FEEDBACK_VOTES_PER_ADDRESS="1", DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db"))
    client = app.test_client()
    for i in range(10):
        client.post(FORM, data={"helpful": "yes" if i % 2 else "no"}, **from_address("203.0.113.9", f"Agent/{i}"))
    [vote] = votes(app)
    assert vote["helpful"]  # the last answer


def test_a_comment_is_never_replaced_or_deleted_by_another_post(reader, feedback_app):
    same = from_address("203.0.113.5", "Samme nettleser")
    reader.post(FORM, data={"helpful": "no", "step": "details", "comment": "Først"}, **same)
    reader.post(FORM, data={"helpful": "no", "step": "details", "comment": "Andre"}, **same)
    reader.post(FORM, data={"helpful": "yes"}, **same)
    assert comments(feedback_app) == ["Først", "Andre"]
    [vote] = votes(feedback_app)
    assert vote["helpful"]


def test_nothing_that_names_the_reader_is_stored(reader, feedback_app):
    reader.post(
        FORM,
        data={"helpful": "yes"},
        headers={**SAME_SITE, "User-Agent": "Mozilla/5.0 (Unik)"},
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    reader.post(
        FORM,
        data={"helpful": "no", "step": "details", "comment": "Uklart"},
        headers={**SAME_SITE, "User-Agent": "Mozilla/5.0 (Unik)"},
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    [vote] = votes(feedback_app)
    [comment] = stored(feedback_app, "feedback_comments")
    assert "203.0.113.77" not in repr(vote) and "Unik" not in repr(vote) and "Mozilla" not in repr(vote)
    assert re.fullmatch(r"[0-9a-f]{64}", vote["reader"])
    # Its time only to the hour: a finer one would match the post's line in a proxy's log.
    hours = {(datetime.now(UTC) - timedelta(minutes=m)).strftime("%Y-%m-%d %H:00:00") for m in (0, 1)}
    assert str(vote["created_at"])[:19] in hours and str(comment["created_at"])[:19] in hours
    assert re.fullmatch(r"[0-9: -]+(\.0+)?(\+00:00)?", str(vote["created_at"])), vote["created_at"]


# Refused: each answered clearly, and nothing stored.


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_cross_site_posts_are_refused(reader, feedback_app, headers):
    response = reader.post(FORM, data={"helpful": "no"}, headers=headers)
    assert response.status_code == 403 and "Ikke tillatt" in response.text
    assert votes(feedback_app) == []


def test_a_filled_honeypot_is_thanked_and_dropped(reader, feedback_app):
    response = reader.post(FORM, data={"helpful": "yes", "website": "http://spam.example"}, headers=SAME_SITE)
    assert response.status_code == 303 and "takk=1" in response.headers["Location"]
    assert votes(feedback_app) == []


@pytest.mark.parametrize(
    "data, status",
    [
        ({}, 400),
        ({"helpful": "kanskje"}, 400),
        ({"helpful": "no", "reasons": "<script>"}, 400),
        ({"helpful": "no", "comment": "x" * 1001}, 400),
        ({"helpful": "no", "comment": "x" * 20_000}, 413),
    ],
)
def test_malformed_or_oversize_posts_are_refused(reader, feedback_app, data, status):
    response = reader.post(FORM, data=data, headers=SAME_SITE)
    assert response.status_code == status and "<html" in response.text
    assert ("Kunne ikke ta imot svaret" if status == 400 else "For mye tekst") in response.text
    assert votes(feedback_app) == []


def chunked(body: bytes) -> dict:
    """A test client's arguments for a body sent chunked, as the server passes it on: its
    length unknown (werkzeug ignores Content-Length beside Transfer-Encoding: chunked)."""
    return {
        "input_stream": io.BytesIO(body),
        "environ_overrides": {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    }


@pytest.mark.parametrize(
    "path, body, content_type",
    [
        (FORM, b"helpful=no&comment=" + b"x" * 20_000, "application/x-www-form-urlencoded"),
        # Cut at the limit, this would be a short comment and a form without the "website" trap's answer.
        (
            FORM,
            b"helpful=no&comment=kort&" + b"pad=" + b"x" * 16_400 + b"&website=spam",
            "application/x-www-form-urlencoded",
        ),
        (
            "/api/feedback",
            b'{"slug": "instantid-intro", "helpful": true, "pad": "' + b"x" * 20_000 + b'"}',
            "application/json",
        ),
    ],
)
def test_a_chunked_body_past_the_limit_is_refused_not_cut_short(reader, feedback_app, path, body, content_type):
    response = reader.post(path, headers={**SAME_SITE, "Content-Type": content_type}, **chunked(body))
    assert response.status_code == 413
    assert votes(feedback_app) == []


def test_a_body_up_to_the_limit_is_taken_whole_however_it_is_sent(reader, feedback_app):
    form = {**SAME_SITE, "Content-Type": "application/x-www-form-urlencoded"}
    full = b"helpful=yes&pad="
    full += b"x" * (MAX_BODY_BYTES - len(full))
    assert reader.post(FORM, data=full, headers=form).status_code == 303
    assert reader.post(FORM, headers=form, **chunked(full)).status_code == 303
    assert reader.post(FORM, headers=form, **chunked(b"helpful=no&comment=kort")).status_code == 303
    assert comments(feedback_app) == ["kort"]


@pytest.mark.parametrize(
    "body", ["helpful=no&comment=a%ed%a0%80b", "helpful=no&comment=a%ffb", "helpful=no&comment=a%C3"]
)
def test_a_form_that_is_not_utf_8_is_refused(reader, feedback_app, body):
    # werkzeug would keep the bytes it cannot decode as "%FF": a comment the reader never wrote
    form = {"content_type": "application/x-www-form-urlencoded", "headers": SAME_SITE}
    response = reader.post(FORM, data=body.encode(), **form)
    assert response.status_code == 400 and "Kunne ikke ta imot svaret" in response.text
    assert votes(feedback_app) == [] and comments(feedback_app) == []
    # "%FF" typed by a reader is sent as %25FF, and kept as typed
    assert reader.post(FORM, data=b"helpful=no&comment=%25FF+%C3%A6", **form).status_code == 303
    assert comments(feedback_app) == ["%FF æ"]


@pytest.mark.parametrize("raw", [b"a\xffb", b"a\xed\xa0\x80b", b"ok"])
def test_a_multipart_form_is_refused(reader, feedback_app, raw):
    # werkzeug would store a\ufffdb for bytes that are not UTF-8; the page's form never sends one
    parts = [(b"helpful", b"no"), (b"step", b"details"), (b"comment", raw)]
    body = b"".join(
        b'--XyZ\r\nContent-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value + b"\r\n"
        for name, value in parts
    )
    content_type = "multipart/form-data; boundary=XyZ"
    response = reader.post(FORM, data=body + b"--XyZ--\r\n", content_type=content_type, headers=SAME_SITE)
    assert response.status_code == 415 and "<html" in response.text
    assert votes(feedback_app) == [] and comments(feedback_app) == []


def test_a_form_naming_two_pages_is_refused(reader, feedback_app):
    response = reader.post(FORM + "&doc=instantid-intro", data={"helpful": "yes"}, headers=SAME_SITE)
    assert response.status_code == 400
    assert votes(feedback_app) == []


@pytest.mark.parametrize(
    "url, status",
    [
        ("/tilbakemelding?doc=finnes-ikke", 404),
        ("/tilbakemelding?doc=../../etc/passwd", 400),
        ("/tilbakemelding", 400),
        ("/tilbakemelding?doc=" + "a" * 5000, 400),
    ],
)
def test_posts_about_pages_that_do_not_exist_are_refused(reader, feedback_app, url, status):
    assert reader.post(url, data={"helpful": "yes"}, headers=SAME_SITE).status_code == status
    assert reader.get(url.replace("/tilbakemelding", "/tilbakemelding")).status_code == 404
    assert votes(feedback_app) == []


def test_a_flood_of_posts_is_rate_limited(make_app, tmp_path):
    app = migrated(
        make_app(
            RATELIMIT_ENABLED=True, FEEDBACK_RATE_LIMIT="5/minute", DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db"
        )
    )
    client = app.test_client()
    statuses = [client.post(FORM, data={"helpful": "yes"}, headers=SAME_SITE).status_code for _ in range(8)]
    assert statuses == [303] * 5 + [429] * 3
    limited = client.post("/api/feedback", json={"slug": "instantid-intro", "helpful": True})
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert client.get(PAGE).status_code == 200  # reading is not limited


def test_a_locked_database_gives_a_503_page_and_pages_stay_up(feedback_app, reader, monkeypatch):
    from app.readers import database

    monkeypatch.setattr(database, "SQLITE_BUSY_MS", 50)
    path = feedback_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with feedback_app.app_context():
        database.db.engine.dispose()  # new connections, with the short wait
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = reader.post(FORM, data={"helpful": "yes"}, headers=SAME_SITE)
        assert response.status_code == 503 and "Prøv igjen om litt" in response.text
        assert response.headers["Retry-After"] == "30"
        assert reader.get(PAGE).status_code == 200 and reader.get("/docs.php?doc=instantid-intro").status_code == 200
    finally:
        holder.rollback()
        holder.close()
    assert reader.post(FORM, data={"helpful": "yes"}, headers=SAME_SITE).status_code == 303


def test_a_database_without_its_tables_gives_503_not_500(make_app, tmp_path):
    client = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/empty.db").test_client()
    assert client.post(FORM, data={"helpful": "yes"}, headers=SAME_SITE).status_code == 503
    assert client.post("/api/feedback", json={"slug": "instantid-intro", "helpful": True}).status_code == 503


# The JSON API.


def test_the_api_records_a_vote(reader, feedback_app):
    response = reader.post(
        "/api/feedback",
        json={
            "slug": "instantid-intro",
            "lang": "en",
            "helpful": False,
            "reasons": ["wrong"],
            "comment": "<b>gammel</b>",
        },
    )
    assert response.status_code == 201 and response.json == {"recorded": True}
    assert response.headers["Cache-Control"] == "no-store"
    [vote] = votes(feedback_app)
    assert (vote["slug"], vote["lang"], vote["helpful"], vote["reasons"]) == ("instantid-intro", "en", False, "wrong")
    assert comments(feedback_app) == ["<b>gammel</b>"]  # stored as text, escaped where shown


def test_a_ja_keeps_no_reasons(reader, feedback_app):
    """Reasons say why a page did not help; sent with a "Ja", they are not counted among them."""
    vote = {"slug": "instantid-intro", "helpful": True, "reasons": ["wrong", "unclear"]}
    assert reader.post("/api/feedback", json=vote).status_code == 201
    assert [(v["helpful"], v["reasons"]) for v in votes(feedback_app)] == [(True, "")]


@pytest.mark.parametrize(
    "body",
    [
        '{"slug":"what-is-ip-adapter","helpful":false,"comment":"\\ud800"}',
        '{"slug":"what-is-ip-adapter","helpful":false,"comment":"a\\udfff\\ud800b"}',
    ],
)
def test_a_comment_that_is_not_unicode_is_refused_and_voting_goes_on(reader, feedback_app, body):
    for _ in range(3):
        response = reader.post("/api/feedback", data=body, content_type="application/json")
        assert response.status_code == 400 and "Unicode" in response.json["detail"]
    for i in range(3):
        assert (
            reader.post(
                "/api/feedback",
                json={"slug": "instantid-intro", "helpful": True},
                environ_base={"REMOTE_ADDR": f"192.0.2.{i}"},
            ).status_code
            == 201
        )
    assert len(votes(feedback_app)) == 3 and comments(feedback_app) == []


@pytest.mark.parametrize("body", ["[" * 5000, '{"a":' * 3000, "[" * 100_000])
def test_json_nested_too_deep_is_a_400_not_a_500(reader, feedback_app, body):
    response = reader.post("/api/feedback", data=body, content_type="application/json")
    assert response.status_code in (400, 413) and response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "kwargs, status, title",
    [
        ({"data": "helpful=yes", "content_type": "application/x-www-form-urlencoded"}, 415, "Unsupported media type"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "Malformed feedback"),
        ({"json": ["a", "list"]}, 400, "Malformed feedback"),
        ({"json": {"slug": "instantid-intro", "helpful": "yes"}}, 400, "Invalid feedback"),
        ({"json": {"slug": "instantid-intro", "helpful": True, "extra": 1}}, 400, "Invalid feedback"),
        ({"json": {"slug": "instantid-intro", "helpful": True, "lang": "de"}}, 400, "Invalid feedback"),
        ({"json": {"slug": "instantid-intro", "helpful": True, "reasons": "wrong"}}, 400, "Invalid feedback"),
        ({"json": {"slug": "instantid-intro", "helpful": True, "comment": 5}}, 400, "Invalid feedback"),
        ({"json": {"slug": "../etc", "helpful": True}}, 400, "Invalid feedback"),
        ({"json": {"slug": "finnes-ikke", "helpful": True}}, 404, "No such page"),
        (
            {"json": {"slug": "instantid-intro", "helpful": True, "comment": "x" * 20_000}},
            413,
            "Request Entity Too Large",
        ),
    ],
)
def test_bad_api_posts_are_problem_objects(reader, feedback_app, kwargs, status, title):
    response = reader.post("/api/feedback", **kwargs)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json" and response.json["title"] == title
    assert votes(feedback_app) == []


def test_the_api_takes_posts_from_the_site_and_the_configured_app_only(make_app, tmp_path):
    app = migrated(
        make_app(API_ALLOWED_ORIGINS="https://app.avatarify.example", DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db")
    )
    client = app.test_client()
    body = {"slug": "instantid-intro", "helpful": True}
    assert client.post("/api/feedback", json=body, headers={"Origin": "https://evil.example"}).status_code == 403
    allowed = client.post("/api/feedback", json=body, headers={"Origin": "https://app.avatarify.example"})
    assert allowed.status_code == 201
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.avatarify.example"
    preflight = client.options(
        "/api/feedback", headers={"Origin": "https://app.avatarify.example", "Access-Control-Request-Method": "POST"}
    )
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    assert len(votes(app)) == 1


def test_the_api_document_describes_feedback(client):
    operation = client.get("/api/openapi.json").json["paths"]["/api/feedback"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "403", "404", "413", "415", "429", "503"}


# Keeping it only as long as the settings say.


def test_prune_deletes_old_comments_and_past_salts(feedback_app, reader, make_app):
    reader.post("/api/feedback", json={"slug": "instantid-intro", "helpful": False, "comment": "ny"})
    engine = create_engine(feedback_app.config["SQLALCHEMY_DATABASE_URI"])
    today = datetime.now(UTC).date()
    with engine.begin() as connection:
        # Written on the day 90 days ago, a comment has been kept 90 days (89 if written at its end).
        for days, comment in ((91, "gammel"), (90, "90 dager"), (89, "nesten gammel")):
            connection.execute(
                text(
                    "INSERT INTO feedback_comments (day, slug, lang, comment, created_at) "
                    "VALUES (:day, 'instantid-intro', 'nb', :comment, :now)"
                ),
                {"day": today - timedelta(days=days), "comment": comment, "now": datetime.now(UTC)},
            )
        connection.execute(
            text("INSERT INTO feedback_salts (day, salt) VALUES (:day, :salt)"),
            {"day": today - timedelta(days=1), "salt": b"x" * 32},
        )
    engine.dispose()
    result = feedback_app.test_cli_runner().invoke(args=["feedback", "prune"])
    assert result.exit_code == 0 and "Deleted 2 comments 90 days old or older and 1 salts" in result.output
    assert sorted(comments(feedback_app)) == ["nesten gammel", "ny"]
    assert len(votes(feedback_app)) == 1  # votes stay: only what readers wrote goes
    engine = create_engine(feedback_app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        days = [row[0] for row in connection.execute(text("SELECT day FROM feedback_salts"))]
    engine.dispose()
    assert [str(day) for day in days] == [str(today)]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"DATABASE_URL": "mysql://root@db/help"}, "DATABASE_URL"),
        ({"SUPPORT_URL": "javascript:alert(1)"}, "SUPPORT_URL"),
        ({"SUPPORT_URL": "http://support.example"}, "SUPPORT_URL"),
        ({"FEEDBACK_RETENTION_DAYS": "0"}, "FEEDBACK_RETENTION_DAYS"),
        ({"FEEDBACK_RATE_LIMIT": "lots"}, "FEEDBACK_RATE_LIMIT"),
    ],
)
def test_bad_feedback_settings_are_refused(make_app, overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_app(**overrides)


# A real PostgreSQL, and the production server.


@pytest.mark.postgres
def test_postgresql_takes_the_same_votes_with_the_same_code(make_app, pg_url):
    app = migrated(make_app(DATABASE_URL=pg_url))
    client = app.test_client()
    for helpful in ("no", "yes"):
        assert client.post(FORM, data={"helpful": helpful}, headers=SAME_SITE).status_code == 303
    assert (
        client.post(
            "/api/feedback",
            json={
                "slug": "instantid-intro",
                "helpful": False,
                "reasons": ["unclear"],
                "comment": "'; DROP TABLE x; --",
            },
        ).status_code
        == 201
    )
    assert [(v["slug"], v["helpful"]) for v in votes(app)] == [("what-is-ip-adapter", True), ("instantid-intro", False)]
    assert comments(app) == ["'; DROP TABLE x; --"]
    refused = client.post(
        "/api/feedback",
        data='{"slug":"instantid-intro","helpful":false,"comment":"\\ud800"}',
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert client.post(FORM, data={"helpful": "no"}, **from_address("192.0.2.77")).status_code == 303
    result = app.test_cli_runner().invoke(args=["feedback", "prune"])
    assert result.exit_code == 0


def post_votes(base: str, readers: range, repeats: int = 2, retry: int = 1) -> list[int]:
    """Each reader votes `repeats` times (a changed mind), from many threads at once; each
    from an address of its own, as a proxy in front says (the server trusts one hop). A vote
    turned away while the database is busy (503) is sent up to `retry` times in all, after
    its Retry-After, as a reader's browser would on a new click."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    def vote(job):
        who, attempt = job
        request = urllib.request.Request(
            f"{base}{FORM}",
            data=f"helpful={'yes' if attempt % 2 else 'no'}".encode(),
            method="POST",
            headers={
                "User-Agent": f"leser-{who}",
                "X-Forwarded-For": f"10.0.{who // 256}.{who % 256}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        opener = urllib.request.build_opener(NoRedirect)
        for sent in range(1, retry + 1):
            try:
                return opener.open(request, timeout=30).status
            except urllib.error.HTTPError as error:
                if error.code != 503 or sent == retry:
                    return error.code
                time.sleep(float(error.headers.get("Retry-After", "1")))

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(vote, [(who, attempt) for attempt in range(repeats) for who in readers]))


BEHIND_A_PROXY = {"TRUSTED_PROXY_HOPS": "1", "PUBLIC_BASE_URL": "https://hjelp.example"}


class NoRedirect(__import__("urllib.request").request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def count_votes(url: str) -> tuple[int, int]:
    """(votes, distinct readers) in the database at `url`."""
    engine = create_engine(url)
    with engine.connect() as connection:
        total, readers = connection.execute(text("SELECT count(*), count(DISTINCT reader) FROM feedback_votes")).one()
    engine.dispose()
    return total, readers


@pytest.mark.server
@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_server_processes_count_every_vote_once(docs_dir, tmp_path, database, request):
    from bench.servers import help_server

    url = f"sqlite:///{tmp_path}/shared.db" if database == "sqlite" else request.getfixturevalue("pg_url")
    env = {"DATABASE_URL": url, "RATELIMIT_ENABLED": "false", **BEHIND_A_PROXY}
    if database == "postgresql":  # replicas; on SQLite they share the key file beside the database's
        env["READER_KEY"] = "k" * 32
    with help_server(docs_dir, **env) as (first, _), help_server(docs_dir, **env) as (second, _):
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            jobs = [(first, range(0, 150)), (second, range(100, 250))]
            # 16 posts at once to each server can find its database slots taken on a slow
            # machine (a 503, seen once in a run as another user): sent again, counted once.
            results = list(pool.map(lambda job: post_votes(*job, retry=5), jobs))
    statuses = [status for result in results for status in result]
    assert set(statuses) == {303}, sorted(set(statuses))
    # 250 readers, the 50 in the middle through both servers, every one twice: 250 votes.
    assert count_votes(url.replace("+psycopg", "+psycopg")) == (250, 250)


@pytest.mark.server
@pytest.mark.postgres
def test_postgresql_stopped_mid_run_fails_feedback_not_pages(docs_dir, make_app):
    from bench.servers import PostgresServer, get, help_server

    server = PostgresServer()
    server.start()
    try:
        env = {"DATABASE_URL": server.url(), "READER_KEY": "k" * 32, "RATELIMIT_ENABLED": "false", **BEHIND_A_PROXY}
        with help_server(docs_dir, **env) as (base, _):
            assert post_votes(base, range(3), repeats=1) == [303] * 3
            server.stop()
            assert set(post_votes(base, range(3, 6), repeats=1)) == {503}
            for url in ("/docs.php?doc=what-is-ip-adapter", "/docs.php?doc=instantid-intro", "/docs.php", "/healthz"):
                assert get(base + url)[0] == 200, url
            server.start()
            # For FAILED_SECONDS after a failed write a worker turns away at once the posts
            # that find its DATABASE_SLOTS (2) taken: three posts at once may meet that.
            time.sleep(FAILED_SECONDS)
            assert post_votes(base, range(6, 9), repeats=1) == [303] * 3
        assert count_votes(server.url()) == (6, 6)
    finally:
        server.remove()


@pytest.mark.server
@pytest.mark.postgres
def test_the_launcher_refuses_to_start_without_its_database(docs_dir):
    import os
    import subprocess
    import sys

    from helpers import PROJECT

    from bench.servers import free_port

    result = subprocess.run(
        [sys.executable, "-m", "app.serve"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "DOCS_DIR": str(docs_dir),
            "GRANIAN_PORT": str(free_port()),
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
            "READER_KEY": "k" * 32,
        },
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "the feedback database cannot be brought up to date" in result.stderr


def test_pruning_runs_just_after_midnight_utc():
    from app.readers.retention import seconds_to_next_prune

    assert seconds_to_next_prune(datetime(2026, 11, 26, 23, 59, 0, tzinfo=UTC)) == 120
    assert seconds_to_next_prune(datetime(2026, 11, 26, 0, 1, 0, tzinfo=UTC)) == 24 * 3600


def _killed_mid_migration(settings: dict) -> str:
    import os

    os._exit(1)  # as the kernel's OOM killer would


def test_a_migration_that_dies_stops_the_start_with_one_line(tmp_path, docs_dir, monkeypatch):
    from app import serve
    from app.config import ConfigError, from_environment

    monkeypatch.setattr(serve, "_migrate", _killed_mid_migration)
    settings = from_environment({"DATABASE_URL": f"sqlite:///{tmp_path}/f.db", "DOCS_DIR": str(docs_dir)})
    with pytest.raises(ConfigError, match="cannot be brought up to date: the process migrating it ended"):
        serve.prepare_database(settings)


# The writer: nothing a write holds, and no error, stops it.


def group_commit(tmp_path):
    from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

    from app.readers.group_commit import GroupCommit

    engine = create_engine(f"sqlite:///{tmp_path}/writes.db")
    table = Table("notes", MetaData(), Column("id", Integer, primary_key=True), Column("note", Text))
    table.metadata.create_all(engine)
    return GroupCommit(engine, tmp_path / "writes.db.write-lock"), insert(table), engine


def saved_notes(engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT note FROM notes ORDER BY id"))]


def test_a_write_the_driver_refuses_fails_alone_in_its_batch(tmp_path):
    import threading

    from app.readers.group_commit import NotSaved

    writer, statement, engine = group_commit(tmp_path)
    holder = sqlite3.connect(tmp_path / "writes.db")
    holder.execute("BEGIN EXCLUSIVE")  # the first write waits, and the others gather behind it
    results = {}

    def save(note):
        try:
            writer.save([(statement, {"note": note})], timeout=10)
            results[note] = "saved"
        except NotSaved:
            results[note] = "not saved"

    threads = [threading.Thread(target=save, args=("først",))]
    threads[0].start()
    time.sleep(0.2)
    threads += [threading.Thread(target=save, args=(note,)) for note in ("a", "\ud800", "b", "c")]
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.2)
    holder.rollback()
    holder.close()
    for thread in threads:
        thread.join(15)
    assert results == {"først": "saved", "a": "saved", "\ud800": "not saved", "b": "saved", "c": "saved"}
    assert saved_notes(engine) == ["først", "a", "b", "c"]
    writer.save([(statement, {"note": "etterpå"})], timeout=5)
    assert saved_notes(engine)[-1] == "etterpå"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread it ends
def test_a_writer_that_ends_is_started_again_and_says_so(tmp_path, monkeypatch, caplog):
    from app.readers.group_commit import FAILURES, NotSaved

    writer, statement, engine = group_commit(tmp_path)
    real = writer._write_batch
    calls = []

    def dies_once(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise SystemExit  # not even this ends the writing for good
        real(batch)

    monkeypatch.setattr(writer, "_write_batch", dies_once)
    before = FAILURES.labels("writer restarted")._value.get()
    writer._start()
    first = writer._thread
    with pytest.raises(NotSaved):
        writer.save([(statement, {"note": "lost with the thread"})], timeout=2)
    first.join(5)  # its end is this test's, not the next one's
    writer.save([(statement, {"note": "kept"})], timeout=5)
    assert saved_notes(engine) == ["kept"]
    assert FAILURES.labels("writer restarted")._value.get() == before + 1
    assert "started again" in caplog.text


def test_votes_wait_on_the_database_in_at_most_its_slots(make_app, tmp_path, monkeypatch):
    import threading

    from app.readers import database

    monkeypatch.setattr(database, "SQLITE_BUSY_MS", 3000)
    app = migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db", DATABASE_SLOTS="1"))
    with app.app_context():
        database.db.engine.dispose()
    holder = sqlite3.connect(tmp_path / "feedback.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        waiting = threading.Thread(
            target=lambda: app.test_client().post(FORM, data={"helpful": "yes"}, **from_address("192.0.2.1"))
        )
        waiting.start()
        slots = app.extensions["database_slots"]
        deadline = time.monotonic() + 5
        while not slots.stuck and time.monotonic() < deadline:  # that vote holds the only slot, waiting
            time.sleep(0.01)
        assert slots.stuck
        started = time.monotonic()
        turned_away = app.test_client().post(FORM, data={"helpful": "yes"}, **from_address("192.0.2.2"))
        assert turned_away.status_code == 503 and turned_away.headers["Retry-After"] == "1"
        assert time.monotonic() - started < 0.5
        api = app.test_client().post("/api/feedback", json={"slug": "instantid-intro", "helpful": True})
        assert api.status_code == 503 and api.mimetype == "application/problem+json"
    finally:
        holder.rollback()
        holder.close()
        waiting.join(10)
    assert app.test_client().post(FORM, data={"helpful": "no"}, **from_address("192.0.2.3")).status_code == 303


def test_a_slow_healthy_commit_is_waited_for_not_taken_for_a_stuck_database():
    import threading

    from app.guards.limits import DatabaseSlots

    # A commit on loaded cores took 0.57 s with nothing wrong: the next vote waits its turn.
    slots = DatabaseSlots(1)
    taken, done = threading.Event(), threading.Event()

    def slow_commit():
        with slots.slot(0.5):
            taken.set()
            time.sleep(0.4)
        done.set()

    holder = threading.Thread(target=slow_commit)
    holder.start()
    taken.wait(5)
    time.sleep(0.3)
    assert not slots.stuck
    with slots.slot(2.0):  # stuck, it would turn this away at once, whatever the wait
        assert done.is_set()
    holder.join(5)


def test_an_sqlite_file_that_was_read_only_is_written_once_it_is_writable(tmp_path):
    from sqlalchemy import insert

    from app.readers.models import Comment, db

    path = tmp_path / "feedback.db"
    connect = [lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)]
    from flask import Flask

    app = Flask("app")
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"creator": lambda: connect[0]()}
    db.init_app(app)
    with app.app_context():
        sqlite3.connect(path).executescript(
            "CREATE TABLE feedback_comments (id INTEGER PRIMARY KEY, day DATE, slug TEXT, lang TEXT, comment TEXT, "
            "created_at DATETIME)"
        )
        row = {
            "day": datetime.now(UTC).date(),
            "slug": "x",
            "lang": "nb",
            "comment": "c",
            "created_at": datetime.now(UTC),
        }
        with pytest.raises(Exception, match="readonly"), db.engine.begin() as connection:
            connection.execute(insert(Comment.__table__), row)
        connect[0] = lambda: sqlite3.connect(path, check_same_thread=False)  # the file became writable
        with db.engine.begin() as connection:
            connection.execute(insert(Comment.__table__), row)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM feedback_comments")).scalar() == 1


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_comments_kept_per_day_are_bounded_and_the_votes_still_count(make_app, tmp_path, request, database):
    url = f"sqlite:///{tmp_path}/feedback.db" if database == "sqlite" else request.getfixturevalue("pg_url")
    app = migrated(make_app(DATABASE_URL=url, FEEDBACK_COMMENTS_PER_DAY="3"))
    client = app.test_client()
    for i in range(5):
        assert (
            client.post(
                "/api/feedback",
                json={"slug": "instantid-intro", "helpful": False, "comment": f"nr {i}"},
                environ_base={"REMOTE_ADDR": f"192.0.2.{i}"},
            ).status_code
            == 201
        )
    assert comments(app) == ["nr 0", "nr 1", "nr 2"] and len(votes(app)) == 5
    assert [str(row["day"]) for row in stored(app, "feedback_comments")] == [str(datetime.now(UTC).date())] * 3
