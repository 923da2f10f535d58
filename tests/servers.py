"""Real processes for tests: the production server as the container runs it, and redis-server."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
BENCH = PROJECT / "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, headers: dict | None = None, timeout: float = 10):
    """(status, headers, body) of a GET, whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
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


def rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes together, in MB."""
    total = 0
    for pid in pids:
        total += int(re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1))
    return total / 1024


def dockerfile_runtime(dockerfile: Path = PROJECT / "Dockerfile") -> tuple[dict, list[str]]:
    """The ENV and CMD of the Dockerfile's final stage."""
    text = dockerfile.read_text().replace("\\\n", " ")
    final = text[text.rindex("\nFROM "):]
    env = {}
    for line in re.findall(r"^ENV (.+)$", final, re.M):
        env.update(dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line)))
    cmd = json.loads(re.findall(r"^CMD (\[.+\])$", final, re.M)[-1])
    return {k: v.strip('"') for k, v in env.items()}, cmd


@contextmanager
def help_server(docs: Path, port: int | None = None, **env):
    """The Dockerfile's CMD with its ENV, run as a process on a loopback port.

    The image's /venv/bin is this virtualenv's bin; its work directory is the project.
    Yields (base URL, process); on exit the process gets SIGTERM.
    """
    image_env, cmd = dockerfile_runtime()
    port = port or free_port()
    environment = {**os.environ, **image_env, "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
                   "DOCS_DIR": str(docs), "GRANIAN_HOST": "127.0.0.1", "GRANIAN_PORT": str(port),
                   # Feedback beside the docs, never in the project's instance folder.
                   "DATABASE_URL": f"sqlite:///{Path(docs).parent}/feedback.db", **env}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # The server's output goes to a file: an undrained pipe would fill up and block its writes.
    with tempfile.NamedTemporaryFile(prefix="help-server-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(cmd, cwd=PROJECT, env=environment,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.log_path = Path(log.name)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", process)
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
    """A redis-server on a loopback port, with no persistence, that tests may stop and restart."""

    def __init__(self, workdir: Path):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.binary).exists():
            raise RuntimeError("redis-server is not installed: .ci/run installs Debian's redis-server")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        command = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.workdir),
                   "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        import psycopg
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                                     autocommit=True, connect_timeout=2) as connection:
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


def wrk(base: str, script: str, requests: int, seconds: int = 60, threads: int = 2, **env) -> str:
    """wrk on 16 connections with a Lua script from bench/, stopping after about `requests`
    requests (when the script reads WRK_REQUESTS) or `seconds`; its summary."""
    wrk_binary = shutil.which("wrk")
    assert wrk_binary, "wrk is not installed: .ci/run installs Debian's wrk"
    return subprocess.run([wrk_binary, f"-t{threads}", "-c16", f"-d{seconds}s", "-s", str(BENCH / script), base],
                          capture_output=True, text=True, check=True, timeout=seconds + 30,
                          env={**os.environ, "WRK_REQUESTS": str(requests), **env}).stdout


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
