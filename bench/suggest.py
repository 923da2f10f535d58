"""Where a reader goes next, in process at 10,000 pages. Suggestions while typing
(/api/suggest): the time to make a language's vocabulary (the first suggestion after the
pages change) and the latency of each keystroke's answer, every prefix of the quality
queries typed letter by letter. Related pages: the time to make a language's terms, and
to find the pages most like one (once per rendered page, never per request)."""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

ROUNDS = 5


def measure(docs: Path) -> list[tuple[str, float]]:
    from app.content.library import Library
    from app.search.suggest import Suggester
    from bench.quality import load_queries

    library = Library(docs)
    library.load()
    suggester = Suggester(library)
    started = time.perf_counter()
    assert suggester.ready(timeout=120)  # made in a thread of its own, as a worker makes it
    build = (time.perf_counter() - started) * 1000
    gc.collect()
    gc.freeze()
    typed = sorted(
        {
            query[:end]
            for kind in load_queries().values()
            for query, _ in kind
            for end in range(1, min(len(query), 30) + 1)
        }
    )
    times: dict[str, list[float]] = {prefix: [] for prefix in typed}
    for _ in range(ROUNDS):
        suggester._cache.clear()  # each keystroke afresh, as a prefix no one typed before
        for prefix in typed:
            start = time.perf_counter()
            suggester.suggest(prefix, "nb")
            times[prefix].append((time.perf_counter() - start) * 1000)
    typical = sorted(statistics.median(values) for values in times.values())
    pooled = sorted(t for values in times.values() for t in values)
    return [
        *related(library),
        ("make the vocabulary of 10,000 pages (the first suggestion), ms", build),
        (f"suggestion p50, ms ({len(typed)} prefixes, the median of {ROUNDS} rounds each)", _at(typical, 0.5)),
        ("suggestion p95, ms", _at(typical, 0.95)),
        ("suggestion p95, ms, every round pooled", _at(pooled, 0.95)),
        ("suggestion max, ms", pooled[-1]),
    ]


def related(library) -> list[tuple[str, float]]:
    from app.search.related import RelatedPages

    pages = RelatedPages(library)
    started = time.perf_counter()
    pages.terms.start()
    assert pages.terms.ready(timeout=300)  # made in a thread of its own, as a worker makes it
    build = (time.perf_counter() - started) * 1000
    slugs = sorted(page.slug for page in library.stores["nb"].pages())[::50]  # 200 pages
    times = []
    for slug in slugs:
        start = time.perf_counter()
        pages.like(slug, "nb")
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return [
        ("make the related pages' terms of 10,000 pages (both languages), ms", build),
        (f"related pages of one page p50, ms ({len(slugs)} pages)", _at(times, 0.5)),
        ("related pages of one page p95, ms", _at(times, 0.95)),
    ]


def _at(ordered: list[float], share: float) -> float:
    return ordered[int(len(ordered) * share)]
