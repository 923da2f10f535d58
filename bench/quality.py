"""Search quality: a Norwegian help corpus of our own (bench/quality/docs) and queries in
kinds (bench/quality/queries.yml), each with the pages that answer it.

Usage: python -m bench.quality [--app PATH]

Asks /api/search in process, as the app asks it, and reports top-1, top-3 and MRR@10 per
kind, how often a query with no answer gets no results (or a correction notice, "Viser treff for …"), and the
latency of each first (uncached) request. `--app` measures another checkout's app (an
older commit, for the figures before a change) on the same corpus and queries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import yaml

QUALITY = Path(__file__).resolve().parent / "quality"
NO_ANSWER = "no_answer"


def load_queries(folder: Path = QUALITY) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Queries by kind: (query, the slugs that answer it); exact titles come from the corpus."""
    from app.content.page import parse_document

    kinds = {"exact_title": []}
    for path in sorted((folder / "docs").glob("*.md")):
        page = parse_document(path.stem, path.read_text(encoding="utf-8"))
        kinds["exact_title"].append((page.title, frozenset({path.stem})))
    written = yaml.safe_load((folder / "queries.yml").read_text(encoding="utf-8"))
    for kind, items in written.items():
        if kind == NO_ANSWER:
            kinds[kind] = [(query, frozenset()) for query in items]
        else:
            kinds[kind] = [(query, frozenset(slugs)) for query, slugs in items.items()]
    return kinds


def measure(folder: Path = QUALITY) -> dict:
    """Quality per kind and latency, asked through /api/search of an app on the corpus."""
    from app import create_app
    from app.observability.logs import configure_logging

    configure_logging("warning", "json")

    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("ignore")  # NullCache caches nothing: intended
        app = create_app(
            {
                "DOCS_DIR": str(folder / "docs"),
                "CACHE_TYPE": "NullCache",
                "RATELIMIT_ENABLED": False,
                "DATABASE_URL": f"sqlite:///{tmp}/feedback.db",
            }
        )
    client = app.test_client()
    client.get("/api/search", query_string={"q": "warm up"})
    _wait_for_index(app)
    kinds, times = {}, []
    for kind, queries in load_queries(folder).items():
        rows = []
        for query, answers in queries:
            started = time.perf_counter()
            answer = client.get("/api/search", query_string={"q": query, "lang": "nb"}).get_json()
            times.append((time.perf_counter() - started) * 1000)
            slugs = [result["slug"] for result in answer["results"]]
            rank = next((i + 1 for i, slug in enumerate(slugs[:10]) if slug in answers), None)
            noticed = bool(answer.get("corrected_query"))
            rows.append(
                {
                    "query": query,
                    "answers": sorted(answers),
                    "found": slugs[:3],
                    "rank": rank,
                    "passed": (not slugs or noticed) if kind == NO_ANSWER else rank == 1,
                    "top3": (not slugs or noticed) if kind == NO_ANSWER else rank is not None and rank <= 3,
                }
            )
        kinds[kind] = {
            "queries": len(rows),
            "top1": sum(row["passed"] for row in rows) / len(rows),
            "top3": sum(row["top3"] for row in rows) / len(rows),
            "mrr": statistics.fmean(1 / row["rank"] if row["rank"] else 0.0 for row in rows),
            "failures": [row for row in rows if not row["top3"] or not row["passed"]],
        }
    times.sort()
    answerable = [kind for kind in kinds if kind != NO_ANSWER]
    total = sum(kinds[kind]["queries"] for kind in answerable)
    return {
        "kinds": kinds,
        "pages": len(list((folder / "docs").glob("*.md"))),
        "top1_answerable": sum(kinds[k]["top1"] * kinds[k]["queries"] for k in answerable) / total,
        "p50_ms": times[len(times) // 2],
        "p95_ms": times[int(len(times) * 0.95)],
    }


def _wait_for_index(app, timeout: float = 30.0) -> None:
    """The index builds in the background from the first request: wait for it."""
    deadline = time.monotonic() + timeout
    search = app.extensions["search"]
    for index in getattr(search, "indexes", search).values():  # older apps kept a dict of indexes
        while getattr(index, "generation", getattr(index, "_generation", None)) != index.store.generation:
            if time.monotonic() > deadline:
                raise TimeoutError("the search index was not built in time")
            time.sleep(0.01)


def table(results: dict) -> str:
    """The per-kind table, in Markdown."""
    lines = ["| kind | queries | top-1 | top-3 | MRR@10 |", "| --- | ---: | ---: | ---: | ---: |"]
    for kind, row in results["kinds"].items():
        lines.append(
            f"| {kind.replace('_', ' ')} | {row['queries']} | {row['top1']:.0%} | {row['top3']:.0%} "
            f"| {row['mrr']:.2f} |"
        )
    lines.append(
        f"\nTop-1 over every answerable kind: {results['top1_answerable']:.1%}. "
        f"Latency of a first request to /api/search in process: p50 {results['p50_ms']:.2f} ms, "
        f"p95 {results['p95_ms']:.2f} ms ({results['pages']} pages)."
    )
    return "\n".join(lines)


def failures(results: dict) -> str:
    """The queries that missed, by kind: what was asked, what answers it, what came first."""
    lines = []
    for kind, row in results["kinds"].items():
        for failure in row["failures"]:
            lines.append(
                f"- {kind}: `{failure['query']}` wants {', '.join(failure['answers']) or 'nothing'}; "
                f"got {', '.join(failure['found']) or 'nothing'}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, help="another checkout whose app to measure")
    parser.add_argument("--failures", action="store_true", help="list the queries that missed")
    args = parser.parse_args()
    if args.app:
        sys.path.insert(0, str(args.app.resolve()))
    results = measure()
    print(table(results))
    if args.failures:
        print(failures(results))


if __name__ == "__main__":
    main()
