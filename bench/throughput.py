"""The help centre's production server against nginx serving the same bytes, with wrk."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.servers import (
    LUA,
    SAMPLE_PAGE,
    bare_wsgi_server,
    fetch,
    help_server,
    nginx_server,
    wait_for_search,
    worker_cpu_seconds,
    worker_rss_mb,
    wrk,
)

ROUNDS = 3  # interleaved rounds of nginx, bare WSGI and the cached page
FLUSH_SECONDS = 5  # INSIGHTS_FLUSH_SECONDS's default
STARTS = 3  # starts per corpus size, for the median start-up time
COUNTING_ROUNDS = 8  # interleaved rounds of cached pages with counting off and on
NEW_READERS = LUA / "new_readers.lua"


def measure(corpora: dict[int, Path], seconds: int, workdir: Path) -> dict:
    """Requests per second and latency of each kind of request, and how they scale with the corpus."""
    rows = []
    with help_server(corpora[1_000], log=False) as (base, _):
        page_url = f"{base}/docs.php?doc={SAMPLE_PAGE}"
        body, headers = fetch(page_url)
        # The headline ratio: ROUNDS interleaved rounds of the three, each round's ratio
        # taken within the round, and the round with the median ratio reported.
        rounds = []
        for i in range(ROUNDS):
            with nginx_server(body, workdir / f"nginx-{i}") as nginx_base:
                reference = wrk(f"{nginx_base}/page.html", seconds)
            with bare_wsgi_server(body, headers, workdir) as bare_base:
                bare = wrk(bare_base + "/", seconds)
            rounds.append((reference, bare, wrk(page_url, seconds)))
        ratios = [cached["rps"] / reference["rps"] for reference, _, cached in rounds]
        reference, bare, cached = rounds[ratios.index(statistics.median(ratios))]
        rows.append(("nginx: the same page bytes as a static file", reference))
        rows.append(("bare WSGI callable under granian: same bytes and headers, no app", bare))
        rows.append(("cached help page", cached))
        rows.append(("cached help page, gzip", wrk(page_url, seconds, {"Accept-Encoding": "gzip"})))
        rows.append(("304 revalidation (If-None-Match)", wrk(page_url, seconds, {"If-None-Match": headers["ETag"]})))
        rows.append(("help index (1,000 pages)", wrk(f"{base}/docs.php", seconds)))
        rows.append(("search «ansikt bilde» (1,000 pages)", wrk(f"{base}/docs.php?q=ansikt+bilde", seconds)))
        rows.append(("unknown slug, the same one again (404)", wrk(f"{base}/docs.php?doc=finnes-ikke", seconds)))
        rows.append(
            ("unknown slugs, each one new (404)", wrk(f"{base}/docs.php", seconds, script=LUA / "dead_links.lua"))
        )
        rows.append(("malformed slug (400)", wrk(f"{base}/docs.php?doc=..%2F..%2Fetc", seconds)))
    # First renders: every request names another of 10,000 pages and nothing is cached.
    with help_server(corpora[10_000], log=False, CACHE_TYPE="NullCache", RESPONSE_CACHE_ENTRIES="1") as (base, _):
        wait_for_search(base)
        rows.append(
            ("first render (10,000 pages, no cache)", wrk(f"{base}/docs.php", seconds, script=LUA / "every_page.lua"))
        )
    scale = []
    for size, docs in sorted(corpora.items()):
        # Start-up varies by a fifth from run to run on this machine: the median of STARTS.
        startups = []
        for _ in range(STARTS - 1):
            with help_server(docs, log=False) as (_, server):
                startups.append(server.started_in)
        with help_server(docs, log=False) as (base, server):
            startups.append(server.started_in)
            wait_for_search(base)
            scale.append(
                (
                    size,
                    statistics.median(startups),
                    worker_rss_mb(server.pid),
                    wrk(f"{base}/docs.php?doc={SAMPLE_PAGE}", seconds),
                )
            )
    return {"ratios": ratios, "rows": rows, "scale": scale, "counting": counting_cost(corpora[1_000], seconds, workdir)}


def counting_cost(docs: Path, seconds: int, workdir: Path) -> dict:
    """Cached pages with insights on (each view counted, written every INSIGHTS_FLUSH_SECONDS)
    and off, in ROUNDS interleaved rounds on two servers up side by side; and whether every
    view answered was stored. Every request is a new reader behind one trusted proxy
    (new_readers.lua): the most a view costs, and each one counted."""
    from sqlalchemy import create_engine, text
    from werkzeug.security import generate_password_hash

    database = workdir / "insights.db"
    proxy = {"TRUSTED_PROXY_HOPS": "1", "PUBLIC_BASE_URL": "https://hjelp.example"}
    on = {
        "INSIGHTS_USERS": f"bench:{generate_password_hash('bench')}",
        "DATABASE_URL": f"sqlite:///{database}",
        **proxy,
    }
    off = {"DATABASE_URL": f"sqlite:///{workdir / 'no-insights.db'}", **proxy}

    def stored_views() -> int:
        engine = create_engine(f"sqlite:///{database}")
        with engine.connect() as connection:
            views = connection.execute(text("SELECT COALESCE(SUM(views), 0) FROM insights_page_views")).scalar_one()
        engine.dispose()
        return views

    def run(base: str, pid: int) -> dict:
        """One wrk run, with the workers' CPU time per request answered."""
        cpu = worker_cpu_seconds(pid)
        runs.append(base)
        address = {"RUN": str(len(runs))}  # new readers in each run
        result = wrk(f"{base}/docs.php?doc={SAMPLE_PAGE}", seconds, script=NEW_READERS, warm_up=False, env=address)
        return {**result, "cpu_us": (worker_cpu_seconds(pid) - cpu) / result["requests"] * 1e6}

    rounds, runs = [], []
    with (
        help_server(docs, log=False, **on) as (on_base, on_server),
        help_server(docs, log=False, **off) as (off_base, off_server),
    ):
        for base in (off_base, on_base):
            wrk(f"{base}/docs.php?doc={SAMPLE_PAGE}", 1, warm_up=False)
        time.sleep(FLUSH_SECONDS + 1)
        before = stored_views()
        for i in range(COUNTING_ROUNDS):  # which goes first alternates: the second of a pair ran slower
            if i % 2:
                on_run = run(on_base, on_server.pid)
                rounds.append((run(off_base, off_server.pid), on_run))
            else:
                rounds.append((run(off_base, off_server.pid), run(on_base, on_server.pid)))
    # Stopped with SIGTERM: each worker wrote what it had counted as it exited.
    stored = stored_views() - before
    return {"rounds": rounds, "stored": stored, "answered": sum(on_run["requests"] for _, on_run in rounds)}
