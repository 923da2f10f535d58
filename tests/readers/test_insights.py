"""Insights for authors: authentication, the numbers, and hostile text shown as text."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from helpers import AUTHOR, HASH, PASSWORD, SAME_SITE, add_counts, add_votes, basic, migrated

from app.config import ConfigError

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture
def insights_app(make_app, tmp_path):
    users = f"forfatter:{HASH}"
    return migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db", INSIGHTS_USERS=users))


@pytest.fixture
def author(insights_app):
    return insights_app.test_client()


URLS = [
    "/innsikt",
    "/innsikt/side?doc=instantid-intro",
    "/api/insights/feedback",
    "/api/insights/views",
    "/api/insights/searches",
    "/api/insights/dead-links",
    "/api/insights/dead-contexts",
    "/api/insights/aliases",
    "/innsikt/tilbakemeldinger.csv",
    "/innsikt/visninger.csv",
    "/innsikt/sok.csv",
    "/innsikt/dode-lenker.csv",
    "/api/insights/pages",
    "/innsikt/sider.csv",
]


@pytest.mark.parametrize("url", URLS)
def test_off_while_no_author_is_configured(client, url):
    assert client.get(url, headers=AUTHOR).status_code == 404


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("forfatter", "feil"),
        basic("ukjent", PASSWORD),
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic %%%"},
    ],
)
def test_no_data_without_the_right_password(author, url, headers):
    response = author.get(url, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert "feedback_votes" not in response.text and "Sidene" not in response.text


@pytest.mark.parametrize("url", URLS)
def test_cross_site_requests_get_403(author, url):
    assert author.get(url, headers={**AUTHOR, "Sec-Fetch-Site": "cross-site"}).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_authors_get_it_never_cached_nor_indexed(author, url):
    response = author.get(url, headers=AUTHOR)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store, private"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "Set-Cookie" not in response.headers


def test_failed_logins_are_rate_limited(make_app, tmp_path):
    app = migrated(
        make_app(
            RATELIMIT_ENABLED=True,
            INSIGHTS_AUTH_RATE_LIMIT="3/minute",
            DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db",
            INSIGHTS_USERS=f"forfatter:{HASH}",
        )
    )
    client = app.test_client()
    # A browser's first request, before it asks its user, is no failed login.
    assert [client.get("/innsikt").status_code for _ in range(5)] == [401] * 5
    statuses = [client.get("/innsikt", headers=basic("forfatter", f"gjett{i}")).status_code for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    # From another address the right password still works.
    assert client.get("/innsikt", headers=AUTHOR, environ_base={"REMOTE_ADDR": "198.51.100.3"}).status_code == 200


def test_no_password_is_hashed_without_credentials_nor_twice_for_an_author(make_app, tmp_path, monkeypatch):
    from app.readers import authors as author_auth

    checked = []
    real = author_auth.check_password_hash
    monkeypatch.setattr(author_auth, "check_password_hash", lambda *args: checked.append(1) or real(*args))
    app = migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db", INSIGHTS_USERS=f"forfatter:{HASH}"))
    client = app.test_client()
    assert client.get("/innsikt").status_code == 401 and checked == []
    assert client.get("/innsikt", headers={"Authorization": "Bearer x"}).status_code == 401 and checked == []
    for _ in range(3):
        assert client.get("/innsikt", headers=AUTHOR).status_code == 200
    assert len(checked) == 1  # remembered after the first check
    assert client.get("/innsikt", headers=basic("forfatter", "feil")).status_code == 401 and len(checked) == 2


def test_one_password_check_at_a_time_and_the_rest_answered_at_once(make_app, tmp_path):
    app = migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db", INSIGHTS_USERS=f"forfatter:{HASH}"))
    client = app.test_client()
    with app.extensions["authors"].checks.turn() as mine:  # another request is checking a password
        assert mine
        busy = client.get("/innsikt", headers=basic("forfatter", "gjett"))
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert client.get("/innsikt", headers=AUTHOR).status_code == 200


def test_failed_checks_are_spaced_so_a_flood_costs_a_quarter_of_a_core(make_app, tmp_path, monkeypatch):
    import threading
    import time

    from app.readers import authors as author_auth

    monkeypatch.setattr(author_auth, "FAILED_CHECK_SECONDS", 0.25)
    app = migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db", INSIGHTS_USERS=f"forfatter:{HASH}"))
    statuses = []
    started = time.monotonic()

    def guess(i):
        statuses.append(app.test_client().get("/innsikt", headers=basic("forfatter", f"gjett{i}")).status_code)

    guessing = threading.Thread(target=guess, args=(0,))
    guessing.start()
    time.sleep(0.1)
    guess(1)  # while the first still holds its turn
    guessing.join()
    assert sorted(statuses) == [401, 503] and time.monotonic() - started >= 0.25
    assert app.test_client().get("/innsikt", headers=AUTHOR).status_code == 200  # a right one never waits


def test_password_checks_take_turns_across_processes(tmp_path):
    import multiprocessing

    from app.readers.authors import PasswordChecks

    checks = PasswordChecks(str(tmp_path))
    holding, release = multiprocessing.Event(), multiprocessing.Event()

    def hold():
        with PasswordChecks(str(tmp_path)).turn() as mine:
            assert mine
            holding.set()
            release.wait(10)

    other = multiprocessing.get_context("fork").Process(target=hold)
    other.start()
    try:
        assert holding.wait(10)
        with checks.turn() as mine:
            assert not mine
    finally:
        release.set()
        other.join(10)
    with checks.turn() as mine:
        assert mine
    # A process that dies holding the lock lets go of it (the kernel drops its flock).
    dying = multiprocessing.get_context("fork").Process(
        target=lambda: (PasswordChecks(str(tmp_path)).turn().__enter__(), __import__("os")._exit(1))
    )
    dying.start()
    dying.join(10)
    with checks.turn() as mine:
        assert mine


def test_pages_are_ranked_by_their_share_of_no(author, insights_app):
    add_votes(
        insights_app,
        [
            (0, "instantid-intro", False, "unclear", None),
            (1, "instantid-intro", False, "unclear,wrong", None),
            (2, "instantid-intro", True, "", None),
            (0, "what-is-ip-adapter", True, "", None),
            (0, "what-is-ip-adapter", True, "", None),
            (3, "what-is-ip-adapter", False, "not_found", None),
            (0, "avatarify-intro", False, "", None),  # one vote: too few to rank
            (40, "generative-ai-intro", False, "", "for gammel"),  # outside 7 and 30 days
        ],
    )
    data = author.get("/api/insights/feedback?days=7", headers=AUTHOR).json
    assert [p["slug"] for p in data["pages"]] == ["instantid-intro", "what-is-ip-adapter", "avatarify-intro"]
    first = data["pages"][0]
    assert (first["votes"], first["no"], first["reasons"]) == (3, 2, {"unclear": 2, "wrong": 1})
    assert sum(day["yes"] + day["no"] for day in data["per_day"]) == 7 and len(data["per_day"]) == 7
    ninety = author.get("/api/insights/feedback?days=90", headers=AUTHOR).json
    assert sum(day["no"] for day in ninety["per_day"]) == 5 and len(ninety["per_day"]) == 90
    assert author.get("/api/insights/feedback?days=8", headers=AUTHOR).status_code == 400


def charts(html: str) -> list[dict[str, dict[str, tuple[int, float]]]]:
    """Each SVG chart of a page: {day: {label: (value, bar height)}}, checked to be drawn to scale."""
    found = []
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
        bars = {}
        for day, labels, rects in re.findall(r"<g><title>(\d{4}-\d\d-\d\d): ([^<]*)</title>(.*?)</g>", svg, re.S):
            values = [(int(value), label) for value, label in re.findall(r"(\d+) ([^,]+)", labels)]
            heights = [
                float(h)
                for h in re.findall(
                    r'<rect class="\w+" x="[\d.]+" y="[\d.]+" width="[\d.]+" '
                    r'height="([\d.]+)"></rect>',
                    rects,
                )
            ]
            bars[day] = {label: (value, height) for (value, label), height in zip(values, heights, strict=True)}
        top = max(sum(value for value, _ in bar.values()) for bar in bars.values()) or 1
        for bar in bars.values():  # the tallest day fills the 160-unit height; every bar is to scale
            for value, height in bar.values():
                assert height == pytest.approx(value / top * 160, abs=0.01)
        found.append(bars)
    return found


def numbers(html: str, heading: str) -> dict[str, dict[str, int]]:
    """The table of numbers per day after the charts under `heading`: {day: {column: value}}."""
    section = html[html.index(heading) :]
    section = section[section.index("<table>") : section.index("</table>")]
    columns = re.findall(r'<th scope="col">([^<]+)</th>', section)
    return {
        cells[0]: {column.lower(): int(cell) for column, cell in zip(columns[1:], cells[1:], strict=True)}
        for cells in (re.findall(r"<td>([^<]+)</td>", row) for row in re.findall(r"<tr><td>.*?</tr>", section))
    }


def test_the_charts_show_the_numbers_of_their_tables(author, insights_app):
    add_votes(
        insights_app,
        [(0, "instantid-intro", True, "", None)] * 3
        + [(0, "instantid-intro", False, "", None)]
        + [(2, "instantid-intro", False, "", None)] * 2,
    )
    add_counts(
        insights_app,
        views=[(0, "instantid-intro", 40), (1, "what-is-ip-adapter", 7), (1, "instantid-intro", 3)],
        searches=[(0, "ansikt", 5, 0, 3), (0, "zzqxv", 2, 2, 1), (3, "lora", 4, 1, 3)],
    )
    html = author.get("/innsikt", headers=AUTHOR).text
    views, votes, searches = charts(html)
    per_day, searched = numbers(html, 'id="per-dag"'), numbers(html, 'id="sok"')
    assert len(views) == len(votes) == len(searches) == len(per_day) == len(searched) == 7
    for day, row in per_day.items():
        assert votes[day] == {"ja": (row["ja"], votes[day]["ja"][1]), "nei": (row["nei"], votes[day]["nei"][1])}
        assert views[day]["visninger"][0] == row["visninger"]
        assert searches[day]["med treff"][0] == searched[day]["med treff"]
        assert searches[day]["uten treff"][0] == searched[day]["uten treff"]
    today = datetime.now(UTC).date().isoformat()
    assert per_day[today] == {"ja": 3, "nei": 1, "visninger": 40} and searched[today] == {
        "med treff": 5,
        "uten treff": 2,
    }
    page = author.get("/innsikt/side?doc=instantid-intro", headers=AUTHOR).text
    views, votes = charts(page)
    for day, row in numbers(page, 'id="stemmer"').items():
        assert (views[day]["visninger"][0], votes[day]["ja"][0], votes[day]["nei"][0]) == (
            row["visninger"],
            row["ja"],
            row["nei"],
        )
    assert (
        "6 stemmer (3 ja, 3 nei), 43 visninger: 7,0 «nei» per 100 visninger" in page
    )  # this page's own, over the week


def test_hostile_queries_are_text_in_the_page_json_and_csv(author, insights_app):
    add_counts(
        insights_app,
        searches=[(0, HOSTILE.lower(), 3, 3, 3), (0, '=cmd|" /c calc"!a1', 4, 0, 3), (0, "@sum(1+1)", 3, 0, 3)],
    )
    html = author.get("/innsikt", headers=AUTHOR).text
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    svgs = "".join(re.findall(r"<svg.*?</svg>", html, re.S))
    assert "script" not in svgs and "calc" not in svgs  # the charts hold numbers, never stored text
    assert HOSTILE.lower() in [q["query"] for q in author.get("/api/insights/searches", headers=AUTHOR).json["top"]]
    response = author.get("/innsikt/sok.csv", headers=AUTHOR)
    queries = [row[2] for row in csv.reader(io.StringIO(response.text)) if row[0] == "søk"]
    assert '\'=cmd|" /c calc"!a1' in queries and "'@sum(1+1)" in queries
    assert all(
        not cell.startswith(("=", "+", "-", "@")) for row in csv.reader(io.StringIO(response.text)) for cell in row
    )


def test_hostile_comments_are_text_in_the_page_json_and_csv(author, insights_app):
    add_votes(
        insights_app,
        [
            (0, "instantid-intro", False, "other", HOSTILE),
            (0, "what-is-ip-adapter", False, "", '=HYPERLINK("https://evil.example","klikk")'),
            (0, "avatarify-intro", False, "", "+1-800 @home -x"),
        ],
    )
    html = author.get("/innsikt", headers=AUTHOR).text
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert author.get("/api/insights/feedback", headers=AUTHOR).json["comments"][-1]["comment"] == HOSTILE
    response = author.get("/innsikt/tilbakemeldinger.csv", headers=AUTHOR)
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    comments = [row[7] for row in csv.reader(io.StringIO(response.text)) if row[0] == "kommentar"]
    assert '\'=HYPERLINK("https://evil.example","klikk")' in comments and "'+1-800 @home -x" in comments
    assert all(
        not cell.startswith(("=", "+", "-", "@")) for row in csv.reader(io.StringIO(response.text)) for cell in row
    )


def test_csv_cells_are_quoted_and_defused_after_any_separator(author, insights_app):
    add_votes(
        insights_app,
        [
            (0, "instantid-intro", False, "", "notat;=cmd|'/c calc'!A0"),
            (0, "instantid-intro", False, "", "a, +SUM(1), b;  @x; -y"),
            (0, "instantid-intro", False, "", "søk;\t=tab"),
            (0, "instantid-intro", False, "", "hei\n=cmd|' /C calc'!A0"),
            (0, "instantid-intro", False, "", "fane\t=HYPERLINK(1)"),
        ],
    )
    response = author.get("/innsikt/tilbakemeldinger.csv", headers=AUTHOR)
    body = response.data.decode("utf-8")
    assert "fane\t'=HYPERLINK(1)" in body  # a reader of tab-separated text splits there too
    assert body.startswith("\ufeff") and "søk" in body  # a byte order mark: Excel reads UTF-8
    records, inside = [], False  # each record's first line (a quoted cell may hold line breaks)
    for line in body.lstrip("\ufeff").split("\r\n"):
        if not inside and line:
            records.append(line)
        inside ^= line.count('"') % 2 == 1
    assert records and all(record.startswith('"') for record in records)  # every cell quoted
    for separator in (",", ";"):  # a Norwegian Excel splits at ;
        for line in body.lstrip("\ufeff").splitlines():
            for cell in line.replace('"', "").split(separator):
                assert not cell.lstrip().startswith(("=", "+", "-", "@")), (separator, cell)
    comments = [row[7] for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))) if row[0] == "kommentar"]
    assert "notat;'=cmd|'/c calc'!A0" in comments
    assert "hei\n'=cmd|' /C calc'!A0" in comments  # a reader that splits lines at any line break


def test_rows_dated_after_today_are_left_out_not_a_500(author, insights_app):
    add_votes(
        insights_app, [(-3, "instantid-intro", False, "", "fra framtiden"), (0, "instantid-intro", True, "", None)]
    )
    add_counts(
        insights_app,
        views=[(-1, "instantid-intro", 9)],
        searches=[(-2, "morgen", 4, 0, 3)],
        dead_links=[(-5, "borte", "", 2)],
        alias_hits=[(-1, "gammel", "instantid-intro", 3)],
        dead_contexts=[(-1, "screen.morgen", "ios", "9.0", 5)],
    )
    for url in URLS:
        assert author.get(url, headers=AUTHOR).status_code == 200, url
    assert author.get("/api/insights/aliases", headers=AUTHOR).json["total"] == 0
    assert author.get("/api/insights/dead-contexts", headers=AUTHOR).json["contexts"] == []
    feedback = author.get("/api/insights/feedback", headers=AUTHOR).json
    assert sum(day["no"] for day in feedback["per_day"]) == 0 and feedback["comments"] == []


def test_the_weekly_report_for_cron(insights_app):
    add_votes(
        insights_app,
        [
            (0, "instantid-intro", False, "", "x"),
            (1, "instantid-intro", False, "", None),
            (2, "instantid-intro", True, "", None),
        ],
    )
    result = insights_app.test_cli_runner().invoke(args=["insights", "report", "--days", "7"])
    assert result.exit_code == 0
    assert "Stemmer: 3 (ja 1, nei 2)" in result.output and "67% nei av    3  instantid-intro" in result.output
    add_counts(
        insights_app,
        views=[(0, "instantid-intro", 12)],
        searches=[(1, "zzqxv", 4, 4, 3)],
        dead_links=[(0, "ip-adaptr", "app.example", 5)],
    )
    output = insights_app.test_cli_runner().invoke(args=["insights", "report"]).output
    assert "Visninger: 12" in output and "Søk: 4, 4 uten treff" in output and "4 uten treff  'zzqxv' (nb)" in output
    assert "Døde lenker: 5 forespørsler" in output and "5  ip-adaptr" in output
    assert "Kommentarer: 1 (les dem på /innsikt)" in output


def test_reasons_are_counted_from_nei_votes_only(insights_app):
    """A "Ja" stored with reasons (the API once kept them) says nothing of why a page failed."""
    add_votes(
        insights_app, [(0, "instantid-intro", True, "wrong", None), (0, "instantid-intro", False, "unclear", None)]
    )
    api = insights_app.test_client().get("/api/insights/feedback?days=7", headers=AUTHOR).json
    (page,) = api["pages"]
    assert page["reasons"] == {"unclear": 1}


def test_every_comment_of_the_period_is_counted_though_the_latest_50_are_shown(insights_app):
    add_votes(insights_app, [(i % 5, "instantid-intro", False, "", f"kommentar {i}") for i in range(61)])
    output = insights_app.test_cli_runner().invoke(args=["insights", "report", "--days", "7"]).output
    assert "Kommentarer: 61 (les de siste 50" in output
    page = insights_app.test_client().get("/innsikt?dager=7", headers=AUTHOR).text
    assert "De siste 50 av 61 i perioden." in page and page.count("<blockquote>") == 50
    api = insights_app.test_client().get("/api/insights/feedback?days=7", headers=AUTHOR).json
    assert api["comments_total"] == 61 and len(api["comments"]) == 50


@pytest.mark.parametrize("command", [["insights", "report"], ["insights", "prune"], ["feedback", "prune"]])
def test_commands_on_a_database_not_migrated_say_so_in_one_line(make_app, command):
    result = make_app().test_cli_runner().invoke(args=command)  # a new SQLite file: no tables
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: the database (DATABASE_URL) cannot be used: ") and "flask db upgrade" in line


def test_hash_password_makes_a_hash_that_logs_in(make_app, tmp_path):
    runner = make_app().test_cli_runner()
    result = runner.invoke(args=["insights", "hash-password"], input=f"{PASSWORD}\n{PASSWORD}\n")
    hashed = result.output.strip().splitlines()[-1]
    app = migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/f.db", INSIGHTS_USERS=f"ola:{hashed}"))
    assert app.test_client().get("/innsikt", headers=basic("ola", PASSWORD)).status_code == 200
    assert PASSWORD not in hashed


@pytest.mark.parametrize(
    "users",
    [
        "forfatter",
        "forfatter:klartekst",
        ":scrypt:abc",
        "forfatter:scrypt:abc",
        "a:pbkdf2:sha256:1000$salt$nothex",
        f"a:{HASH} b:klartekst",
    ],
)
def test_users_without_a_password_hash_are_refused(make_app, users):
    with pytest.raises(ConfigError, match="INSIGHTS_USERS"):
        make_app(INSIGHTS_USERS=users)


def test_a_database_that_cannot_be_read_gives_503(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/empty.db", INSIGHTS_USERS=f"forfatter:{HASH}")
    assert app.test_client().get("/innsikt", headers=AUTHOR).status_code == 503


def test_feedback_sent_through_the_form_shows_up(author, insights_app):
    author.post(
        "/tilbakemelding?doc=instantid-intro",
        headers=SAME_SITE,
        data={"helpful": "no", "step": "details", "reasons": ["wrong"], "comment": "Utdatert"},
    )
    html = author.get("/innsikt", headers=AUTHOR).text
    assert "Utdatert" in html and "Den er feil eller utdatert: 1" in html


def test_control_characters_never_reach_a_page(author, insights_app):
    author.post(
        "/api/feedback", json={"slug": "instantid-intro", "helpful": False, "comment": "a\x01b\r\nc\x1b[31m\td"}
    )
    add_votes(insights_app, [(0, "what-is-ip-adapter", False, "", "stored\x00 earlier\x7f")])  # as an old row holds it
    comments = {c["slug"]: c["comment"] for c in author.get("/api/insights/feedback", headers=AUTHOR).json["comments"]}
    assert comments == {"instantid-intro": "ab\nc[31m\td", "what-is-ip-adapter": "stored earlier"}
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", author.get("/innsikt", headers=AUTHOR).text)
