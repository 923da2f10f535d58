"""The real programs that tests and benchmarks drive, on loopback: the help centre's
production server (as the container runs it), redis-server, PostgreSQL, a bare WSGI app,
nginx and wrk; with helpers to wait for them, probe them and read their memory."""

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
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CONNECTIONS = 16
SAMPLE_PAGE = "what-is-ip-adapter"
LUA = PROJECT / "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# What these requests say they are: a reader's browser. Python's own ("Python-urllib") is a
# crawler's, and insights do not count crawlers (app/guards/crawlers.py).
READER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}


def get(url: str, headers: dict | None = None, timeout: float = 10):
    """(status, headers, body) of a GET, whatever the status, as a reader's browser."""
    request = urllib.request.Request(url, headers={**READER, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if get(url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not up after {timeout} s")


def worker_pids(launcher_pid: int) -> list[int]:
    """The worker processes of the server started as `launcher_pid`: the launcher runs
    granian in its own process, and granian forks the workers from it."""
    return [int(child) for child in Path(f"/proc/{launcher_pid}/task/{launcher_pid}/children").read_text().split()]


def dockerfile_runtime(dockerfile: Path = PROJECT / "Dockerfile") -> tuple[dict, list[str]]:
    """The ENV and CMD of the Dockerfile's final stage."""
    text = dockerfile.read_text().replace("\\\n", " ")
    final = text[text.rindex("\nFROM ") :]
    env = {}
    for line in re.findall(r"^ENV (.+)$", final, re.M):
        env.update(dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line)))
    cmd = json.loads(re.findall(r"^CMD (\[.+\])$", final, re.M)[-1])
    return {k: v.strip('"') for k, v in env.items()}, cmd


@contextmanager
def help_server(docs: Path, port: int | None = None, log: bool = True, **env):
    """The Dockerfile's CMD with its ENV, run as a process on a loopback port.

    The image's /venv/bin is this virtualenv's bin; its work directory is the project.
    Yields (base URL, process); the process's `started_in` is the seconds it took to answer,
    its `log_path` its output (to /dev/null when not `log`: a benchmark's access lines would
    cost a file's writes). On exit the process gets SIGTERM.
    """
    image_env, cmd = dockerfile_runtime()
    port = port or free_port()
    environment = {
        **os.environ,
        **image_env,
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "DOCS_DIR": str(docs),
        "GRANIAN_HOST": "127.0.0.1",
        "GRANIAN_PORT": str(port),
        # Feedback beside the docs, never in the project's instance folder.
        "DATABASE_URL": f"sqlite:///{Path(docs).parent}/feedback.db",
        **env,
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # The server's output goes to a file: an undrained pipe would fill up and block its writes.
    with tempfile.NamedTemporaryFile(prefix="help-server-", suffix=".log", delete=False) as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            cmd,
            cwd=PROJECT,
            env=environment,
            stdout=output if log else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log_path = Path(output.name)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", process, timeout=120)
        process.started_in = time.perf_counter() - started
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        process.log_path.unlink(missing_ok=True)


class RedisServer:
    """A redis-server on a loopback port, with no persistence, that tests may stop and restart;
    on a Unix socket at `socket_path` too, when one is given."""

    def __init__(self, workdir: Path, socket_path: Path | None = None):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.binary).exists():
            raise RuntimeError("redis-server is not installed: .ci/run installs Debian's redis-server")
        self.port = free_port()
        self.workdir = workdir
        self.socket_path = socket_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                *(["--unixsocket", str(self.socket_path)] if self.socket_path else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class PostgresServer:
    """A PostgreSQL server of Debian's `postgresql` package on a loopback port, in a fresh data
    folder. Its server refuses to run as root: when the tests run as root it runs as `postgres`."""

    def __init__(self):
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
        if not found:
            raise RuntimeError("PostgreSQL is not installed: .ci/run installs Debian's postgresql")
        self.bin = found[-1].parent
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="help-pg-"))  # outside pytest's root-only folders
        self.data = self.workdir / "data"
        self.process: subprocess.Popen | None = None
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.workdir, "postgres", "postgres")
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"])

    def url(self, database: str = "help") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, command: list[str]) -> None:
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        command = [
            str(self.bin / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-k",
            str(self.workdir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        import psycopg

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True, connect_timeout=2
                ) as connection:
                    if not connection.execute("SELECT 1 FROM pg_database WHERE datname = 'help'").fetchone():
                        connection.execute("CREATE DATABASE help")
                    return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # fast shutdown: connections are cut
            self.process.wait(timeout=30)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def bare_wsgi_server(body: bytes, headers, workdir: Path):
    """granian (2 workers) serving bench/bare_wsgi.py: fixed bytes and headers, no app."""
    body_file = workdir / "bare-body.html"
    body_file.write_bytes(body)
    skip = {"server", "date", "connection", "keep-alive", "transfer-encoding"}  # the server's own
    pairs = [(k, v) for k, v in headers.items() if k.lower() not in skip]
    port = free_port()
    environment = {
        **os.environ,
        "BARE_BODY": str(body_file),
        "BARE_HEADERS": json.dumps(pairs),
        "GRANIAN_HOST": "127.0.0.1",
        "GRANIAN_PORT": str(port),
        "GRANIAN_WORKERS": "2",
        "GRANIAN_LOG_ENABLED": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "bench.bare_wsgi:app"],
        cwd=PROJECT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/", process)
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
    process = subprocess.Popen(
        [nginx, "-e", str(root / "error.log"), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/page.html", process)
        yield base
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=15)


def wrk(
    url: str,
    seconds: int,
    headers: dict | None = None,
    script: Path | None = None,
    connections: int = CONNECTIONS,
    warm_up: bool = True,
    env: dict | None = None,
) -> dict:
    """requests/s, p50 and p99 latency (ms), requests answered, answers other than 2xx/3xx and
    socket errors of one wrk run, after a 1 s warm-up unless `warm_up` is False."""
    command = ["wrk", "-t2", f"-c{connections}", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    if warm_up:
        subprocess.run(command + ["-d1s", url], capture_output=True, check=True)
    output = subprocess.run(
        command + [f"-d{seconds}s", url], capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    ).stdout
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


def wrk_script(
    url: str,
    script: str,
    requests: int | None = None,
    seconds: int = 5,
    connections: int = 16,
    threads: int = 2,
    timeout: str | None = None,
    **env,
) -> str:
    """wrk's output for a run with a Lua script from bench/; `requests` caps the count (for
    the scripts that read WRK_REQUESTS), `env` is passed to the script (ADDRESSES, say)."""
    wrk_binary = shutil.which("wrk")
    if not wrk_binary:
        raise RuntimeError("wrk is not installed: .ci/run installs Debian's wrk")
    command = [wrk_binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA / script)]
    command += ["--timeout", timeout] if timeout else []
    return subprocess.run(
        command + [url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
        env={**os.environ, **({"WRK_REQUESTS": str(requests)} if requests else {}), "WRK_THREADS": str(threads), **env},
    ).stdout


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
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; {platform.platform()}; "
        f"Python {platform.python_version()}; {granian}; {nginx}; wrk {CONNECTIONS} connections, 2 threads, "
        f"on the same machine over loopback"
    )


class Probe:
    """Cached-page latency on a new connection per request, from a thread, while the test
    does something else: `with Probe(url) as probe: ...`, then `probe.p99`."""

    def __init__(self, url: str, times: list[float] | None = None):
        self.url = url
        self.times: list[float] = [] if times is None else times  # several probes may pool theirs
        self.failures: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            status = get(self.url)[0]
            self.times.append((time.perf_counter() - started) * 1000)
            if status != 200:
                self.failures.append(status)
            time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def pooled() -> list[float]:
        """A list for the times of several probes."""
        return []

    @staticmethod
    def p99_of(times: list[float]) -> float:
        ordered = sorted(times)
        return ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)]

    def percentile(self, share: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(int(len(ordered) * share), len(ordered) - 1)]

    @property
    def p99(self) -> float:
        return self.p99_of(self.times)
