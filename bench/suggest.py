"""Suggestions while typing (/api/suggest), in process at 10,000 pages: the time to make a
language's vocabulary (the first suggestion after the pages change) and the latency of each
keystroke's answer, every prefix of the quality queries typed letter by letter."""

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
        ("make the vocabulary of 10,000 pages (the first suggestion), ms", build),
        (f"suggestion p50, ms ({len(typed)} prefixes, the median of {ROUNDS} rounds each)", _at(typical, 0.5)),
        ("suggestion p95, ms", _at(typical, 0.95)),
        ("suggestion p95, ms, every round pooled", _at(pooled, 0.95)),
        ("suggestion max, ms", pooled[-1]),
    ]


def _at(ordered: list[float], share: float) -> float:
    return ordered[int(len(ordered) * share)]
