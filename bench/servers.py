"""The programs a benchmark drives: the help centre's production server, a bare WSGI app and
nginx on loopback, and wrk; with helpers to wait for them and read their memory."""

from __future__ import annotations

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
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from tests.servers import worker_pids  # the launcher's workers, as the tests find them

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CONNECTIONS = 16
SAMPLE_PAGE = "what-is-ip-adapter"
LUA = PROJECT / "bench"


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


def wrk(url: str, seconds: int, headers: dict | None = None, script: Path | None = None,
        connections: int = CONNECTIONS, warm_up: bool = True, env: dict | None = None) -> dict:
    """requests/s, p50 and p99 latency (ms), requests answered, answers other than 2xx/3xx and
    socket errors of one wrk run, after a 1 s warm-up unless `warm_up` is False."""
    command = ["wrk", "-t2", f"-c{connections}", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    if warm_up:
        subprocess.run(command + ["-d1s", url], capture_output=True, check=True)
    output = subprocess.run(command + [f"-d{seconds}s", url], capture_output=True, text=True, check=True,
                            env={**os.environ, **(env or {})}).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": to_ms(latency["50"]),
        "p99": to_ms(latency["99"]),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "refused": int(refused.group(1)) if refused else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def wrk_script(url: str, script: str, requests: int | None = None, seconds: int = 5,
               connections: int = 16) -> str:
    """Run wrk with a Lua script from bench/; `requests` caps the count (the script stops)."""
    env = {"WRK_REQUESTS": str(requests)} if requests else {}
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA / script), url]
    return subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, **env}).stdout


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def worker_rss_mb(launcher_pid: int) -> list[float]:
    """Resident memory of each worker of the server started as `launcher_pid`."""
    sizes = []
    for pid in worker_pids(launcher_pid):
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sizes


def worker_cpu_seconds(launcher_pid: int) -> float:
    """CPU time (user and system) the workers of the server started as `launcher_pid` have used."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in worker_pids(launcher_pid):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15 of stat
    return total / ticks


def rss_mb(launcher_pid: int) -> float:
    """Resident memory of the server's worker processes together, in MB."""
    return sum(worker_rss_mb(launcher_pid))


def wait_for_search(base: str) -> None:
    """Return once both workers have built their search index (in the background after
    start): searches on many new connections reach both, and each waits for its index.
    Searches past a worker's work slots are turned away (503): those are asked again."""
    def search(_):
        deadline = time.monotonic() + 120  # at 10,000 pages an index takes about 5 s, more on a busy machine
        while time.monotonic() < deadline:
            try:
                return fetch(f"{base}/docs.php?q=bilde")
            except urllib.error.HTTPError as error:
                if error.code not in (429, 503):
                    raise
                time.sleep(0.05 if error.code == 503 else 1)  # past the rate limit, wait for it to allow more
        raise RuntimeError("searches kept being turned away")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(search, range(32)))


def fetch(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request) as response:
        return response.read(), response.headers


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
