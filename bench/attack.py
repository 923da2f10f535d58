"""Costs an attacker can make us pay: per-request work at 10,000 pages, memory growth under
unique requests, cached-page latency while searches flood the server, and what searches
from many networks leave behind in the rate limiter.

Measured by `python -m bench.run` (`make bench`); bench/report.py writes them up.
"""

from __future__ import annotations

import statistics
import threading
import time
import urllib.request
import warnings
from contextlib import suppress
from pathlib import Path

from bench.servers import help_server, median_ms, rss_mb, worker_cpu_seconds, wrk_script

# A search of twelve one- and two-letter prefixes: each expands to many index terms.
SHORT_PREFIXES = "a b d f k m s t ab an bi de"
# Twelve words on nearly every page of the generated corpus, and twelve long typos.
COMMON_WORDS = "bilde ansikt modell lys bakgrunn tekst stil farge konto appen kontrast skygge"
UNKNOWN_WORDS = " ".join(f"{word}xq" for word in COMMON_WORDS.split())


def in_process_costs(docs: Path) -> list[tuple[str, float]]:
    """Median in-process milliseconds of requests whose cost could grow with the corpus."""
    from app import create_app
    from app.observability.logs import configure_logging
    from app.search.engine import get_index

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = create_app({"DOCS_DIR": str(docs), "RATELIMIT_ENABLED": False})
    configure_logging("warning", "json")  # no access lines: they would be most of what is measured
    client = app.test_client()
    with app.test_request_context():
        for lang in ("nb", "en"):
            get_index(lang).update()
    counter = iter(range(10**9))

    def afresh(query: str):
        """A search as if asked for the first time: its remembered results forgotten."""
        app.extensions["search"]._cache.clear()
        return client.get(f"/docs.php?q={query.replace(' ', '+')}")

    rows = [
        ("unique 404 (a new unknown slug each time)", lambda: client.get(f"/docs.php?doc=finnes-ikke-{next(counter)}")),
        (f"search of 12 short prefixes «{SHORT_PREFIXES}»", lambda: afresh(SHORT_PREFIXES)),
        ("search of 12 common words (no page has them all)", lambda: afresh(COMMON_WORDS)),
        ("search of 12 words no page has (3 corrected, the rest unknown)", lambda: afresh(UNKNOWN_WORDS)),
        ("/api/docs", lambda: client.get("/api/docs")),
        ("/sitemap.xml", lambda: client.get("/sitemap.xml", base_url="https://hjelp.example")),
        ("cached page (through Flask's test client)", lambda: client.get("/docs.php?doc=what-is-ip-adapter")),
    ]
    return [(name, median_ms(call, runs=60)) for name, call in rows]


def memory_growth(docs: Path) -> list[tuple[str, float, float]]:
    """RSS before and after floods of unique requests, against the production server."""
    rows = []
    with help_server(docs, log=False, RATELIMIT_ENABLED="false") as (base, server):
        urllib.request.urlopen(f"{base}/docs.php?q=bilde").read()
        # Warm up: every thread has searched and read a long request (allocator arenas grow once).
        wrk_script(base, "unique_searches.lua", requests=2_000, seconds=30)
        wrk_script(base, "long_paths.lua", requests=300, seconds=30)
        before = rss_mb(server.pid)
        wrk_script(base, "unique_searches.lua", requests=16_000, seconds=60)
        rows.append(("16,000 unique searches", before, rss_mb(server.pid)))
        before = rss_mb(server.pid)
        wrk_script(base, "long_paths.lua", requests=1_500, seconds=60)
        rows.append(("1,500 requests with 40 KB paths", before, rss_mb(server.pid)))
    return rows


def probe_latency(url: str, stop: threading.Event, times: list[float]) -> None:
    """Cached-page latency on a new connection per request, until `stop` is set."""
    while not stop.is_set():
        started = time.perf_counter()
        with suppress(OSError):
            urllib.request.urlopen(url, timeout=10).read()
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)


def flood(docs: Path, **env) -> list[tuple[str, float, float, str]]:
    """Cached-page p50/p99 alone, then under a flood of unique searches on 16 connections."""
    rows = []
    with help_server(docs, log=False, **env) as (base, _):
        page = f"{base}/docs.php?doc=what-is-ip-adapter"
        urllib.request.urlopen(f"{base}/docs.php?q=bilde").read()
        for label, flooding in (("cached page, quiet server", False), ("cached page, unique-search flood", True)):
            times: list[float] = []
            stop = threading.Event()
            prober = threading.Thread(target=probe_latency, args=(page, stop, times))
            prober.start()
            statuses = ""
            if flooding:
                output = wrk_script(base, "unique_searches.lua", seconds=10)
                statuses = output.strip().splitlines()[-1]
            else:
                time.sleep(5)
            stop.set()
            prober.join()
            times.sort()
            rows.append((label, statistics.median(times), times[int(len(times) * 0.99)], statuses))
    return rows


def network_flood(docs: Path, seconds: int = 60) -> dict:
    """Searches, each from a network never seen before (as a trusted proxy says it), for
    `seconds` (long enough to fill each worker's rate-limit counters, 2 a search): how many
    were answered and the workers' memory, then what the counters left cost in the next
    15 s, while one reader searches every 20 ms: the workers' CPU and a cached page's
    latency."""
    env = {"RATELIMIT_ENABLED": "true", "TRUSTED_PROXY_HOPS": "1", "PUBLIC_BASE_URL": "http://127.0.0.1"}
    with help_server(docs, log=False, **env) as (base, server):
        urllib.request.urlopen(f"{base}/docs.php?q=bilde").read()
        before = rss_mb(server.pid)
        output = wrk_script(f"{base}/docs.php?q=bilde", "new_readers.lua", seconds=seconds, RUN="5")
        per_second = float(output.split("Requests/sec:")[1].split()[0])
        after = rss_mb(server.pid)
        stop = threading.Event()

        def reader():
            search = urllib.request.Request(f"{base}/docs.php?q=bilde", headers={"X-Forwarded-For": "198.51.100.7"})
            while not stop.wait(0.02):
                with suppress(OSError):
                    urllib.request.urlopen(search, timeout=10).read()

        searching = threading.Thread(target=reader)
        searching.start()
        cpu, times = worker_cpu_seconds(server.pid), []
        probe = threading.Thread(target=probe_latency, args=(f"{base}/docs.php?doc=what-is-ip-adapter", stop, times))
        probe.start()
        time.sleep(15)
        cpu = worker_cpu_seconds(server.pid) - cpu
        stop.set()
        probe.join()
        searching.join()
    times.sort()
    return {
        "per_second": per_second,
        "networks": int(per_second * seconds),
        "rss": (before, after),
        "cpu": cpu,
        "p50": statistics.median(times),
        "p99": times[int(len(times) * 0.99)],
    }


def measure(docs: Path) -> dict:
    """Every attack measurement over the corpus in `docs` (10,000 pages)."""
    return {
        "costs": in_process_costs(docs),
        "growth": memory_growth(docs),
        "floods": flood(docs, RATELIMIT_ENABLED="false") + flood(docs)[1:],
        "networks": network_flood(docs),
    }
