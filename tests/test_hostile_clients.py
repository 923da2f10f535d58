"""Figures authors can trust, on the production server: what one hostile client tries with
votes, counts and logins, and what the readers of cached pages feel meanwhile.

One server for the module, as the container runs it behind one proxy hop (each test's
client names its address in X-Forwarded-For), with insights on and a real scrypt hash.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from helpers import PROJECT
from werkzeug.security import generate_password_hash

from app.guards.limits import DATABASE_SLOT_WAIT_SECONDS
from app.readers.authors import FAILED_CHECK_SECONDS
from app.readers.database import SQLITE_BUSY_MS
from bench.servers import READER, Probe, get, help_server, wrk_script

pytestmark = pytest.mark.server

PAGE = "/docs.php?doc=what-is-ip-adapter"
PASSWORD = "riktig hest batteri stift"
AUTHOR = {"Authorization": "Basic " + base64.b64encode(f"forfatter:{PASSWORD}".encode()).decode()}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-clients")
    shutil.copytree(PROJECT / "docs", folder / "docs")
    database = folder / "feedback.db"
    with help_server(
        folder / "docs",
        DATABASE_URL=f"sqlite:///{database}",
        TRUSTED_PROXY_HOPS="1",
        PUBLIC_BASE_URL="https://hjelp.example",
        INSIGHTS_USERS=f"forfatter:{generate_password_hash(PASSWORD)}",
        INSIGHTS_FLUSH_SECONDS="0.2",
    ) as (base, process):
        yield base, database


def send(base: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, float, bytes]:
    """(status, seconds, body) of one request, as a reader's browser."""
    request = urllib.request.Request(base + path, data=body, headers={**READER, **(headers or {})})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, time.perf_counter() - started, response.read()
    except urllib.error.HTTPError as error:
        return error.code, time.perf_counter() - started, error.read()


def vote(
    base: str, slug: str, address: str, agent: str = "Mozilla/5.0", comment: str | None = None, raw: bytes | None = None
) -> tuple[int, float]:
    body = raw or json.dumps({"slug": slug, "helpful": False, **({"comment": comment} if comment else {})}).encode()
    status, seconds, _ = send(
        base,
        "/api/feedback",
        body,
        {"Content-Type": "application/json", "X-Forwarded-For": address, "User-Agent": agent},
    )
    return status, seconds


def rows(database, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, args).fetchall()


def test_poison_posts_then_votes_are_each_answered_within_a_second(server):
    base, database = server
    poison = b'{"slug":"what-is-ip-adapter","helpful":false,"comment":"\\ud800"}'
    for i in range(3):
        assert vote(base, "", f"203.0.113.{i}", raw=poison)[0] == 400
    answers = [vote(base, "instantid-intro", f"198.51.100.{i}") for i in range(10)]
    print("votes after 3 poison posts:", [f"{status} in {seconds * 1000:.0f} ms" for status, seconds in answers])
    assert all(status == 201 and seconds < 1 for status, seconds in answers), answers
    assert rows(database, "SELECT count(*) FROM feedback_votes WHERE slug = 'instantid-intro'") == [(10,)]


def test_24_user_agents_from_one_address_move_a_tally_by_at_most_3(server):
    base, database = server
    statuses = [
        vote(base, "generative-ai-intro", "203.0.113.200", agent=f"Agent/{i}", comment=f"nr {i}")[0] for i in range(24)
    ]
    taken = statuses.count(201)
    [(votes,)] = rows(database, "SELECT count(*) FROM feedback_votes WHERE slug = 'generative-ai-intro'")
    print(f"24 user agents from one address: {taken} posts taken (the rest 429), {votes} votes counted")
    assert set(statuses) <= {201, 429} and taken > 3  # more posts than the cap got through the rate limit
    assert votes <= 3
    # Every comment is kept: no post replaced another's.
    assert rows(database, "SELECT count(*) FROM feedback_comments WHERE slug = 'generative-ai-intro'") == [(taken,)]


def test_one_address_with_three_user_agents_never_appears_on_the_insights(server):
    base, _ = server
    for agent in ("Firefox", "Safari", "Chrome") * 2:
        assert (
            send(
                base,
                "/api/search?q=enslig+hemmelighet",
                headers={"X-Forwarded-For": "203.0.113.77", "User-Agent": agent},
            )[0]
            == 200
        )
    for i in range(3):  # the control: three addresses make a query appear
        assert send(base, "/api/search?q=delt+sporsmal", headers={"X-Forwarded-For": f"192.0.2.{i + 10}"})[0] == 200
    time.sleep(1.5)  # every worker's counts written (each flushes every 0.2 s)
    status, _, page = send(base, "/innsikt", headers={**AUTHOR, "X-Forwarded-For": "192.0.2.200"})
    assert status == 200
    assert "enslig" not in page.decode() and "delt sporsmal" in page.decode()


def voting_load(base: str, database, locked: bool, seconds: float = 4) -> tuple[Probe, list[tuple[int, float]]]:
    """Cached-page latency while 16 clients keep voting, with the database locked or not."""
    holder = sqlite3.connect(database)
    if locked:
        holder.execute("BEGIN EXCLUSIVE")
    answers: list[tuple[int, float]] = []
    stop = threading.Event()

    def keep_voting(n: int) -> None:
        i = 0
        while not stop.is_set():
            answers.append(vote(base, "avatarify-intro", f"10.9.{n}.{i % 250}"))
            i += 1

    try:
        with Probe(base + PAGE) as probe, ThreadPoolExecutor(16) as pool:
            for n in range(16):
                pool.submit(keep_voting, n)
            time.sleep(seconds)
            stop.set()
    finally:
        holder.rollback()
        holder.close()
    return probe, answers


def test_a_locked_database_leaves_cached_pages_fast(server):
    base, database = server
    assert get(base + PAGE)[0] == 200
    unlocked, _ = voting_load(base, database, locked=False)
    locked, answers = voting_load(base, database, locked=True)
    statuses = {status for status, _ in answers}
    waited = sorted(seconds for _, seconds in answers)
    print(
        f"16 clients voting, cached page p99: database free {unlocked.p99:.1f} ms, locked {locked.p99:.1f} ms "
        f"(p50 {locked.percentile(0.5):.1f} ms, slowest {max(locked.times):.0f} ms, {len(locked.times)} probes); while locked {len(answers)} votes "
        f"answered {sorted(statuses)}, median wait {waited[len(waited) // 2] * 1000:.0f} ms"
    )
    assert statuses <= {503} and not locked.failures
    # No page waits behind the votes as long as a vote may wait on the database: with the slots
    # the slowest page took 0.49-0.52 s (a vote's wait for a slot), without them (DATABASE_SLOTS
    # 1000) 3.0-5.0 s. Its p99 tells the two apart less well than it seems: pages stuck behind
    # the votes are few because each takes seconds (without the slots, p99 was 2-4 ms). A bound
    # on the mechanism, not a speed target (those live in bench/): a ratio to the free
    # database's p99 failed in CI with the slots in place (56 ms against a bound of 50).
    assert max(locked.times) < SQLITE_BUSY_MS
    # And votes are turned away at once rather than held (median 9-13 ms; 5 s without the slots).
    assert waited[len(waited) // 2] < DATABASE_SLOT_WAIT_SECONDS
    assert vote(base, "avatarify-intro", "10.9.200.1")[0] == 201  # and it takes votes again


def test_a_flood_of_bad_passwords_leaves_cached_pages_fast_and_lets_the_author_in(server):
    base, _ = server
    latency = {"no credentials": Probe.pooled(), "bad passwords": Probe.pooled()}
    for _ in range(2):  # alternated, so that both meet the machine alike
        for kind, script in (("no credentials", "no_credentials.lua"), ("bad passwords", "bad_logins.lua")):
            with Probe(base + PAGE, latency[kind]) as probe:
                summary = wrk_script(base, script, seconds=5, ADDRESSES="100")
            assert not probe.failures
            if kind == "bad passwords":
                assert " 0 other" in summary, summary
                print(summary.strip().splitlines()[-1])
    control, flood = (Probe.p99_of(latency[kind]) for kind in ("no credentials", "bad passwords"))
    print(
        f"cached page p99 during a flood of 16 connections from 100 addresses: without credentials "
        f"{control:.1f} ms, with bad passwords {flood:.1f} ms"
    )
    # The flood itself loads this 2-core machine (wrk runs on it too): whatever a flood costs
    # pages without password checks, the checks add at most three times it again, and a page
    # never waits as long as a failed check's turn. Measured p99: 34-39 ms with the checks one
    # at a time, 28-47 ms without credentials, 791-979 ms with every check at once (a mutant).
    assert flood < max(FAILED_CHECK_SECONDS * 1000, 4 * control)
    # Once the flood stops (and the checks it left running are done), the author gets in.
    for _ in range(10):
        status, _, _ = send(base, "/innsikt", headers={**AUTHOR, "X-Forwarded-For": "192.0.2.201"})
        if status != 503:
            break
        time.sleep(1)  # as Retry-After says
    assert status == 200


def test_dead_links_are_bounded_a_day_and_the_longest_view_answers(server):
    base, database = server

    def ask(i: int) -> int:
        return send(base, f"/docs.php?doc=finnes-ikke-{i}", headers={"X-Forwarded-For": f"10.7.{i % 100}.1"})[0]

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(ask, range(3000)))
    assert set(statuses) == {404}
    time.sleep(1.5)
    today = datetime.now(UTC).date()
    [(kept,)] = rows(database, "SELECT count(*) FROM insights_dead_links WHERE day = ?", today.isoformat())
    print(f"3,000 unique dead links: {kept} rows for the day")
    assert kept <= 1001
    # The table full: a thousand slugs and the row of the rest on each of 90 days.
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO insights_dead_links (day, slug, referrer, requests, suggestion) VALUES (?, ?, '', 3, '')",
            [((today - timedelta(days=day)).isoformat(), f"gammel-{n}") for day in range(1, 90) for n in range(1001)],
        )
    for path in ("/api/insights/dead-links?days=90", "/innsikt?dager=90", "/innsikt/dode-lenker.csv?dager=90"):
        status, seconds, _ = send(base, path, headers={**AUTHOR, "X-Forwarded-For": "192.0.2.202"})
        print(f"{path} with {89 * 1001 + kept} rows: {seconds * 1000:.0f} ms")
        assert status == 200  # how fast: bench/RESULTS.md, not a timed test
