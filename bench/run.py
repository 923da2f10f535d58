"""Benchmark: the help centre under granian against nginx serving the same bytes, with wrk.

Usage: python -m bench.run [--seconds N] [--out bench/RESULTS.md]

Generates synthetic corpora (10 / 1,000 / 10,000 pages), starts the production server
the README recommends on each, and nginx on loopback as the reference, drives both with
wrk at 16 connections, and prints one Markdown report (also written to --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.corpus import write_corpus  # noqa: E402

VENV_BIN = Path(sys.executable).parent
CONNECTIONS = 16
SIZES = (10, 1_000, 10_000)
SAMPLE_PAGE = "what-is-ip-adapter"
ROUNDS = 3  # interleaved rounds of nginx, bare WSGI and the cached page


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60.0) -> float:
    """Seconds until `url` answers 200."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def help_server(docs: Path, **env):
    """The server exactly as `make run` starts it (access log, metrics and all) on `docs`.

    Yields (base URL, startup seconds, pid). The access log goes to /dev/null.
    """
    port = free_port()
    environment = {**os.environ, "DOCS_DIR": str(docs), "GRANIAN_HOST": "127.0.0.1",
                   "GRANIAN_PORT": str(port), "GRANIAN_WORKERS": "2", **env}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "app.serve"],
                               cwd=PROJECT, env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/docs.php?doc={SAMPLE_PAGE}")
        yield base, time.perf_counter() - started, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def bare_wsgi_server(body: bytes, headers, workdir: Path):
    """granian (2 workers) serving bench/bare_wsgi.py: fixed bytes and headers, no app."""
    body_file = workdir / "bare-body.html"
    body_file.write_bytes(body)
    skip = {"server", "date", "connection", "keep-alive", "transfer-encoding"}  # the server's own
    pairs = [(k, v) for k, v in headers.items() if k.lower() not in skip]
    port = free_port()
    environment = {**os.environ, "BARE_BODY": str(body_file), "BARE_HEADERS": json.dumps(pairs),
                   "GRANIAN_HOST": "127.0.0.1", "GRANIAN_PORT": str(port), "GRANIAN_WORKERS": "2",
                   "GRANIAN_LOG_ENABLED": "false"}
    process = subprocess.Popen([sys.executable, "-m", "granian", "--interface", "wsgi", "bench.bare_wsgi:app"],
                               cwd=PROJECT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


@contextmanager
def nginx_server(body: bytes, workdir: Path):
    """nginx on loopback serving `body` as a static file, 2 workers like the app."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    root = workdir / "nginx"
    (root / "www").mkdir(parents=True)
    (root / "www" / "page.html").write_bytes(body)
    port = free_port()
    conf = root / "nginx.conf"
    temp = root / "tmp"
    temp.mkdir()
    conf.write_text(f"""
worker_processes 2;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};
  uwsgi_temp_path {temp}; scgi_temp_path {temp};
  server {{
    listen 127.0.0.1:{port};
    root {root}/www;
    location / {{ default_type text/html; etag on; }}
  }}
}}
""")
    process = subprocess.Popen([nginx, "-e", str(root / "error.log"), "-c", str(conf)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/page.html")
        yield base
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=15)


def wrk(url: str, seconds: int, headers: dict | None = None, script: Path | None = None) -> dict:
    """requests/s, p50 and p99 latency (ms) and socket errors of one wrk run, after a 1 s warm-up."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    subprocess.run(command + ["-d1s", url], capture_output=True, check=True)
    output = subprocess.run(command + [f"-d{seconds}s", url], capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": to_ms(latency["50"]),
        "p99": to_ms(latency["99"]),
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def worker_rss_mb(launcher_pid: int) -> list[float]:
    """Resident memory of each worker of the server started as `launcher_pid` (the launcher
    runs granian, which runs the workers)."""
    def children(pid: int) -> list[int]:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    sizes = []
    for pid in (worker for granian in children(launcher_pid) for worker in children(granian)):
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sizes


def wait_for_search(base: str) -> None:
    """Return once both workers have built their search index (in the background after
    start): searches on many new connections reach both, and each waits for its index.
    Searches past a worker's work slots are turned away (503): those are asked again."""
    def search(_):
        for _ in range(200):
            try:
                return fetch(f"{base}/docs.php?q=bilde")
            except urllib.error.HTTPError as error:
                if error.code not in (429, 503):
                    raise
                time.sleep(0.05)
        raise RuntimeError("searches kept being turned away")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(search, range(32)))


def fetch(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request) as response:
        return response.read(), response.headers


def in_process_render() -> list[tuple[str, float]]:
    """Median in-process times (ms) of the steps of a first render, for two pages."""
    from app import create_app
    from app.documents import parse_document
    from app.rendering import markdown_to_html, render_markdown, sanitize
    from app.views import Presentation, rendered_page

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flask-caching warns that NullCache caches nothing: intended
        app = create_app({"CACHE_TYPE": "NullCache", "DOCS_DIR": str(PROJECT / "docs")})
    rows = []
    reader = Presentation(lang="nb", explicit_lang=False, embed=False, theme=None)
    seed = (PROJECT / "tests" / "fixtures" / "seed-what-is-ip-adapter.md").read_text(encoding="utf-8")
    for label, slug, text in (("our IP-Adapter page", SAMPLE_PAGE, None),
                              ("the original (seed) IP-Adapter page", None, seed)):
        with app.test_request_context():
            store = app.extensions["documents"]
            page = store.get(slug) if slug else parse_document("seed", text)
            html, _ = markdown_to_html(page.body)
            rows.append((f"{label} ({len(page.body.encode()):,} bytes of Markdown): Markdown", median_ms(lambda: markdown_to_html(page.body))))
            rows.append((f"{label}: bleach", median_ms(lambda: sanitize(html))))
            # render_markdown remembers recent bodies; forgetting them makes every call a first render.
            rows.append((f"{label}: whole first render (Markdown, bleach, layout)",
                         median_ms(lambda: (render_markdown.cache_clear(), rendered_page(page, "nb", reader)))))
    return rows


def search_latency(docs: Path) -> list[tuple[str, float]]:
    """Index build time and query latency (p50, p95) in process, over a corpus."""
    from app.documents import DocumentStore
    from app.search import SearchIndex
    from bench.corpus import WORDS

    store = DocumentStore(docs)
    store.load()
    started = time.perf_counter()
    index = SearchIndex(store)
    index.update()
    build = time.perf_counter() - started
    queries = [*WORDS, "ansikt bilde", "hva er instantid", "ip adapter", "bildene", "modell stil lys",
               "side 42", "finnes ikke", '"NEAR(', "ansiktstrekk", "x" * 300]
    times = []
    for _ in range(3):
        for query in queries:
            start = time.perf_counter()
            index.search(query)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return [("build the index, ms", build * 1000),
            ("query p50, ms", times[len(times) // 2]),
            ("query p95, ms", times[int(len(times) * 0.95)]),
            ("query max, ms", times[-1])]


def median_ms(function, runs: int = 300) -> float:
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) / 1024 / 1024
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    granian = subprocess.run([str(VENV_BIN / "granian"), "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; {platform.platform()}; "
            f"Python {platform.python_version()}; {granian}; {nginx}; wrk {CONNECTIONS} connections, 2 threads, "
            f"on the same machine over loopback")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    seconds = args.seconds
    lines = ["# Benchmark results\n", f"Machine: {machine()}.\n",
             f"Produced by `make bench` on {time.strftime('%Y-%m-%d')}; each wrk run lasts {seconds} s.\n"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tmp.chmod(0o755)  # nginx workers run as an unprivileged user when started by root
        corpora = {size: write_corpus(tmp / f"docs-{size}", size, PROJECT / "docs") for size in SIZES}

        throughput, scale = [], []
        with help_server(corpora[1_000]) as (base, _, _):
            page_url = f"{base}/docs.php?doc={SAMPLE_PAGE}"
            body, headers = fetch(page_url)
            # The headline ratio: ROUNDS interleaved rounds of the three, each round's ratio
            # taken within the round, and the round with the median ratio reported.
            rounds = []
            for i in range(ROUNDS):
                with nginx_server(body, tmp / f"nginx-{i}") as nginx_base:
                    reference = wrk(f"{nginx_base}/page.html", seconds)
                with bare_wsgi_server(body, headers, tmp) as bare_base:
                    bare = wrk(bare_base + "/", seconds)
                rounds.append((reference, bare, wrk(page_url, seconds)))
            ratios = [cached["rps"] / reference["rps"] for reference, _, cached in rounds]
            reference, bare, cached = rounds[ratios.index(statistics.median(ratios))]
            throughput.append(("nginx: the same page bytes as a static file", reference))
            throughput.append(("bare WSGI callable under granian: same bytes and headers, no app", bare))
            throughput.append(("cached help page", cached))
            throughput.append(("cached help page, gzip", wrk(page_url, seconds, {"Accept-Encoding": "gzip"})))
            throughput.append(("304 revalidation (If-None-Match)",
                               wrk(page_url, seconds, {"If-None-Match": headers["ETag"]})))
            throughput.append(("help index (1,000 pages)", wrk(f"{base}/docs.php", seconds)))
            throughput.append(("search «ansikt bilde» (1,000 pages)",
                               wrk(f"{base}/docs.php?q=ansikt+bilde", seconds)))
            throughput.append(("unknown slug, the same one again (404)", wrk(f"{base}/docs.php?doc=finnes-ikke", seconds)))
            throughput.append(("unknown slugs, each one new (404)",
                               wrk(f"{base}/docs.php", seconds, script=PROJECT / "bench" / "dead_links.lua")))
            throughput.append(("malformed slug (400)", wrk(f"{base}/docs.php?doc=..%2F..%2Fetc", seconds)))
        # First renders: every request names another of 10,000 pages and nothing is cached.
        with help_server(corpora[10_000], CACHE_TYPE="NullCache", RESPONSE_CACHE_ENTRIES="1") as (base, _, _):
            wait_for_search(base)
            throughput.append(("first render (10,000 pages, no cache)",
                               wrk(f"{base}/docs.php", seconds, script=PROJECT / "bench" / "every_page.lua")))

        search_rows = search_latency(corpora[10_000])
        for size in SIZES:
            with help_server(corpora[size]) as (base, startup, pid):
                wait_for_search(base)
                result = wrk(f"{base}/docs.php?doc={SAMPLE_PAGE}", seconds)
                scale.append((size, startup, worker_rss_mb(pid), result))

    nginx_rps = throughput[0][1]["rps"]
    lines += ["## Throughput (1,000-page corpus unless named)\n",
              f"The first three rows are the median of {ROUNDS} interleaved rounds (nginx, bare WSGI, "
              f"cached page); the cached page's ratio to nginx in each round: "
              f"{', '.join(f'{r:.2f}' for r in ratios)}. The other rows are one run each; every ratio "
              "is to the nginx row.\n",
              "| scenario | requests/s | p50 ms | p99 ms | ratio to nginx | socket errors |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in throughput:
        lines.append(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                     f"{r['rps'] / nginx_rps:.2f} | {r['socket_errors']} |")
    lines += ["", "## Corpus size: startup, memory, cached page\n",
              "| pages | startup s (to first page served) | RSS per worker MB | cached page requests/s | p99 ms |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for size, startup, rss, r in scale:
        lines.append(f"| {size:,} | {startup:.2f} | {' / '.join(f'{m:.0f}' for m in rss)} | {r['rps']:,.0f} | {r['p99']:.2f} |")
    lines += ["", "## Search over 10,000 pages, in process\n", "| measure | value |", "| --- | ---: |"]
    lines += [f"| {name} | {value:,.2f} |" for name, value in search_rows]
    lines += ["", "## First render in process (median of 300)\n", "| step | ms |", "| --- | ---: |"]
    lines += [f"| {name} | {ms:.2f} |" for name, ms in in_process_render()]
    from bench.attack import report as attack_report
    report = "\n".join(lines) + "\n\n" + attack_report()
    print(report)
    args.out.write_text(report)


if __name__ == "__main__":
    main()
