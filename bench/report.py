"""bench/RESULTS.md from the measurements of bench/run.py: formatting only, nothing measured here."""

from __future__ import annotations

import statistics

from bench.throughput import COUNTING_ROUNDS, ROUNDS

# The line after which bench/RESULTS.md holds what was measured by hand, which a run keeps.
BY_HAND = (
    "<!-- make bench writes everything above this line again; what is below, measured by hand "
    "for the issues it names, it keeps. -->"
)


def markdown(results: dict) -> str:
    """The whole report."""
    return (
        "\n".join(
            [
                *header(results),
                *throughput(results["throughput"]),
                *search(results["search"]),
                *prose(results["prose"]),
                *suggestions(results.get("suggest", [])),
                *quality(results["quality"]),
                *beside_bm25(results["outside"]),
                *render(results["render"]),
                *attack(results["attack"]),
                *feedback(results["feedback"]),
            ]
        )
        + "\n"
    )


def header(results: dict) -> list[str]:
    return [
        "# Benchmark results\n",
        f"Machine: {results['machine']}.\n",
        f"Produced by `make bench` on {results['date']}; each wrk run lasts {results['seconds']} s.\n",
    ]


def throughput(results: dict) -> list[str]:
    nginx_rps = results["rows"][0][1]["rps"]
    lines = [
        "## Throughput (1,000-page corpus unless named)\n",
        f"The first three rows are the median of {ROUNDS} interleaved rounds (nginx, bare WSGI, "
        f"cached page); the cached page's ratio to nginx in each round: "
        f"{', '.join(f'{r:.2f}' for r in results['ratios'])}. The other rows are one run each; every ratio "
        "is to the nginx row.\n",
        "| scenario | requests/s | p50 ms | p99 ms | ratio to nginx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results["rows"]:
        lines.append(
            f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
            f"{r['rps'] / nginx_rps:.2f} | {r['socket_errors']} |"
        )
    counting = results["counting"]
    lines += [
        "",
        "## Counting page views for insights: cached page, on and off\n",
        f"Two servers side by side on the 1,000-page corpus, {COUNTING_ROUNDS} interleaved rounds, one with "
        "INSIGHTS_USERS set (every view counted in memory and written every 5 s), one without, both behind "
        "one trusted proxy hop; every request is a new reader (bench/new_readers.lua), so every view counts. Views "
        f"stored: {counting['stored']:,} for the {counting['answered']:,} answers wrk counted (requests in "
        "flight when a run stops are served and stored but not counted by wrk: up to 16 a run).\n",
        "| round | off requests/s | on requests/s | on/off | off p99 ms | on p99 ms | "
        "off worker CPU µs/request | on worker CPU µs/request |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, (off, on) in enumerate(counting["rounds"], 1):
        lines.append(
            f"| {i} | {off['rps']:,.0f} | {on['rps']:,.0f} | {on['rps'] / off['rps']:.3f} | "
            f"{off['p99']:.2f} | {on['p99']:.2f} | {off['cpu_us']:.1f} | {on['cpu_us']:.1f} |"
        )
    ratios = sorted(on["rps"] / off["rps"] for off, on in counting["rounds"])
    cpu = sorted(on["cpu_us"] / off["cpu_us"] for off, on in counting["rounds"])
    lines += [
        "",
        f"Median on/off: requests/s {statistics.median(ratios):.3f}, worker CPU per request "
        f"{statistics.median(cpu):.3f}.\n",
    ]
    own = counting["in_process"]
    lines += [
        "The Python part of the same request, in process (the whole WSGI stack and the response cache, "
        "median of 15 interleaved rounds of 20,000): "
        f"{own['off']:.2f} µs with counting off, {own['on']:.2f} µs on ({own['on'] - own['off']:+.2f} µs)."
    ]
    lines += [
        "",
        "## Corpus size: startup, memory, cached page\n",
        "| pages | startup s (to first page served, median of 3) | RSS per worker MB "
        "| cached page requests/s | p99 ms |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, startup, rss, r in results["scale"]:
        lines.append(
            f"| {size:,} | {startup:.2f} | {' / '.join(f'{m:.0f}' for m in rss)} | {r['rps']:,.0f} | {r['p99']:.2f} |"
        )
    return lines


def search(rows: list[tuple[str, float]]) -> list[str]:
    return [
        "",
        "## Search over 10,000 pages, in process\n",
        "| measure | value |",
        "| --- | ---: |",
        *(f"| {name} | {value:,.2f} |" for name, value in rows),
    ]


def prose(rows: list[tuple[str, float]]) -> list[str]:
    return [
        "",
        "## Search over 10,000 pages of help prose, in process, with the quality queries\n",
        "| measure | value |",
        "| --- | ---: |",
        *(f"| {name} | {value:,.2f} |" for name, value in rows),
    ]


def quality(results: dict) -> list[str]:
    from bench.quality import failures, table

    return [
        "",
        f"## Search quality: {results['pages']} Norwegian help pages of our own (bench/quality)\n",
        table(results),
        "",
        "Queries that missed:\n",
        failures(results),
    ]


def beside_bm25(measured: list[dict]) -> list[str]:
    from bench.outside import tables

    return [
        "",
        "## Search quality per kind, beside a plain BM25, on two sets nobody here wrote and on ours\n",
        "bench/outside.py: this project's search through /api/search and bm25s (Norwegian Snowball stems "
        "and stop words, title three times and body, OR) on the same queries. Top-1: an answering page "
        "first; top-3: within the first three; no answer: the share of those queries given no results at "
        "all. The outside sets' misses are left out here on purpose: they are for measuring, not tuning "
        "(`python -m bench.outside --misses` lists them).\n",
        *tables(measured),
    ]


def render(rows: list[tuple[str, float]]) -> list[str]:
    return [
        "",
        "## First render in process (median of 300)\n",
        "| step | ms |",
        "| --- | ---: |",
        *(f"| {name} | {ms:.2f} |" for name, ms in rows),
    ]


def attack(results: dict) -> list[str]:
    lines = [
        "",
        "## Under attack: 10,000 pages\n",
        "Per request, in process (median of 60, ms):\n",
        "| request | ms |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {ms:.2f} |" for name, ms in results["costs"]]
    lines += [
        "",
        "Memory of the production server's workers (together), before and after:\n",
        "| flood | RSS before MB | RSS after MB | growth MB |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {name} | {a:.0f} | {b:.0f} | {b - a:+.0f} |" for name, a, b in results["growth"]]
    lines += [
        "",
        "Cached-page latency, a new connection per request, while wrk floods unique searches "
        "on 16 connections (10 s):\n",
        "| scenario | p50 ms | p99 ms | flood answers |",
        "| --- | ---: | ---: | --- |",
    ]
    labels = ["", " (rate limits off: work slots only)", " (rate limits on, the default)"]
    lines += [
        f"| {name}{label} | {p50:.2f} | {p99:.2f} | {statuses} |"
        for (name, p50, p99, statuses), label in zip(results["floods"], labels, strict=True)
    ]
    networks = results["networks"]
    before, after = networks["rss"]
    lines += [
        "",
        "Searches for 60 s, each from a network never seen before (through a trusted proxy), rate "
        "limits on: each leaves 2 counters in a worker's memory, at most 50,000 a worker. The "
        "workers' memory (together) before and after; then 15 s of one reader searching every "
        "20 ms beside a cached-page probe:\n",
        "| searches/s in the flood | networks | RSS before MB | RSS after MB "
        "| workers' CPU in the next 15 s | cached page p50 ms | p99 ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {networks['per_second']:.0f} | {networks['networks']:,} | {before:.0f} | {after:.0f} | "
        f"{networks['cpu']:.1f} s | {networks['p50']:.2f} | {networks['p99']:.2f} |",
    ]
    return lines


def feedback(rows: list[dict]) -> list[str]:
    lines = [
        "",
        "## Reader feedback: posts to the production server\n",
        "Every request is a new reader's vote (`bench/feedback_posts.lua`), 10 s of wrk at 16 connections "
        "in all, rate limits off. *Acknowledged* are the 303 answers; *stored* the rows counted afterwards "
        "(requests still in flight when wrk stops are stored but not counted by it, so stored may exceed "
        "acknowledged by up to the number of connections; never the other way).\n",
        "| database | server processes | posts/s | p99 ms | acknowledged | stored | distinct readers | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['database']} | {r['servers']} | {r['rps']:,.0f} | {r['p99']:.1f} | {r['acknowledged']:,} | "
        f"{r['stored']:,} | {r['distinct']:,} | {r['errors']} |"
        for r in rows
    ]
    return lines


def suggestions(rows: list[tuple[str, float]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "## Related pages and suggestions while typing over 10,000 pages of help prose, in process\n",
        "Related pages: their terms made, then 200 pages' lists. Suggestions: every prefix of the",
        "quality queries typed letter by letter, each afresh (bench/suggest.py).\n",
        "| measure | value |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {value:.3f} |" for name, value in rows]
    return [*lines, ""]
