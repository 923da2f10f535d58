"""The production server as the container runs it: start-up checks, health, pages, replicas, SIGTERM,
and what it says when it cannot start."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from helpers import PROJECT, write

from app.serve import _end_when_orphaned
from bench.servers import VENV_BIN, dockerfile_runtime, free_port, get, help_server, worker_pids

SIGNING_KEY = "k" * 32
PAGE = "/docs.php?doc=what-is-ip-adapter"


def test_dockerfile_is_what_ops_expect():
    text = (PROJECT / "Dockerfile").read_text()
    # Both stages on the pinned official image, unless a build names another (PYTHON_IMAGE).
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M).group(1)
    assert base.startswith("python:3.11.") and "slim" in base
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert froms == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    env, cmd = dockerfile_runtime()
    assert env["PYTHONUNBUFFERED"] == "1" and env["GRANIAN_HOST"] == "0.0.0.0"
    assert cmd == ["python", "-m", "app.serve"]
    # A fixed user and group: volumes can be made theirs before the first start.
    assert "USER 10001:10001" in text and "--gid 10001" in text and "HEALTHCHECK" in text and "/healthz" in text
    # Dependencies are installed before the source is copied, so source edits reuse that layer.
    assert text.index("pip install") < text.index("COPY app")
    ignored = (PROJECT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".cache", "tests", "instance", "test-artifacts"} <= set(ignored)


def test_the_healthcheck_probes_the_port_granian_listens_on(tmp_path):
    """The HEALTHCHECK's command, run as the image runs it, against a port that is not 8000."""
    import http.server

    command = json.loads(
        re.search(r"^\s*CMD (\[.+\])$", (PROJECT / "Dockerfile").read_text().split("HEALTHCHECK", 1)[1], re.M).group(1)
    )

    class Healthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "GRANIAN_PORT": str(server.server_port)}
        assert subprocess.run(command, cwd=tmp_path, env=env, timeout=10).returncode == 0
        env["GRANIAN_PORT"] = str(free_port())
        assert subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, timeout=10).returncode != 0
    finally:
        server.shutdown()
        server.server_close()


def test_the_launchers_drain_fits_in_dockers_stop_timeout():
    # docker stop and compose wait 10 s before SIGKILL: the launcher's grace for in-flight
    # requests, and the second or so it needs after them, must fit in it.
    from app.serve import SERVER_DEFAULTS

    assert int(SERVER_DEFAULTS["GRANIAN_WORKERS_KILL_TIMEOUT"]) + 2 <= 10


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [str(VENV_BIN / "hadolint"), "--no-color", str(PROJECT / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DOCS_DIR": "/no/such/folder"}, "DOCS_DIR='/no/such/folder' is not a readable folder"),
        ({"CACHE_TYPE": "Memcached"}, "CACHE_TYPE='Memcached'"),
        ({"PUBLIC_BASE_URL": "hjelp.example.no"}, "PUBLIC_BASE_URL="),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL="),
        # Checked by a worker, after the port opened, until it was checked with the others.
        ({"INSIGHTS_USERS": "forfatter:klartekst"}, "INSIGHTS_USERS has 'forfatter' without a werkzeug password hash"),
        ({"TRUSTED_PROXY_HOPS": "1"}, "PUBLIC_BASE_URL must be set"),
        # Both passed the check, and then every worker failed at start, again and again.
        ({"INSIGHTS_USERS": f"forfatter:scrypt:1:8:1$salt${'0' * 64}"}, "INSIGHTS_USERS has 'forfatter'"),
        ({"FEEDBACK_RATE_LIMIT": "0/minute", "GRANIAN_WORKERS": "2"}, "FEEDBACK_RATE_LIMIT='0/minute'"),
    ],
)
@pytest.mark.server
def test_bad_settings_stop_the_server_with_one_line(docs_dir, env, message):
    image_env, cmd = dockerfile_runtime()
    port = free_port()
    result = subprocess.run(
        cmd,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            **image_env,
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "DOCS_DIR": str(docs_dir),
            "GRANIAN_HOST": "127.0.0.1",
            "GRANIAN_PORT": str(port),
            **env,
        },
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr
    assert result.stdout == ""


@pytest.mark.server
def test_a_second_server_on_a_port_in_use_stops_with_one_line_and_the_first_serves_on(docs_dir):
    # granian's sockets share a port: without the check the second would answer every other request.
    with help_server(docs_dir) as (base, _):
        port = base.rsplit(":", 1)[1]
        image_env, cmd = dockerfile_runtime()
        env = {**os.environ, **image_env, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "DOCS_DIR": str(docs_dir)}
        for host in ("127.0.0.1", "0.0.0.0"):
            env.update({"GRANIAN_HOST": host, "GRANIAN_PORT": port})
            result = subprocess.run(cmd, cwd=PROJECT, capture_output=True, text=True, timeout=60, env=env)
            assert result.returncode == 2
            assert result.stderr.strip().count("\n") == 0 and f"{host}:{port} is in use" in result.stderr
        assert get(f"{base}/healthz")[0] == 200
    # Once it has stopped, the port is free again at once (its connections' TIME_WAIT is no server).
    with help_server(docs_dir, port=int(port)) as (again, _):
        assert again == base and get(f"{again}/healthz")[0] == 200


@pytest.mark.server
def test_with_strict_start_a_page_that_fails_to_parse_stops_the_server(docs_dir):
    write(docs_dir, "broken", "---\ntitle: [unclosed\n---\n# T\n")
    image_env, cmd = dockerfile_runtime()
    result = subprocess.run(
        cmd,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            **image_env,
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "DOCS_DIR": str(docs_dir),
            "GRANIAN_PORT": str(free_port()),
            "STRICT_START": "true",
        },
    )
    assert result.returncode == 2
    assert "broken.md" in result.stderr and result.stderr.strip().count("\n") == 0


@pytest.mark.server
def test_a_page_that_fails_to_parse_at_start_is_a_503_and_the_rest_is_served(docs_dir):
    write(docs_dir, "broken", "---\ntitle: [unclosed\n---\n# T\n")
    with help_server(docs_dir) as (base, process):
        assert get(base + PAGE)[0] == 200
        status, headers, body = get(f"{base}/docs.php?doc=broken")
        assert status == 503 and b"<html" in body and headers["Cache-Control"] == "no-store"
        status, _, body = get(f"{base}/readyz")
        assert status == 200 and json.loads(body)["failed_to_load"] == ["broken.md"]
        time.sleep(0.3)  # metrics lag by at most 0.2 s
        metrics = get(f"{base}/metrics")[2].decode()
        assert re.search(r'^help_document_errors_total\{stage="load"\} 1.0$', metrics, re.M), metrics
        log = process.log_path.read_text()
    assert "broken.md" in log and "Traceback" not in log


@pytest.mark.server
def test_server_answers_health_pages_and_metrics(docs_dir):
    with help_server(docs_dir) as (base, process):
        status, headers, body = get(f"{base}/healthz")
        assert status == 200 and body == b'{"status":"ok"}\n'
        status, headers, body = get(base + PAGE)
        assert status == 200 and b"Image Prompt Adapter" in body
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert headers["X-Request-ID"]
        # The real server's own header names no version (the test client sends no Server header).
        assert not re.search(r"\d", headers.get("Server", "")), headers.get("Server")
        status, _, _ = get(base + PAGE, {"If-None-Match": headers["ETag"]})
        assert status == 304
        assert get(f"{base}/docs.php?doc=..%2f..%2fetc%2fpasswd")[0] == 400
        # Both workers answer some of these; metrics are summed over workers within a second.
        for _ in range(20):
            get(base + PAGE)
        deadline = time.monotonic() + 5
        served = 0.0
        while served < 21 and time.monotonic() < deadline:
            time.sleep(0.3)
            text = get(f"{base}/metrics")[2].decode()
            served = sum(
                float(v)
                for v in re.findall(r'^help_requests_total\{route="help.page",status="200"\} ([\d.]+)$', text, re.M)
            )
        assert served == 21
        started = process.log_path.read_text()
        assert "Listening at" in started and "[WARNING]" not in started  # a clean start


@pytest.mark.server
@pytest.mark.redis
def test_two_replicas_sharing_redis_serve_identical_bytes(docs_dir, redis_server):
    env = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_server.url, "CACHE_SIGNING_KEY": SIGNING_KEY}
    with help_server(docs_dir, **env) as (first, _), help_server(docs_dir, **env) as (second, _):
        for url in (PAGE, "/docs.php"):
            for accept in ("", "gzip", "br"):
                a = get(first + url, {"Accept-Encoding": accept})
                b = get(second + url, {"Accept-Encoding": accept})
                assert a[0] == b[0] == 200
                assert a[2] == b[2] and a[1]["ETag"] == b[1]["ETag"], (url, accept)


@pytest.mark.server
@pytest.mark.redis
def test_redis_outage_under_a_real_server(docs_dir, redis_server):
    env = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_server.url, "CACHE_SIGNING_KEY": SIGNING_KEY}
    with help_server(docs_dir, **env) as (base, _):
        assert get(base + PAGE)[0] == 200
        redis_server.stop()
        statuses = {
            get(f"{base}/docs.php?doc={slug}")[0]
            for slug in ("generative-ai-intro", "avatarify-intro", "what-is-identitynet")
        }
        assert statuses == {200}
        assert get(f"{base}/readyz")[0] == 503
        redis_server.start()
        deadline = time.monotonic() + 10
        while get(f"{base}/readyz")[0] != 200:
            assert time.monotonic() < deadline, "never ready again"
            time.sleep(0.2)


@pytest.mark.server
def test_sigterm_lets_in_flight_requests_finish(docs_dir, tmp_path):
    # A large page (near the size limit) takes long enough to render, about a second, that
    # SIGTERM arrives while it is in flight.
    write(docs_dir, "stor-side", "# Stor side\n\n" + ("Et avsnitt med *litt* tekst og [en lenke](#x).\n\n" * 1300))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with help_server(docs_dir, TMPDIR=str(scratch)) as (base, process):
        assert [p.name[:12] for p in scratch.iterdir()] == ["help-metrics"]
        result = {}

        def fetch():
            result["response"] = get(f"{base}/docs.php?doc=stor-side", timeout=60)
            result["finished"] = time.monotonic()

        client = threading.Thread(target=fetch)
        client.start()
        time.sleep(0.3)
        assert "finished" not in result, "the request must still be in flight"
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        client.join(60)
        status, _, body = result["response"]
        assert status == 200 and body.rstrip().endswith(b"</html>")
        assert result["finished"] > signalled
        assert process.wait(timeout=30) == 0
        assert list(scratch.iterdir()) == []  # the launcher removed its metrics folder
        # The in-flight request's access line was written before the worker exited.
        lines = [json.loads(line) for line in process.log_path.read_text().splitlines() if line.startswith("{")]
        assert any(line.get("query") == "doc=stor-side" and line["status"] == 200 for line in lines)


def running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def all_stop(pids: list[int], timeout: float = 30) -> bool:
    """Whether these processes have all stopped within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while any(map(running, pids)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_a_worker_whose_launcher_is_gone_ends_even_when_its_own_stop_hangs():
    # A process for the launcher, which forks one for the worker; the worker's stop never
    # ends (granian's can hang: app/serve.py), and its launcher is SIGKILLed.
    reading, writing = os.pipe()
    launcher = os.fork()
    if launcher == 0:
        worker = os.fork()
        if worker == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            threading.Thread(target=_end_when_orphaned, args=(os.getppid(), 1), daemon=True).start()
            while True:
                time.sleep(1)
        os.write(writing, str(worker).encode())
        while True:
            time.sleep(1)
    worker = int(os.read(reading, 32))
    try:
        time.sleep(1.5)
        assert running(worker)  # its launcher is there: it goes on
        os.kill(launcher, signal.SIGKILL)
        os.waitpid(launcher, 0)
        assert all_stop([worker], timeout=10)
    finally:
        with suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)


@pytest.mark.server
def test_killing_the_launcher_outright_stops_the_server(docs_dir):
    with help_server(docs_dir) as (base, process):
        workers = worker_pids(process.pid)
        assert len(workers) == 2 and all(map(running, workers))
        process.kill()  # SIGKILL: the launcher can pass nothing on
        process.wait(timeout=10)
        assert all_stop(workers)


@pytest.mark.server
def test_killing_the_launcher_while_its_workers_start_stops_them(docs_dir):
    # Killed as soon as its workers exist: they are still loading the app, before granian
    # has set their own signal handlers.
    image_env, cmd = dockerfile_runtime()
    process = subprocess.Popen(
        cmd,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            **image_env,
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "DOCS_DIR": str(docs_dir),
            "GRANIAN_PORT": str(free_port()),
            "DATABASE_URL": f"sqlite:///{docs_dir.parent}/feedback.db",
        },
    )
    deadline = time.monotonic() + 30
    while len(workers := worker_pids(process.pid)) < 2:
        assert time.monotonic() < deadline and process.poll() is None, "no workers started"
        time.sleep(0.005)
    process.kill()
    process.wait(timeout=10)
    assert all_stop(workers)


# SIGTERM or SIGINT while the launcher starts: it stops at once, with its children, and
# exits 0. (As PID 1 in a container a signal without a handler would be dropped: docker
# stop waited its 10 s and killed it; anywhere else it ended with the signal, its children
# left behind.)


def session_processes(session: int) -> list[int]:
    """The living processes of the session that `session` leads."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == session and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


@contextmanager
def silent_database():
    """A PostgreSQL address that takes connections and never answers: a migration waits on it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield f"postgresql+psycopg://help@127.0.0.1:{listener.getsockname()[1]}/help"
    finally:
        listener.close()


def many_pages(folder: Path, count: int) -> Path:
    """A docs folder of `count` small pages: enough for the launcher to read them in processes."""
    folder.mkdir()
    for i in range(count):
        (folder / f"side-{i}.md").write_text(f"# Side {i}\n\nTekst om side {i}.\n", encoding="utf-8")
    return folder


@pytest.mark.server
@pytest.mark.parametrize(
    "moment, sig",
    [
        ("importing the app", signal.SIGTERM),
        ("reading pages", signal.SIGTERM),
        ("migrating", signal.SIGTERM),
        ("migrating", signal.SIGINT),
    ],
)
def test_a_signal_while_starting_stops_the_launcher_and_its_children_at_once(docs_dir, tmp_path, moment, sig):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    image_env, cmd = dockerfile_runtime()
    env = {
        **os.environ,
        **image_env,
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "DOCS_DIR": str(docs_dir),
        "GRANIAN_HOST": "127.0.0.1",
        "GRANIAN_PORT": str(free_port()),
        "TMPDIR": str(scratch),
        "DATABASE_URL": f"sqlite:///{tmp_path}/feedback.db",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with silent_database() as silent:
        if moment == "reading pages":
            env["DOCS_DIR"] = str(many_pages(tmp_path / "many", 3000))
        if moment == "migrating":
            env["DATABASE_URL"], env["READER_KEY"] = silent, "k" * 32
        process = subprocess.Popen(
            cmd, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            if moment == "importing the app":
                time.sleep(0.15)  # Python's own start and the launcher's first imports take about 0.05 s
            else:  # the readers, or the process that migrates, have started
                deadline = time.monotonic() + 30
                while not worker_pids(process.pid):
                    assert time.monotonic() < deadline and process.poll() is None, "no child process started"
                    time.sleep(0.005)
                time.sleep(0.1)
            assert process.poll() is None
            signalled = time.monotonic()
            process.send_signal(sig)
            out, err = process.communicate(timeout=10)
            took = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert process.returncode == 0, err
    assert took < 3, f"stopped {took:.1f} s after the signal"
    assert all_stop(session_processes(process.pid), timeout=2), "a child of the launcher was left running"
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    assert list(scratch.iterdir()) == []  # the metrics folder is gone too


@pytest.mark.server
def test_sigterm_once_granian_runs_is_granians_to_handle(docs_dir):
    with help_server(docs_dir) as (base, process):
        workers = worker_pids(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert all_stop(workers, timeout=5)
        log = process.log_path.read_text()
    assert "Shutting down granian" in log and "Traceback" not in log


# What the launcher needs to write, and the one line it says when it cannot.


def as_root_in_a_private_mount_namespace(command: list[str], read_only: list[str]) -> list[str]:
    """`command` with each of `read_only` bound read-only over itself (as `docker run --read-only`
    leaves the image's folders): its files stay, so a checkout under /tmp still runs. Root
    only: it mounts."""
    mounts = " && ".join(
        f"mount --bind {quoted} {quoted} && mount -o remount,bind,ro {quoted}" for quoted in map(shlex.quote, read_only)
    )
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'{mounts} && cd /tmp && exec "$@"',
        "sh",
        *command,
    ]


@pytest.mark.server
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="mounts a read-only /tmp: root only")
def test_no_writable_folder_for_the_metrics_stops_the_launcher_with_one_line():
    image_env, cmd = dockerfile_runtime()
    env = {
        **os.environ,
        **image_env,
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "DOCS_DIR": str(PROJECT / "docs"),
        "GRANIAN_PORT": str(free_port()),
    }
    for name in ("PROMETHEUS_MULTIPROC_DIR", "TMPDIR", "TEMP", "TMP"):
        env.pop(name, None)
    result = subprocess.run(
        as_root_in_a_private_mount_namespace(cmd, ["/tmp", "/var/tmp"]),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("avatarify-help: cannot start:") and result.stderr.strip().count("\n") == 0
    assert "/tmp" in result.stderr and "TMPDIR" in result.stderr


@pytest.mark.server
def test_a_database_folder_the_launcher_cannot_write_is_named_with_the_user_and_what_to_do(tmp_path):
    # As a volume mounted read-only, or a root-owned folder for uid 10001 (tests/container has that one).
    instance = tmp_path / "instance"
    instance.mkdir()
    image_env, cmd = dockerfile_runtime()
    env = {
        **os.environ,
        **image_env,
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "DOCS_DIR": str(PROJECT / "docs"),
        "GRANIAN_PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{instance}/feedback.db",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if os.geteuid() == 0:  # root writes anywhere but on a read-only mount
        script = (
            f"mount --bind {shlex.quote(str(instance))} {shlex.quote(str(instance))} && "
            f'mount -o remount,ro,bind {shlex.quote(str(instance))} && exec "$@"'
        )
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *cmd]
        expected = "read-only"
    else:
        instance.chmod(0o555)
        expected = f"chown {os.getuid()}:{os.getgid()}"
    result = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert line.count("\n") == 0 and line.startswith("avatarify-help: cannot start:")
    assert str(instance) in line and f"uid {os.getuid()}" in line and expected in line and "DATABASE_URL" in line


def test_the_launcher_imports_every_module_of_every_package_before_it_forks():
    from app.serve import import_app

    imported = set(import_app())
    on_disk = {
        ".".join(path.relative_to(PROJECT).with_suffix("").parts).removesuffix(".__init__")
        for path in (PROJECT / "app").rglob("*.py")
        if "migrations" not in path.parts
    }
    assert on_disk - {"app"} <= imported, sorted(on_disk - imported)
    assert "app.search.engine" in imported and "app.readers.feedback" in imported
