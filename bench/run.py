"""Benchmark: the help centre under granian against nginx serving the same bytes, with wrk.

Usage: python -m bench.run [--seconds N] [--out bench/RESULTS.md]   (as `make bench` runs it)

Generates synthetic corpora (10 / 1,000 / 10,000 pages), measures the production server on
each (bench/throughput.py), search and first renders in process (bench/inprocess.py),
search quality per kind on the in-house and the outside set beside a plain BM25
(bench/quality.py, bench/outside.py), what attacks cost (bench/attack.py) and feedback
posts per second (bench/feedback.py), then writes one Markdown report (bench/report.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import attack, feedback, inprocess, outside, quality, report, suggest, throughput
from bench.corpus import write_corpus, write_prose_corpus
from bench.servers import PROJECT, machine

SIZES = (10, 1_000, 10_000)


def measure(seconds: int) -> dict:
    """Every measurement, as data."""
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "seconds": seconds}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tmp.chmod(0o755)  # nginx workers run as an unprivileged user when started by root
        corpora = {size: write_corpus(tmp / f"docs-{size}", size, PROJECT / "docs") for size in SIZES}
        results["throughput"] = throughput.measure(corpora, seconds, tmp)
        results["search"] = inprocess.search_latency(corpora[10_000])
        results["quality"] = quality.measure()
        results["outside"] = outside.measure_sets()
        prose = write_prose_corpus(tmp / "prose-10000", 10_000, PROJECT / "bench" / "quality" / "docs")
        results["prose"] = inprocess.prose_search_latency(prose)
        results["suggest"] = suggest.measure(prose)
        results["render"] = inprocess.first_render()
        results["throughput"]["counting"]["in_process"] = inprocess.counting_cost(tmp)
        results["attack"] = attack.measure(corpora[10_000])
        from bench.servers import PostgresServer  # Debian's server on a loopback port

        postgres = PostgresServer()
        postgres.start()
        try:
            results["feedback"] = feedback.measure(corpora[10], tmp, postgres.url())
        finally:
            postgres.remove()
    return results


def main() -> None:
    # Our search orders a few ties by Python's string hashing: the quality figures are
    # measured with a fixed seed (0 unless PYTHONHASHSEED is set), as bench/outside.py does.
    if "PYTHONHASHSEED" not in os.environ:
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "bench.run", *sys.argv[1:]])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    text = report.markdown(measure(args.seconds))
    print(text)
    by_hand = args.out.read_text().partition(report.BY_HAND)[2] if args.out.exists() else ""
    args.out.write_text(text + (report.BY_HAND + by_hand if by_hand else ""))


if __name__ == "__main__":
    main()
