"""The help centre's production server against nginx serving the same bytes, with wrk."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.servers import (
    LUA,
    SAMPLE_PAGE,
    bare_wsgi_server,
    fetch,
    help_server,
    nginx_server,
    wait_for_search,
    worker_rss_mb,
    wrk,
)

ROUNDS = 3  # interleaved rounds of nginx, bare WSGI and the cached page


def measure(corpora: dict[int, Path], seconds: int, workdir: Path) -> dict:
    """Requests per second and latency of each kind of request, and how they scale with the corpus."""
    rows = []
    with help_server(corpora[1_000]) as (base, _, _):
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
        rows.append(("unknown slugs, each one new (404)",
                     wrk(f"{base}/docs.php", seconds, script=LUA / "dead_links.lua")))
        rows.append(("malformed slug (400)", wrk(f"{base}/docs.php?doc=..%2F..%2Fetc", seconds)))
    # First renders: every request names another of 10,000 pages and nothing is cached.
    with help_server(corpora[10_000], CACHE_TYPE="NullCache", RESPONSE_CACHE_ENTRIES="1") as (base, _, _):
        wait_for_search(base)
        rows.append(("first render (10,000 pages, no cache)",
                     wrk(f"{base}/docs.php", seconds, script=LUA / "every_page.lua")))
    scale = []
    for size, docs in sorted(corpora.items()):
        with help_server(docs) as (base, startup, pid):
            wait_for_search(base)
            scale.append((size, startup, worker_rss_mb(pid), wrk(f"{base}/docs.php?doc={SAMPLE_PAGE}", seconds)))
    return {"ratios": ratios, "rows": rows, "scale": scale}
