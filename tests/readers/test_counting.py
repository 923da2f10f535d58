"""What readers do, counted for insights: page views, searches and dead links; counted,
redacted, thresholded, bounded, written in batches, and kept through a database outage."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from helpers import AUTHOR, HASH, PROJECT, from_reader, migrated, table, write
from sqlalchemy import create_engine, text

from app.readers import counting as tally
from app.readers.counting import normalized_query, referring_host

USERS = f"forfatter:{HASH}"


@pytest.fixture
def counting_app(make_app, tmp_path):
    """Insights on; the writer thread waits an hour, so each test flushes when it wants."""
    return migrated(
        make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db", INSIGHTS_USERS=USERS, INSIGHTS_FLUSH_SECONDS="3600")
    )


def flush(app) -> bool:
    return app.extensions["tally"].flush()


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        ("Hvordan SLETTER jeg  kontoen", "hvordan sletter jeg kontoen"),
        ("min e-post er ola.nordmann@example.no takk", "min e-post er [e-post] takk"),
        ("ring meg på +47 912 34 567", "ring meg på [telefon]"),
        ("ring 91234567", "ring [telefon]"),
        ("ordre 123456", "ordre [tall]"),
        ("fødselsnummer 01017012345", "fødselsnummer [telefon]"),
        ("ip-adapter 2 og 2024", "ip-adapter 2 og 2024"),
        ("ｉｐ\u200b-adapter\x1b[31m", "ip-adapter[31m"),  # full-width letters, a zero-width space, an escape
        ("skriv til kari @ example.no", "skriv til [e-post]"),
        ("kari at example dot no", "[e-post]"),
        ("kari(at)example(punktum)no hjelp", "[e-post] hjelp"),
        ("ring 91 / 23 / 45 / 67", "ring [telefon]"),
        ("ring 91–23–45–67", "ring [telefon]"),
        ("ring 91,23,45,67", "ring [telefon]"),
        ("vet at det er dot com", "vet at det er dot com"),
    ],
)
def test_queries_are_normalized_and_personal_data_replaced(query, stored):
    assert normalized_query(query) == stored


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        ("https://App.Avatarify.example/deep/link?user=ola", "app.avatarify.example"),
        ("android-app://com.avatarify.app/", "com.avatarify.app"),
        (None, ""),
        ("", ""),
        ("javascript:alert(1)", ""),
        ("https://<script>/", ""),
        ("http://[::1]:80/x", ""),
        ("https://" + "a" * 300 + ".example/", ""),
        ("http://[", ""),
    ],
)
def test_only_a_referrers_host_is_kept(referrer, host):
    assert referring_host(referrer) == host


def test_page_views_are_counted_per_page_language_and_day(counting_app):
    client = counting_app.test_client()
    for reader in (1, 2):  # the second from the response cache, before Flask routes anything
        assert client.get("/docs.php?doc=instantid-intro", **from_reader(reader)).status_code == 200
    assert client.get("/docs.php?doc=instantid-intro&lang=en", **from_reader(1)).status_code == 200
    assert client.head("/docs.php?doc=instantid-intro").status_code == 200  # no reader saw it
    assert client.get("/docs.php").status_code == 200  # the index is not a page
    assert table(counting_app, "SELECT * FROM insights_page_views") == []  # nothing until the flush
    assert flush(counting_app)
    today = datetime.now(UTC).date().isoformat()
    assert sorted(table(counting_app, "SELECT day, slug, lang, views FROM insights_page_views")) == [
        (today, "instantid-intro", "en", 1),
        (today, "instantid-intro", "nb", 2),
    ]
    client.get("/docs.php?doc=instantid-intro", **from_reader(3))
    assert flush(counting_app)
    assert ("instantid-intro", "nb", 3) in table(counting_app, "SELECT slug, lang, views FROM insights_page_views")


def test_a_reader_views_a_page_once_a_day_whatever_it_sends(counting_app, monkeypatch):
    client = counting_app.test_client()
    for agent in range(5):  # reloads, with other user agents and other spellings of the address
        client.get("/docs.php?doc=instantid-intro", headers={"User-Agent": f"A/{agent}"}, **from_reader(1))
        client.get("/docs.php?doc=instantid-intro&theme=dark", **from_reader(1))
    for host in ("1", "2:3:4", "ffff"):  # one IPv6 subscriber's /64
        client.get("/docs.php?doc=instantid-intro", environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{host}"})
    client.get("/docs.php?doc=instantid-intro", environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"})  # another
    assert flush(counting_app)
    assert table(counting_app, "SELECT views FROM insights_page_views") == [(3,)]
    # What a worker remembers is bounded: past MAX_SEEN it starts afresh.
    monkeypatch.setattr(tally, "MAX_SEEN", 4)
    for reader in range(10, 30):
        client.get("/docs.php?doc=instantid-intro", **from_reader(reader))
        assert len(counting_app.extensions["tally"]._seen) <= 4
    assert flush(counting_app)
    assert table(counting_app, "SELECT views FROM insights_page_views") == [(23,)]


def test_nothing_is_counted_while_insights_are_off(make_app, tmp_path):
    app = migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db"))
    client = app.test_client()
    client.get("/docs.php?doc=instantid-intro")
    client.get("/docs.php?q=ansikt")
    client.get("/docs.php?doc=finnes-ikke")
    assert "tally" not in app.extensions
    for name in ("insights_page_views", "insights_searches", "insights_search_readers", "insights_dead_links"):
        assert table(app, f"SELECT * FROM {name}") == []


def test_searches_are_counted_with_their_results_and_corrections(counting_app):
    client = counting_app.test_client()
    client.get("/docs.php?q=IP-Adapter")
    client.get("/api/search?q=ip-adapter", **from_reader(2))
    client.get("/api/search?q=ip-adapter", **from_reader(2))  # the same reader again: once a day
    client.get("/docs.php?q=ansikst")  # corrected to "ansikt"
    client.get("/docs.php?q=zzqxv")  # finds nothing
    client.get("/docs.php?q=")  # no search at all
    assert flush(counting_app)
    rows = {
        query: (searches, no_results, results > 0, corrected)
        for query, searches, no_results, results, corrected in table(
            counting_app, "SELECT query, searches, no_results, results, corrected FROM insights_searches"
        )
    }
    assert rows == {"ip-adapter": (2, 0, True, None), "ansikst": (1, 0, True, "ansikt"), "zzqxv": (1, 1, False, None)}


def test_a_query_is_shown_only_once_enough_readers_sent_it(counting_app):
    client = counting_app.test_client()
    for _ in range(5):  # one reader, five times: one reader, one search a day
        client.get("/docs.php?q=min+konto", **from_reader(1))
    client.get("/docs.php?q=min+konto", **from_reader(2))
    assert flush(counting_app)
    shown = client.get("/api/insights/searches", headers=AUTHOR).json
    assert (shown["total"], shown["hidden"], shown["top"]) == (2, 2, [])
    client.get("/docs.php?q=Min+konto", **from_reader(3))  # the same query, normalized
    assert flush(counting_app)
    shown = client.get("/api/insights/searches", headers=AUTHOR).json
    assert (shown["total"], shown["hidden"]) == (3, 0)
    assert [(q["query"], q["searches"]) for q in shown["top"]] == [("min konto", 3)]
    # Only hashes are stored for readers, no more than the threshold needs, and none of them an address.
    readers = table(counting_app, "SELECT reader FROM insights_search_readers")
    assert len(readers) == 3 and all(len(reader) == 64 and "192.0.2" not in reader for (reader,) in readers)


def test_one_address_is_one_reader_whatever_its_user_agents(counting_app):
    client = counting_app.test_client()
    for agent in ("Firefox", "Safari", "Chrome", "Opera", "Edge"):
        client.get("/docs.php?q=hemmelig+tekst", headers={"User-Agent": agent}, **from_reader(1))
    client.get("/docs.php?q=hemmelig+tekst", environ_base={"REMOTE_ADDR": "::ffff:192.0.2.1"})  # the same address
    client.get("/docs.php?q=hemmelig+tekst", environ_base={"REMOTE_ADDR": "2001:db8:7:7::1"})
    client.get("/docs.php?q=hemmelig+tekst", environ_base={"REMOTE_ADDR": "2001:db8:7:7::2"})  # the same /64
    assert flush(counting_app)
    shown = client.get("/api/insights/searches", headers=AUTHOR).json
    assert shown["top"] == [] and shown["hidden"] == 2  # two readers, one search each
    assert "hemmelig" not in client.get("/innsikt", headers=AUTHOR).text
    assert "hemmelig" not in counting_app.test_cli_runner().invoke(args=["insights", "report"]).output


def test_dead_links_are_counted_with_referring_host_and_first_suggestion(counting_app):
    client = counting_app.test_client()
    link = "/docs.php?doc=ip-adaptr"
    assert client.get(link, headers={"Referer": "https://app.avatarify.example/x?token=hemmelig"}).status_code == 404
    assert client.get(link).status_code == 404
    assert client.get("/docs.php?doc=zzzz-qqqq").status_code == 404
    assert client.get("/docs.php?doc=<script>").status_code == 400  # not a slug: not counted
    assert flush(counting_app)
    dead = client.get("/api/insights/dead-links", headers=AUTHOR).json
    assert dead["total"] == 3
    assert dead["links"][0] == {
        "slug": "ip-adaptr",
        "requests": 2,
        "suggestion": "what-is-ip-adapter",
        "referrers": {"app.avatarify.example": 1, "": 1},
        "other_referrers": 0,
    }
    assert dead["links"][1]["suggestion"] is None
    assert "hemmelig" not in str(table(counting_app, "SELECT * FROM insights_dead_links"))
    # One click shows the author the 404 page the readers saw, with its suggestions.
    html = client.get("/innsikt", headers=AUTHOR).text
    assert '<a href="/docs.php?doc=ip-adaptr">ip-adaptr</a>' in html
    assert "app.avatarify.example: 1" in html


def test_dead_links_kept_per_day_are_bounded_and_the_rest_counted_together(make_app, tmp_path):
    app = migrated(
        make_app(
            DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db",
            INSIGHTS_USERS=USERS,
            INSIGHTS_FLUSH_SECONDS="3600",
            INSIGHTS_DEAD_LINKS_PER_DAY="40",
        )
    )
    counts = app.extensions["tally"]
    for batch in range(3):  # over several flushes, as a worker writes them
        for i in range(50):
            counts.count_dead_link(f"finnes-ikke-{batch}-{i}", "", "")
        counts.count_dead_link("finnes-ikke-0-0", "", "")  # kept already: counted under its name
        assert counts.flush()
    for host in range(12):  # many hosts for one kept slug: the first five kept, the rest together
        counts.count_dead_link("finnes-ikke-0-1", f"h{host}.example", "")
    assert counts.flush()
    rows = table(app, "SELECT slug, referrer, requests FROM insights_dead_links")
    assert len({slug for slug, _, _ in rows} - {"*"}) == 40
    assert len(rows) <= 40 + 1 + 6
    assert sum(requests for _, _, requests in rows) == 3 * 51 + 12
    assert dict(((slug, referrer), requests) for slug, referrer, requests in rows)[("*", "")] == 150 - 40
    with app.test_request_context():
        from app.readers.summaries import dead_links_summary

        summary = dead_links_summary(7)
    assert summary["total"] == 3 * 51 + 12 and summary["other"] == 110
    link = next(link for link in summary["links"] if link["slug"] == "finnes-ikke-0-1")
    assert len(link["referrers"]) == 5 and sum(link["referrers"].values()) + link["other_referrers"] == 13


def test_what_waits_is_bounded_whatever_clients_send(counting_app, monkeypatch):
    from app.readers import count_batches

    for module in (tally, count_batches):  # each holds the bound it keeps
        monkeypatch.setattr(module, "MAX_KEYS", 3)
    dropped = tally.DROPPED.labels("searches")
    before = dropped._value.get()
    client = counting_app.test_client()
    for i in range(6):
        client.get(f"/docs.php?q=ord{i}")
        client.get(f"/docs.php?doc=borte-{i}")
    for slug in ("instantid-intro", "what-is-ip-adapter", "avatarify-intro", "generative-ai-intro"):
        assert client.get(f"/docs.php?doc={slug}").status_code == 200  # the fourth page is shown, not counted
    assert len(counting_app.extensions["tally"]._batch.searches) == 3
    assert dropped._value.get() - before == 3
    assert flush(counting_app)
    assert len(table(counting_app, "SELECT * FROM insights_searches")) == 3
    assert len(table(counting_app, "SELECT * FROM insights_dead_links")) == 3
    assert len(table(counting_app, "SELECT * FROM insights_page_views")) == 3


def test_a_database_outage_fails_no_request_and_loses_no_count(counting_app, tmp_path):
    client = counting_app.test_client()
    client.get("/docs.php?doc=instantid-intro")
    # Another process holds SQLite's write lock for as long as the outage lasts.
    blocker = sqlite3.connect(tmp_path / "feedback.db", timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert not flush(counting_app)
        # Reading, searching and dead links go on, counted in memory.
        assert client.get("/docs.php?doc=instantid-intro", **from_reader(2)).status_code == 200
        assert client.get("/docs.php?q=ansikt").status_code == 200
        assert client.get("/docs.php?doc=borte").status_code == 404
        assert not flush(counting_app)  # the failed batch and the new one wait together
    finally:
        blocker.rollback()
        blocker.close()
    assert flush(counting_app)
    assert table(counting_app, "SELECT slug, views FROM insights_page_views") == [("instantid-intro", 2)]
    assert table(counting_app, "SELECT query, searches FROM insights_searches") == [("ansikt", 1)]
    assert table(counting_app, "SELECT slug, requests FROM insights_dead_links") == [("borte", 1)]
    assert flush(counting_app)  # nothing is written twice
    assert table(counting_app, "SELECT views FROM insights_page_views") == [(2,)]


def test_readers_met_across_failed_flushes_are_all_counted(counting_app, tmp_path):
    """A batch the database refused is merged with the next: a reader in both is one reader,
    and the others are not lost to make room for it."""
    client = counting_app.test_client()
    blocker = sqlite3.connect(tmp_path / "feedback.db", timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        client.get("/docs.php?q=tre+lesere", **from_reader(1))
        assert not flush(counting_app)
        for reader in (1, 2, 3):
            client.get("/docs.php?q=tre+lesere", **from_reader(reader))
        assert not flush(counting_app)
    finally:
        blocker.rollback()
        blocker.close()
    assert flush(counting_app)
    shown = client.get("/api/insights/searches", headers=AUTHOR).json
    assert [(q["query"], q["searches"]) for q in shown["top"]] == [("tre lesere", 3)]


def test_heads_and_second_looks_as_typed_are_not_counted(counting_app, docs_dir):
    """A HEAD (a link checker's) reads nothing and searches nothing; a search asked again as
    typed (eksakt=1, exact=1) is the same reader's second look, and one client must not
    rewrite with it what a query found."""
    write(docs_dir, "ny-side", "---\naliases: [gammel-side]\n---\n# Ny side\n")
    client = counting_app.test_client()
    for url in ("/docs.php?q=ansikst", "/api/search?q=ansikst", "/docs.php?doc=borte", "/docs.php?doc=gammel-side"):
        client.head(url)
    client.head("/go/ukjent.sted")
    client.head("/docs.php?doc=instantid-intro")
    failed = client.get("/api/search?q=ansikst", headers={"If-Match": '"nope"'}, **from_reader(5))
    assert failed.status_code == 412  # answered nothing: no search
    client.get("/docs.php?q=ansikst")  # corrected to "ansikt"
    client.get("/docs.php?q=ansikst&eksakt=1")
    client.get("/api/search?q=ansikst&exact=1")
    assert flush(counting_app)
    assert table(counting_app, "SELECT query, searches, no_results, corrected FROM insights_searches") == [
        ("ansikst", 1, 0, "ansikt")
    ]
    for name in ("insights_dead_links", "insights_alias_hits", "insights_dead_contexts", "insights_page_views"):
        assert table(counting_app, f"SELECT * FROM {name}") == [], name


def test_the_writer_thread_flushes_on_its_own(make_app, tmp_path):
    app = migrated(
        make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db", INSIGHTS_USERS=USERS, INSIGHTS_FLUSH_SECONDS="0.05")
    )
    try:
        app.test_client().get("/docs.php?doc=instantid-intro")
        deadline = time.monotonic() + 10
        while not table(app, "SELECT views FROM insights_page_views") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert table(app, "SELECT views FROM insights_page_views") == [(1,)]
    finally:
        app.extensions["tally"].stop()


def test_pruning_folds_rare_searches_of_past_days_and_forgets_old_counts(counting_app):
    engine = create_engine(counting_app.config["SQLALCHEMY_DATABASE_URI"])
    today = datetime.now(UTC).date()
    yesterday, old = today - timedelta(days=1), today - timedelta(days=91)
    with engine.begin() as connection:
        for day, query, searches, no_results, readers in [
            (yesterday, "ola nordmann konto", 2, 1, 1),
            (yesterday, "min kones telefon", 1, 1, 1),
            (yesterday, "slette konto", 9, 0, 3),
            (today, "sjelden i dag", 1, 0, 1),
            (old, "slette konto", 4, 0, 3),
        ]:
            connection.execute(
                text(
                    "INSERT INTO insights_searches VALUES (:day, 'nb', :query, :searches, :no_results, 0, NULL, :readers)"
                ),
                {"day": day, "query": query, "searches": searches, "no_results": no_results, "readers": readers},
            )
        connection.execute(
            text("INSERT INTO insights_search_readers VALUES (:day, 'abc', 'nb', 'slette konto')"), {"day": yesterday}
        )
        connection.execute(
            text("INSERT INTO insights_page_views VALUES (:day, 'instantid-intro', 'nb', 5)"), {"day": old}
        )
    engine.dispose()
    result = counting_app.test_cli_runner().invoke(args=["insights", "prune"])
    assert result.exit_code == 0 and "Folded 2 rare searches" in result.output and "deleted 2 rows" in result.output
    assert sorted(table(counting_app, "SELECT day, query, searches, no_results FROM insights_searches")) == [
        (yesterday.isoformat(), "", 3, 2),
        (yesterday.isoformat(), "slette konto", 9, 0),
        (today.isoformat(), "sjelden i dag", 1, 0),
    ]  # today's may still reach the threshold
    assert table(counting_app, "SELECT * FROM insights_search_readers") == []
    assert table(counting_app, "SELECT * FROM insights_page_views") == []
    summary = counting_app.test_client().get("/api/insights/searches", headers=AUTHOR).json
    assert (summary["total"], summary["hidden"]) == (13, 4)


@pytest.mark.postgres
def test_postgresql_takes_the_same_counts(make_app, pg_url):
    app = migrated(make_app(DATABASE_URL=pg_url, INSIGHTS_USERS=USERS, INSIGHTS_FLUSH_SECONDS="3600"))
    client = app.test_client()
    for reader in range(3):
        client.get("/docs.php?doc=instantid-intro", **from_reader(reader))
        client.get("/docs.php?q=ansikst", **from_reader(reader))
        client.get("/docs.php?doc=borte", headers={"Referer": "https://app.example/"}, **from_reader(reader))
    assert flush(app)
    assert flush(app)
    views = client.get("/api/insights/views", headers=AUTHOR).json
    assert views["total"] == 3 and views["pages"][0]["slug"] == "instantid-intro"
    searches = client.get("/api/insights/searches", headers=AUTHOR).json
    assert [(q["query"], q["searches"], q["corrected"]) for q in searches["corrected"]] == [("ansikst", 3, "ansikt")]
    dead = client.get("/api/insights/dead-links", headers=AUTHOR).json
    assert dead["links"] == [
        {"slug": "borte", "requests": 3, "referrers": {"app.example": 3}, "suggestion": None, "other_referrers": 0}
    ]
    counts = app.extensions["tally"]
    for _ in range(2):  # twice over: the second adds to the rows of the first
        counts.count_alias_hit("gammel-side", "instantid-intro")
        counts.count_dead_context("screen.settings", "ios", "5.2.1")
        assert flush(app)
    assert client.get("/api/insights/aliases", headers=AUTHOR).json["aliases"][0]["requests"] == 2
    assert client.get("/api/insights/dead-contexts", headers=AUTHOR).json["contexts"][0]["apps"] == [
        {"platform": "ios", "app_version": "5.2.1", "requests": 2}
    ]
    assert app.test_cli_runner().invoke(args=["insights", "prune"]).exit_code == 0


def test_views_count_for_the_day_they_are_written(counting_app, monkeypatch):
    client = counting_app.test_client()
    monkeypatch.setattr(tally, "_today", lambda: date(2026, 11, 25))
    client.get("/docs.php?doc=instantid-intro")
    assert flush(counting_app)
    monkeypatch.setattr(tally, "_today", lambda: date(2026, 11, 26))
    assert flush(counting_app)  # the day changed: yesterday's readers are new again
    client.get("/docs.php?doc=instantid-intro")
    client.get("/docs.php?doc=instantid-intro")  # the same reader, the same day
    client.get("/docs.php?doc=instantid-intro", **from_reader(2))
    assert flush(counting_app)
    assert sorted(table(counting_app, "SELECT day, views FROM insights_page_views")) == [
        ("2026-11-25", 1),
        ("2026-11-26", 2),
    ]


@pytest.mark.server
def test_the_production_server_writes_its_last_counts_as_it_stops(tmp_path):
    from bench.servers import get, help_server

    docs = tmp_path / "docs"
    shutil.copytree(PROJECT / "docs", docs)
    # Nothing would be written for an hour: only the workers' last flush, as they stop, writes these.
    proxy = {"TRUSTED_PROXY_HOPS": "1", "PUBLIC_BASE_URL": "https://hjelp.example"}
    with help_server(docs, INSIGHTS_USERS=USERS, INSIGHTS_FLUSH_SECONDS="3600", **proxy) as (base, _):
        readers = [{"X-Forwarded-For": f"198.51.100.{i}"} for i in range(25)] + [
            {"X-Forwarded-For": "198.51.100.0"}
        ] * 10
        statuses = [get(f"{base}/docs.php?doc=instantid-intro", headers=reader)[0] for reader in readers]
        statuses += [get(f"{base}/docs.php?doc=borte", headers={"Referer": "https://app.example/"})[0]]
    assert statuses == [200] * 35 + [404]
    engine = create_engine(f"sqlite:///{tmp_path}/feedback.db")
    with engine.connect() as connection:
        # 25 readers; the one who reloaded counts once in each of the 2 workers at most.
        assert connection.execute(text("SELECT SUM(views) FROM insights_page_views")).scalar_one() in (25, 26)
        assert connection.execute(text("SELECT slug, referrer, requests FROM insights_dead_links")).all() == [
            ("borte", "app.example", 1)
        ]
    engine.dispose()


def test_the_launchers_daily_pruning_folds_rare_searches(tmp_path, docs_dir):
    from app.config import from_environment, validate
    from app.readers.retention import prune_daily
    from app.serve import prepare_database

    settings = from_environment({"DATABASE_URL": f"sqlite:///{tmp_path}/f.db", "DOCS_DIR": str(docs_dir)})
    validate(settings)
    app = prepare_database(settings)  # the database-only app the launcher prunes with
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    engine = create_engine(settings["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO insights_searches VALUES (:day, 'nb', 'ola nordmann', 1, 1, 0, NULL, 1)"),
            {"day": yesterday},
        )
    stop = threading.Event()
    stop.set()  # one round, then stop
    prune_daily(app, stop)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT query, searches FROM insights_searches")).all() == [("", 1)]
    engine.dispose()


def test_a_flush_that_cannot_reach_the_database_file_raises_nothing(counting_app, tmp_path):
    counting_app.test_client().get("/docs.php?doc=instantid-intro")
    tally_ = counting_app.extensions["tally"]
    tally_.lock_file = tmp_path / "gone" / "feedback.db.write-lock"  # its folder was removed
    assert not tally_.flush()
    tally_.lock_file = None
    assert tally_.flush()
    assert table(counting_app, "SELECT views FROM insights_page_views") == [(1,)]


def test_a_correction_never_brings_back_what_was_redacted(counting_app):
    client = counting_app.test_client()
    for reader, query in enumerate(("per@example.org", "anne.berit@example.org", "kari@instantd.no")):
        client.get(f"/docs.php?q={query}", **from_reader(reader))
    assert flush(counting_app)
    assert table(counting_app, "SELECT query, corrected FROM insights_searches") == [("[e-post]", None)]
    for url in ("/innsikt", "/api/insights/searches", "/innsikt/sok.csv"):
        text = client.get(url, headers=AUTHOR).text
        if url == "/innsikt":  # the searches; the authors' list names every page, InstantID's too
            text = text.split('id="sok"')[1].split('id="dode-lenker"')[0]
        assert "kari" not in text and "instant" not in text


def test_queries_kept_per_day_are_bounded_and_the_rest_counted_in_the_total(make_app, tmp_path):
    app = migrated(
        make_app(
            DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db",
            INSIGHTS_USERS=USERS,
            INSIGHTS_FLUSH_SECONDS="3600",
            INSIGHTS_SEARCHES_PER_DAY="30",
        )
    )
    counts = app.extensions["tally"]
    for batch in range(3):
        for i in range(20):
            counts.count_search(f"unik sporring {batch} {i}", "nb", 1, None, f"reader {i}".encode())
        assert counts.flush()
    rows = table(app, "SELECT query, searches, readers FROM insights_searches")
    assert len([query for query, _, _ in rows if query]) == 30
    assert sum(searches for _, searches, _ in rows) == 60
    assert dict((query, searches) for query, searches, _ in rows)[""] == 30  # the rest, with no text
    assert len(table(app, "SELECT * FROM insights_search_readers")) <= 30 * 3


def test_old_links_and_dead_context_keys_are_counted_and_no_reader_with_them(counting_app, docs_dir):
    write(docs_dir, "ny-side", "---\naliases: [gammel-side]\ncontexts: [screen.upload]\n---\n# Ny side\n")
    client = counting_app.test_client()
    for reader, (url, status) in enumerate(
        [
            ("/docs.php?doc=gammel-side&embed=1", 301),
            ("/docs.php?doc=gammel-side&lang=en", 301),
            ("/docs.php?doc=Gammel-Side", 301),
            ("/go/screen.upload?platform=ios", 302),  # a key with a page: nothing to count
            ("/go/screen.settings?platform=ios&app_version=5.2.1", 404),
            ("/go/Screen.Settings?platform=iOS&app_version=5.2.1", 404),
            ("/go/screen.settings?platform=Android", 404),
            ("/go/screen.settings?platform=<b>&app_version=5.2<script>", 404),
            ("/go/error.91234567", 404),
            ("/go/bad%20key?platform=ios", 400),  # not a key: not counted
        ]
    ):
        assert client.get(url, **from_reader(7 + reader)).status_code == status, url
    assert flush(counting_app)
    today = datetime.now(UTC).date().isoformat()
    aliases = client.get("/api/insights/aliases", headers=AUTHOR).json
    assert aliases["total"] == 3
    assert aliases["aliases"] == [{"alias": "gammel-side", "page": "ny-side", "requests": 3, "last_day": today}]
    dead = client.get("/api/insights/dead-contexts", headers=AUTHOR).json
    assert dead["total"] == 5 and dead["other"] == 0
    assert dead["contexts"][0] == {
        "context": "screen.settings",
        "requests": 4,
        "last_day": today,
        "apps": [
            {"platform": "ios", "app_version": "5.2.1", "requests": 2},
            {"platform": "", "app_version": "", "requests": 1},
            {"platform": "android", "app_version": "", "requests": 1},
        ],
        "other_apps": 0,
    }
    stored = str(table(counting_app, "SELECT * FROM insights_dead_contexts"))
    assert "91234567" not in stored and "<" not in stored and "192.0.2" not in stored
    assert [name for _, name, *_ in table(counting_app, "PRAGMA table_info(insights_dead_contexts)")] == [
        "day",
        "context",
        "platform",
        "app_version",
        "requests",
    ]  # nothing says who asked
    html = client.get("/innsikt", headers=AUTHOR).text
    assert '<a href="/go/screen.settings"><code>screen.settings</code></a>' in html and "ios 5.2.1: 2" in html
    assert '<code>gammel-side</code></td><td><a href="/docs.php?doc=ny-side">ny-side</a>' in html
    report = counting_app.test_cli_runner().invoke(args=["insights", "report"]).output
    assert "4  screen.settings" in report and "3  gammel-side -> ny-side" in report


def test_one_client_repeating_a_dead_link_an_old_link_or_an_unknown_place_counts_once(counting_app, docs_dir):
    """As a view is a reader's first of a page that day: a client asking 30 times, with any
    user agent or parameters, is one request in what the authors see; another reader is another."""
    write(docs_dir, "ny-side", "---\naliases: [gammel-side]\n---\n# Ny side\n")
    client = counting_app.test_client()
    for i in range(30):
        agent = {"headers": {"User-Agent": f"agent {i}", "Referer": "https://evil.example/"}}
        client.get(f"/docs.php?doc=oppdiktet&utm={i}", **agent, **from_reader(1))
        client.get(f"/docs.php?doc=gammel-side&x={i}", **agent, **from_reader(1))
        client.get(f"/go/falsk.sted?platform=ios&app_version=1.0&x={i}", **agent, **from_reader(1))
    client.get("/docs.php?doc=oppdiktet", headers={"Referer": "https://evil.example/"}, **from_reader(2))
    assert flush(counting_app)
    assert table(counting_app, "SELECT slug, referrer, requests FROM insights_dead_links") == [
        ("oppdiktet", "evil.example", 2)
    ]
    assert table(counting_app, "SELECT alias, requests FROM insights_alias_hits") == [("gammel-side", 1)]
    assert table(counting_app, "SELECT context, requests FROM insights_dead_contexts") == [("falsk.sted", 1)]


CRAWLERS_AND_FETCHES_AHEAD = [
    {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
    {"User-Agent": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"},
    {"User-Agent": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"},
    {"User-Agent": "curl/8.5.0"},
    {"Sec-Purpose": "prefetch;prerender"},  # Chrome's speculation rules
    {"Purpose": "prefetch"},  # <link rel=prefetch>
    {"X-Moz": "prefetch"},  # Firefox
    {"X-Purpose": "preview"},  # Safari's top sites
]
READERS = [
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A.240505.005; wv) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Version/4.0 Chrome/131.0.0.0 Mobile Safari/537.36",  # the app's web view
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 9; CUBOT X20 PRO) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile"
    " Safari/537.36",  # a phone whose name has "bot" in it
    "",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile"
    " Safari/537.36 Viber/14.7.0.4",  # Viber's in-app browser
    "okhttp/4.12.0",  # an Android app calling the API
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.41.105"
    " Chrome/130.0.0.0 Electron/33.2.0 Safari/537.36 Sonic Slack_SSB/4.41.105",  # Slack's desktop app
]


def test_crawlers_and_pages_fetched_ahead_are_not_readers(counting_app, docs_dir):
    """A search engine reading every page, a link preview, or a browser fetching a page in case
    the reader opens it: no view, search or missing page is counted for them."""
    write(docs_dir, "ny-side", "---\naliases: [gammel-side]\n---\n# Ny side\n")
    client = counting_app.test_client()
    for reader, headers in enumerate(CRAWLERS_AND_FETCHES_AHEAD):
        for url in ("instantid-intro", "finnes-ikke", "gammel-side"):
            client.get(f"/docs.php?doc={url}", headers=headers, **from_reader(reader))
        client.get("/docs.php?q=ansikt", headers=headers, **from_reader(reader))
        client.get("/go/falsk.sted", headers=headers, **from_reader(reader))
    assert flush(counting_app)
    for name in ("page_views", "searches", "dead_links", "alias_hits", "dead_contexts"):
        assert table(counting_app, f"SELECT * FROM insights_{name}") == [], name
    for reader, agent in enumerate(READERS):  # readers on phones and in the app, a Cubot phone among them
        client.get("/docs.php?doc=instantid-intro", headers={"User-Agent": agent}, **from_reader(50 + reader))
        client.get("/docs.php?doc=finnes-ikke", headers={"User-Agent": agent}, **from_reader(50 + reader))
        client.get("/docs.php?q=ansikt", headers={"User-Agent": agent}, **from_reader(50 + reader))
    assert flush(counting_app)
    assert table(counting_app, "SELECT views FROM insights_page_views") == [(len(READERS),)]
    assert table(counting_app, "SELECT requests FROM insights_dead_links") == [(len(READERS),)]
    assert table(counting_app, "SELECT searches FROM insights_searches") == [(len(READERS),)]
    # A page fetched ahead, or a link preview, from a reader's network does not take the
    # reader's own view of the day; nor does a request whose precondition fails (a 412).
    for headers in CRAWLERS_AND_FETCHES_AHEAD:
        client.get("/docs.php?doc=instantid-intro", headers=headers, **from_reader(99))
    client.get("/docs.php?doc=instantid-intro", headers={"User-Agent": READERS[0]}, **from_reader(99))
    failed = {"If-Match": '"another version"', "User-Agent": READERS[0]}
    assert client.get("/docs.php?doc=instantid-intro", headers=failed, **from_reader(98)).status_code == 412
    assert flush(counting_app)
    assert table(counting_app, "SELECT views FROM insights_page_views") == [(len(READERS) + 1,)]


def test_the_patterns_counted_as_readers_are_in_the_crawler_list():
    """READERS_PROGRAMS leaves patterns out of the list by their text: a renamed one would
    silently be a crawler again."""
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    from app.guards.crawlers import READERS_PROGRAMS

    assert READERS_PROGRAMS.issubset(entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA)


def test_a_long_user_agent_is_read_only_as_far_as_real_ones_go(counting_app):
    """A header of pieces of the patterns, 64,000 characters long, ran RE2 out of memory and
    took 0.3-0.7 s a request; only its start is read."""
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    from app.guards.crawlers import MAX_AGENT_CHARS, by_a_reader

    pieces = [entry["pattern"][:-1] for entry in CRAWLER_USER_AGENTS_DATA if entry["pattern"].isalnum()]
    hostile = "~".join(pieces * 20)[:64_000]
    assert by_a_reader({"HTTP_USER_AGENT": "Mozilla/5.0 " + "x" * MAX_AGENT_CHARS + " Googlebot/2.1"})
    assert not by_a_reader({"HTTP_USER_AGENT": "Googlebot/2.1 " + "x" * 64_000})
    client = counting_app.test_client()
    assert client.get("/docs.php?q=ansikt", headers={"User-Agent": hostile}).status_code == 200
    assert by_a_reader({"HTTP_USER_AGENT": hostile})


def test_one_client_brings_only_its_share_of_a_days_lists(counting_app, monkeypatch):
    """Past its share of different missing pages, unknown places or queries in a day, one
    client's requests count with the day's others: it cannot fill the lists the authors read,
    and the readers' own entries stay named. Another client has a share of its own."""
    monkeypatch.setitem(tally.CLIENT_SHARES, "dead link", 3)
    monkeypatch.setitem(tally.CLIENT_SHARES, "context", 3)
    monkeypatch.setitem(tally.CLIENT_SHARES, "search", 4)
    counts = counting_app.extensions["tally"]
    for i in range(10):
        counts.count_dead_link(f"oppdiktet-{i}", "", "forslag", client="198.51.100.1")
        counts.count_dead_context(f"falsk.sted{i}", "ios", "1.0", client="198.51.100.1")
        counts.count_search(f"falsk {i}", "nb", 0, None, b"one client")
    counts.count_search("falsk 0", "nb", 2, None, b"one client")  # again: a reader's search counts once a day
    counts.count_search("falsk 9", "nb", 2, None, b"one client")  # the same, past its share
    counts.count_dead_link("ekte-lenke", "", "", client="198.51.100.2")
    counts.count_dead_context("ekte.sted", "ios", "1.0", client="198.51.100.2")
    counts.count_search("ekte sporsmal", "nb", 1, None, b"another client")
    assert counts.flush()
    links = dict(table(counting_app, "SELECT slug, requests FROM insights_dead_links"))
    assert links == {"oppdiktet-0": 1, "oppdiktet-1": 1, "oppdiktet-2": 1, "*": 7, "ekte-lenke": 1}
    assert table(counting_app, "SELECT suggestion FROM insights_dead_links WHERE slug = '*'") == [("",)]
    contexts = dict(table(counting_app, "SELECT context, requests FROM insights_dead_contexts"))
    assert contexts == {"falsk.sted0": 1, "falsk.sted1": 1, "falsk.sted2": 1, "*": 7, "ekte.sted": 1}
    searches = {
        query: (n, readers)
        for query, n, readers in table(counting_app, "SELECT query, searches, readers FROM insights_searches")
    }
    assert searches == {
        "falsk 0": (1, 1),
        "falsk 1": (1, 1),
        "falsk 2": (1, 1),
        "falsk 3": (1, 1),
        "": (6, 0),  # its text not kept, and no reader with it
        "ekte sporsmal": (1, 1),
    }
    assert len(table(counting_app, "SELECT * FROM insights_search_readers")) == 5
    # The shares are a day's: the next day it brings new ones under their names again.
    counts._seen_day = date.today() - timedelta(days=1)
    assert counts.flush()
    counts.count_search("falsk 20", "nb", 0, None, b"one client")
    counts.count_dead_link("oppdiktet-20", "", "", client="198.51.100.1")
    assert counts.flush()
    assert ("falsk 20",) in table(counting_app, "SELECT query FROM insights_searches")
    assert ("oppdiktet-20",) in table(counting_app, "SELECT slug FROM insights_dead_links")


def test_a_name_some_client_brought_costs_no_share_and_made_up_ones_wipe_no_views(counting_app, monkeypatch):
    """Readers behind one address (an office, a carrier's NAT) past their share still count
    under the names others brought; and a client making up links fills the memory of what
    was asked, never that of who has read which page."""
    monkeypatch.setitem(tally.CLIENT_SHARES, "search", 1)
    counts = counting_app.extensions["tally"]
    counts.count_search("slette konto", "nb", 1, None, b"a reader")
    counts.count_search("endre passord", "nb", 1, None, b"an office")  # its share
    counts.count_search("slette konto", "nb", 1, None, b"an office")  # named already: no share
    counts.count_search("noe annet", "nb", 1, None, b"an office")  # past its share
    assert counts.flush()
    searches = dict(table(counting_app, "SELECT query, searches FROM insights_searches"))
    assert searches == {"slette konto": 2, "endre passord": 1, "": 1}
    monkeypatch.setattr(tally, "MAX_SEEN", 4)
    client = counting_app.test_client()
    client.get("/docs.php?doc=instantid-intro", **from_reader(1))
    for i in range(10):
        client.get(f"/docs.php?doc=oppdiktet-{i}", **from_reader(2))
    client.get("/docs.php?doc=instantid-intro", **from_reader(1))
    assert counts.flush()
    assert table(counting_app, "SELECT views FROM insights_page_views") == [(1,)]


def test_what_a_client_brings_past_its_share_takes_no_place_in_the_days_list(make_app, tmp_path, monkeypatch):
    app = migrated(
        make_app(
            DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db",
            INSIGHTS_USERS=USERS,
            INSIGHTS_FLUSH_SECONDS="3600",
            INSIGHTS_DEAD_LINKS_PER_DAY="2",
            INSIGHTS_SEARCHES_PER_DAY="2",
        )
    )
    for kind in ("dead link", "context", "search"):
        monkeypatch.setitem(tally.CLIENT_SHARES, kind, 1)
    counts = app.extensions["tally"]
    for slug, client in (("a", "198.51.100.1"), ("b", "198.51.100.1"), ("c", "198.51.100.2")):
        counts.count_dead_link(slug, "", "", client=client)
        counts.count_dead_context(f"screen.{slug}", "", "", client=client)
        counts.count_search(f"sok {slug}", "nb", 1, None, client.encode())
    assert counts.flush()
    assert dict(table(app, "SELECT query, searches FROM insights_searches")) == {"sok a": 1, "": 1, "sok c": 1}
    assert dict(table(app, "SELECT slug, requests FROM insights_dead_links")) == {"a": 1, "*": 1, "c": 1}
    assert dict(table(app, "SELECT context, requests FROM insights_dead_contexts")) == {
        "screen.a": 1,
        "*": 1,
        "screen.c": 1,
    }


def test_dead_context_keys_kept_per_day_are_bounded_and_the_rest_counted_together(make_app, tmp_path):
    app = migrated(
        make_app(
            DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db",
            INSIGHTS_USERS=USERS,
            INSIGHTS_FLUSH_SECONDS="3600",
            INSIGHTS_DEAD_LINKS_PER_DAY="40",
        )
    )
    counts = app.extensions["tally"]
    for batch in range(3):  # over several flushes, as a worker writes them
        for i in range(50):
            counts.count_dead_context(f"screen.x{batch}-{i}", "", "")
        counts.count_dead_context("screen.x0-0", "", "")  # kept already: counted under its name
        assert counts.flush()
    for version in range(12):  # many app versions for one kept key: the first five kept, the rest together
        counts.count_dead_context("screen.x0-1", "android", f"5.{version}")
    assert counts.flush()
    rows = table(app, "SELECT context, platform, app_version, requests FROM insights_dead_contexts")
    assert len({key for key, *_ in rows} - {"*"}) == 40
    assert len(rows) <= 40 + 1 + 6
    assert sum(requests for *_, requests in rows) == 3 * 51 + 12
    with app.test_request_context():
        from app.readers.summaries import dead_contexts_summary

        summary = dead_contexts_summary(7)
    assert summary["total"] == 3 * 51 + 12 and summary["other"] == 110
    key = next(key for key in summary["contexts"] if key["context"] == "screen.x0-1")
    assert len(key["apps"]) == 5 and sum(app["requests"] for app in key["apps"]) + key["other_apps"] == 13


def test_old_alias_hits_and_dead_keys_are_pruned_with_the_other_counts(counting_app):
    old = datetime.now(UTC).date() - timedelta(days=91)
    engine = create_engine(counting_app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO insights_alias_hits VALUES (:day, 'a', 'b', 1)"), {"day": old})
        connection.execute(text("INSERT INTO insights_dead_contexts VALUES (:day, 'a.b', '', '', 1)"), {"day": old})
    engine.dispose()
    assert "deleted 2 rows" in counting_app.test_cli_runner().invoke(args=["insights", "prune"]).output
