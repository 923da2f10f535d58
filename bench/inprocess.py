"""Measurements inside one process: the steps of a first render, and search over a corpus."""

from __future__ import annotations

import gc
import re
import statistics
import time
import warnings
from pathlib import Path

from bench.corpus import WORDS
from bench.servers import PROJECT, SAMPLE_PAGE, median_ms

ROUNDS = 5  # answers to each query, each afresh


def first_render() -> list[tuple[str, float]]:
    """Median milliseconds of the steps of a first render, for our page and the original one."""
    from app import create_app
    from app.caching.keys import rendition
    from app.content.page import parse_document
    from app.content.rendering import markdown_to_html, render_markdown, sanitize
    from app.observability.logs import configure_logging
    from app.presentation import Presentation
    from app.web.views import rendered_page

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flask-caching warns that NullCache caches nothing: intended
        app = create_app({"CACHE_TYPE": "NullCache", "DOCS_DIR": str(PROJECT / "docs")})
    configure_logging("warning", "json")
    rows = []
    reader = Presentation(lang="nb", explicit_lang=False, embed=False, theme=None)
    seed = (PROJECT / "tests" / "fixtures" / "seed-what-is-ip-adapter.md").read_text(encoding="utf-8")
    for label, slug, text in (
        ("our IP-Adapter page", SAMPLE_PAGE, None),
        ("the original (seed) IP-Adapter page", None, seed),
    ):
        with app.test_request_context():
            page = app.extensions["library"].stores["nb"].get(slug) if slug else parse_document("seed", text)
            current = rendition("page", "nb", reader.variant, page.slug)
            html, _ = markdown_to_html(page.body)
            size = f"{len(page.body.encode()):,} bytes of Markdown"
            rows.append((f"{label} ({size}): Markdown", median_ms(lambda body=page.body: markdown_to_html(body))))
            rows.append((f"{label}: bleach", median_ms(lambda html=html: sanitize(html))))

            # render_markdown remembers recent bodies; forgetting them makes every call a first render.
            def whole(page=page, current=current):
                render_markdown.cache_clear()
                rendered_page(page, "nb", reader, current)

            rows.append((f"{label}: whole first render (Markdown, bleach, layout)", median_ms(whole)))
    return rows


def prose_search_latency(docs: Path) -> list[tuple[str, float]]:
    """Query latency over a corpus of help prose, with the quality benchmark's queries:
    every kind, typos, compounds and queries with no answer included."""
    from bench.quality import load_queries

    search, _ = _search_over(docs)
    return _latencies(search, [query for kind in load_queries().values() for query, _ in kind])


def search_latency(docs: Path) -> list[tuple[str, float]]:
    """Index build time and query latency over a corpus."""
    search, build = _search_over(docs)
    # Every kind of work a query can cause: typos to correct, compounds, inflections the
    # stemmer misses, words no page has, the other language.
    queries = [
        *WORDS,
        "ansikt bilde",
        "hva er instantid",
        "ip adapter",
        "bildene",
        "modell stil lys",
        "side 42",
        "finnes ikke",
        '"NEAR(',
        "ansiktstrekk",
        "x" * 300,
        "ansikst",
        "portrettt lyss",
        "gjenkjenning",
        "bakgrunnen",
        "difusjonsmodell",
        "instantid trening",
        "fotografiene",
        "kvalitet oppløsning bakgrunn",
        "kontrastene",
        "identiteten",
        "face",
        "zxqwv bilde",
    ]
    return [("build the index, ms", build * 1000), *_latencies(search, queries)]


def _search_over(docs: Path):
    """A Search over `docs` as a worker has it (pages loaded and frozen out of the garbage
    collector's reach, as the launcher does before it forks), and seconds to build its indexes."""
    from app.content.library import Library
    from app.languages import LANGUAGES
    from app.search.engine import Search
    from app.search.index import SearchIndex
    from app.search.synonyms import SynonymFile

    library = Library(docs)
    library.load()
    started = time.perf_counter()
    indexes = {lang: SearchIndex(store, LANGUAGES[lang].stemmer) for lang, store in library.stores.items()}
    for index in indexes.values():
        index.update()
    build = time.perf_counter() - started
    search = Search(indexes, SynonymFile(docs))
    search.find("varm opp", "nb")  # the first correction builds the corrector
    gc.collect()
    gc.freeze()
    return search, build


def _control() -> float:
    """Milliseconds of a fixed piece of Python work: how fast this machine is right now."""
    started = time.perf_counter()
    total = 0
    for i in range(100_000):
        total += i % 7
    return (time.perf_counter() - started) * 1000


def _latencies(search, queries: list[str], rounds: int = ROUNDS) -> list[tuple[str, float]]:
    """p50 and p95 over the queries of each query's median of `rounds` answers (each afresh,
    the cache of results emptied), the same over every answer pooled and over the first
    answers, and the control.

    This machine's speed drifts by a third from minute to minute: the median of a query's
    rounds is its cost, the pooled figure what a reader meets on a bad minute, and the
    control, timed between the rounds, says which kind of minute it was. A query's first
    answer also finds its words new to the index's memos and its patterns to `re`'s cache
    (emptied here first), as a query no one asked before does."""
    times = {query: [] for query in queries}
    re.purge()
    controls = [_control()]
    for _ in range(rounds):
        search._cache.clear()
        for query in queries:
            start = time.perf_counter()
            search.find(query, "nb")
            times[query].append((time.perf_counter() - start) * 1000)
        controls.append(_control())
    typical = sorted(statistics.median(values) for values in times.values())
    pooled = sorted(t for values in times.values() for t in values)
    return [
        (f"query p50, ms ({len(queries)} queries, the median of {rounds} rounds each)", _at(typical, 0.5)),
        ("query p95, ms", _at(typical, 0.95)),
        ("query p95, ms, every round pooled", _at(pooled, 0.95)),
        ("query p95, ms, first answers", _at(sorted(values[0] for values in times.values()), 0.95)),
        ("query max, ms", pooled[-1]),
        ("control: fixed Python work between rounds, median ms", statistics.median(controls)),
    ]


def _at(ordered: list[float], share: float) -> float:
    return ordered[int(len(ordered) * share)]


def counting_cost(workdir: Path, rounds: int = 15, requests: int = 20_000) -> dict:
    """Microseconds of a cached page through the whole WSGI stack (headers, request id, log
    record, response cache) with insights counting its views and without, interleaved."""
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.observability.logs import configure_logging
    from app.readers.database import upgrade_database

    configure_logging("warning", "json")
    apps = {}
    for name, users in (("off", ""), ("on", f"bench:{generate_password_hash('bench', method='pbkdf2:sha256:1000')}")):
        app = create_app(
            {
                "DOCS_DIR": str(PROJECT / "docs"),
                "DATABASE_URL": f"sqlite:///{workdir}/{name}.db",
                "INSIGHTS_USERS": users,
                "INSIGHTS_FLUSH_SECONDS": "3600",
            }
        )
        upgrade_database(app)
        app.test_client().get(f"/docs.php?doc={SAMPLE_PAGE}")  # now in the response cache
        apps[name] = app.wsgi_app
    tally = app.extensions["tally"]  # the last app made: the one that counts
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/docs.php",
        "QUERY_STRING": f"doc={SAMPLE_PAGE}",
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_ACCEPT_ENCODING": "br, gzip",
    }

    def start_response(status, headers, exc_info=None):
        return None

    def per_request(wsgi) -> float:
        started = time.perf_counter()
        for _ in range(requests):
            wsgi(environ.copy(), start_response)
        return (time.perf_counter() - started) / requests * 1e6

    times = {"off": [], "on": []}
    for i in range(rounds):
        for name in ("off", "on") if i % 2 else ("on", "off"):
            times[name].append(per_request(apps[name]))
    tally.flush()  # now, while its database is there: not as the process ends
    return {name: sorted(values)[len(values) // 2] for name, values in times.items()}
