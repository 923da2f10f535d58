"""deploy/: the Kubernetes manifests and compose.yaml as operators apply them: valid against
their schemas, with settings the app accepts, and stop times that agree with the launcher's.
(`make container-test` also runs the Deployment's pod with podman.)"""

from __future__ import annotations

import json
import re
import subprocess

import kubernetes_validate
import pytest
import yaml
from helpers import PROJECT

from app.config import Config, from_environment, validate
from app.serve import SERVER_DEFAULTS
from bench.servers import VENV_BIN, dockerfile_runtime

DEPLOY = PROJECT / "deploy"
# The oldest Kubernetes still supported upstream when this was written, and the newest the validator knows.
KUBERNETES_VERSIONS = ["1.32.0", kubernetes_validate.latest_version()]
DRAIN_SECONDS = int(SERVER_DEFAULTS["GRANIAN_WORKERS_KILL_TIMEOUT"])
# What the launcher may need after the drain: stopping granian and removing its metrics folder.
AFTER_DRAIN_SECONDS = 2
SECRETS = {
    "POSTGRES_PASSWORD": "p" * 32,
    "REDIS_PASSWORD": "r" * 32,
    "CACHE_SIGNING_KEY": "k" * 64,
    "READER_KEY": "q" * 64,
    "PUBLIC_BASE_URL": "https://hjelp.example.no",
}


def manifests() -> dict[str, dict]:
    """Every document in deploy/kubernetes/, by kind."""
    found = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            found[document["kind"]] = document
    return found


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def interpolated(value: str, variables: dict[str, str]) -> str:
    """A compose value with ${NAME}, ${NAME:-default} and ${NAME:?error} filled in."""

    def fill(match):
        name, rule, default = match.group(1), match.group(2) or "", match.group(3) or ""
        if name in variables:
            return variables[name]
        assert rule != ":?", f"{name} must be set"
        return default

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", fill, value)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_kubernetes_manifests_are_valid_against_the_api_schemas(version):
    documents = manifests()
    assert set(documents) == {"Deployment", "Service", "PodDisruptionBudget"}
    for document in documents.values():
        kubernetes_validate.validate(document, version, strict=True)  # raises, naming the field


def test_the_deployment_probes_stops_and_runs_as_the_image_expects():
    documents = manifests()
    deployment = documents["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    image_env, _ = dockerfile_runtime()
    port = next(p for p in container["ports"] if p["name"] == "http")
    assert port["containerPort"] == int(image_env["GRANIAN_PORT"])
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    pause = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] >= int(pause[1]) + DRAIN_SECONDS + AFTER_DRAIN_SECONDS
    dockerfile = (PROJECT / "Dockerfile").read_text()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert f"USER {pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}" in dockerfile
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["capabilities"]["drop"] == ["ALL"]
    assert security["allowPrivilegeEscalation"] is False
    # With a read-only root the metrics folder needs a writable /tmp (README).
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == mounts["/tmp"])
    resources = container["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"]
    assert mebibytes(resources["limits"]["memory"]) >= mebibytes(resources["requests"]["memory"])
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert documents["Service"]["spec"]["selector"] == labels
    assert documents["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    budget = documents["PodDisruptionBudget"]["spec"]
    assert budget["selector"]["matchLabels"] == labels and budget["minAvailable"] < deployment["spec"]["replicas"]


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()
    return int(number) * (1024 if unit == "Gi" else 1)


def test_the_compose_file_is_valid_against_the_compose_specification():
    result = subprocess.run(
        [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_two_replicas_sharing_postgresql_and_redis_and_stops_in_time():
    services = compose()["services"]
    help_service = services["help"]
    assert help_service["deploy"]["replicas"] == 2
    env = {name: interpolated(str(value), SECRETS) for name, value in help_service["environment"].items()}
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:" in env["DATABASE_URL"]
    assert env["CACHE_TYPE"] == "RedisCache" and "@redis:" in env["CACHE_REDIS_URL"]
    assert env["CACHE_SIGNING_KEY"] == SECRETS["CACHE_SIGNING_KEY"]
    assert env["READER_KEY"] == SECRETS["READER_KEY"]
    assert help_service["read_only"] is True and "/tmp" in help_service["tmpfs"]
    assert help_service["cap_drop"] == ["ALL"]
    grace = int(re.fullmatch(r"(\d+)s", help_service["stop_grace_period"]).group(1))
    assert grace >= DRAIN_SECONDS + AFTER_DRAIN_SECONDS
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
    for dependency in ("postgres", "redis"):
        assert help_service["depends_on"][dependency] == {"condition": "service_healthy"}
    # The app's own healthcheck is the image's.
    after = (PROJECT / "Dockerfile").read_text().split("HEALTHCHECK", 1)[1]
    assert json.loads(re.search(r"^\s*CMD (\[.+\])$", after, re.M).group(1)) == help_service["healthcheck"]["test"][1:]


@pytest.mark.parametrize("where", ["compose", "kubernetes"])
def test_every_setting_in_deploy_is_one_the_app_has_and_accepts(where):
    if where == "compose":
        env = {
            name: interpolated(str(value), SECRETS)
            for name, value in compose()["services"]["help"]["environment"].items()
        }
    else:
        (container,) = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"]
        samples = {
            "database-url": "postgresql+psycopg://help:secret@postgres/help",
            "redis-url": "redis://:secret@redis:6379/0",
            "cache-signing-key": "k" * 64,
            "reader-key": "q" * 64,
        }
        env = {
            item["name"]: item.get("value") or samples[item["valueFrom"]["secretKeyRef"]["key"]]
            for item in container["env"]
        }
    unknown = [name for name in env if not hasattr(Config, name) and not name.startswith("GRANIAN_")]
    assert not unknown
    settings = from_environment({name: value for name, value in env.items() if value})
    settings["DOCS_DIR"] = str(PROJECT / "docs")
    validate(settings)  # raises ConfigError naming a bad one
