"""RedisCache with a real redis-server: shared renders, pages that survive Redis going away,
and a Redis that someone else has written to (its values are never code, never trusted HTML)."""

from __future__ import annotations

import json
import pickle
import time

import pytest

from app.caching import fragments as extensions
from app.config import ConfigError

# A real redis-server on a loopback port.
pytestmark = pytest.mark.redis

PAGE = "/docs.php?doc=instantid-intro"
SIGNING_KEY = "test-signing-key-of-32-characters!"


@pytest.fixture
def redis_app(make_app, redis_server, monkeypatch):
    monkeypatch.setattr(extensions, "RETRY_SECONDS", 0.2)

    def make(**overrides):
        return make_app(
            **{
                "CACHE_TYPE": "RedisCache",
                "CACHE_REDIS_URL": redis_server.url,
                "CACHE_SIGNING_KEY": SIGNING_KEY,
                **overrides,
            }
        )

    return make


def redis_client(app):
    with app.app_context():
        return extensions.cache.cache.client


def test_two_apps_sharing_redis_serve_identical_pages(redis_app):
    first, second = redis_app(), redis_app()
    a = first.test_client().get(PAGE)
    b = second.test_client().get(PAGE, headers={"Accept-Encoding": ""})
    assert a.status_code == b.status_code == 200
    assert a.data == b.data and a.headers["ETag"] == b.headers["ETag"]
    assert len(redis_client(second).keys("*instantid-intro*")) == 1  # rendered once, by the first app


def test_pages_survive_redis_going_away_and_recover(redis_app, redis_server, capfd):
    app = redis_app()
    client = app.test_client()
    assert client.get("/readyz").json["status"] == "ready"
    assert client.get(PAGE).status_code == 200

    redis_server.stop()
    capfd.readouterr()
    for slug in ("what-is-ip-adapter", "generative-ai-intro", "instantid-intro"):
        response = client.get(f"/docs.php?doc={slug}")
        assert response.status_code == 200, slug
        assert "<article" in response.text
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["reasons"] == ["cache backend RedisCache unreachable"]  # no host, no port
    assert ready.json["status"] == "degraded" and str(redis_server.port) not in ready.text
    warnings = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"warning"' in line]
    assert any("cache backend unreachable" in w["message"] for w in warnings)

    redis_server.start()
    assert client.get("/readyz").status_code == 200
    time.sleep(0.3)  # past the retry window
    assert client.get("/docs.php?doc=avatarify-intro").status_code == 200
    assert redis_client(app).keys("*avatarify-intro*")


class Planted:
    """A pickle that, when loaded, writes a file: proof that code from Redis ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return _touch, (str(self.marker),)


def _touch(path: str):
    with open(path, "w") as handle:
        handle.write("code from Redis ran")


def test_a_pickle_planted_in_redis_never_runs(redis_app, tmp_path):
    app = redis_app()
    client = app.test_client()
    marker = tmp_path / "pwned"
    redis = redis_client(app)
    assert client.get(PAGE).status_code == 200
    planted = b"!" + pickle.dumps(Planted(marker))  # what flask-caching's RedisCache would unpickle
    keys = redis.keys("*")
    assert keys
    for key in [*keys, b"help:help:readyz", b"flask_cache_help:readyz"]:
        redis.set(key, planted)
    fresh = redis_app()  # a new worker: nothing in its memory, everything read from Redis
    fresh_client = fresh.test_client()
    assert fresh_client.get("/readyz").status_code == 200
    assert fresh_client.get(PAGE).status_code == 200
    assert fresh_client.get("/api/docs/instantid-intro").status_code == 200
    assert not marker.exists()


def test_forged_html_in_redis_is_never_served(redis_app, capfd):
    app = redis_app()
    assert app.test_client().get(PAGE).status_code == 200
    redis = redis_client(app)
    forged = '<meta http-equiv="refresh" content="0;url=https://phish.example/">FORGED'
    for key in redis.keys("*"):
        stored = redis.get(key)
        # Keep the stored value's layout and signature, change what it says: still refused.
        redis.set(
            key,
            stored.replace(b"</title>", b"</title>" + forged.encode(), 1)
            if b"</title>" in stored
            else stored + b"FORGED",
        )
    capfd.readouterr()
    fresh = redis_app()
    client = fresh.test_client()
    page = client.get(PAGE)
    assert page.status_code == 200 and "FORGED" not in page.text and "Hva er InstantID" in page.text
    assert "FORGED" not in client.get("/api/docs/instantid-intro").text
    logged = capfd.readouterr().out
    assert "fails its signature check" in logged
    metrics = client.get("/metrics").text
    assert "help_shared_cache_rejected_total" in metrics
    rejected = [line for line in metrics.splitlines() if line.startswith("help_shared_cache_rejected_total ")]
    assert rejected and float(rejected[0].split()[1]) >= 1


def test_a_value_signed_for_one_key_is_refused_under_another(redis_app):
    app = redis_app()
    client = app.test_client()
    assert client.get("/docs.php?doc=what-is-ip-adapter").status_code == 200
    assert client.get(PAGE).status_code == 200
    redis = redis_client(app)
    [ip_adapter] = redis.keys("*what-is-ip-adapter*")
    [instantid] = redis.keys("*instantid-intro*")
    redis.set(instantid, redis.get(ip_adapter))  # a genuine value, moved to another page's key
    page = redis_app().test_client().get(PAGE)
    assert page.status_code == 200 and "Hva er InstantID" in page.text


def rejected_so_far() -> float:
    from app.observability.metrics import SHARED_CACHE_REJECTED

    return SHARED_CACHE_REJECTED._value.get()


def test_a_value_signed_with_another_key_is_refused(redis_app):
    other = redis_app(CACHE_SIGNING_KEY="another-signing-key-of-32-chars!!")
    assert other.test_client().get(PAGE).status_code == 200  # stored, signed with the other key
    before = rejected_so_far()
    page = redis_app().test_client().get(PAGE)
    assert page.status_code == 200 and "Hva er InstantID" in page.text
    assert rejected_so_far() == before + 1


@pytest.mark.parametrize("key", ["", "short", "x" * 31])
def test_redis_without_a_long_signing_key_is_refused(make_app, key):
    with pytest.raises(ConfigError, match="CACHE_SIGNING_KEY"):
        make_app(CACHE_TYPE="RedisCache", CACHE_SIGNING_KEY=key)


def test_only_text_and_bytes_go_into_the_shared_cache(redis_app):
    with redis_app().app_context():
        with pytest.raises(TypeError):
            extensions.cache.cache.set("x", {"a": 1})
        extensions.cache.cache.set("text", "æøå")
        extensions.cache.cache.set("bytes", b"\x00\xff")
        assert extensions.cache.cache.get("text") == "æøå"
        assert extensions.cache.cache.get("bytes") == b"\x00\xff"


def test_replicas_with_equal_file_times_but_other_text_never_share_a_page(redis_app, docs_dir, tmp_path):
    import os
    import shutil

    other_docs = tmp_path / "other-docs"
    shutil.copytree(docs_dir, other_docs)
    for folder, title in ((docs_dir, "Aaaa"), (other_docs, "Bbbb")):
        path = folder / "likt.md"
        path.write_text(f"# {title}\n", encoding="utf-8")
        os.utime(path, ns=(1_700_000_000_000_000_000,) * 2)
    first, second = redis_app(), redis_app(DOCS_DIR=str(other_docs))
    assert "Aaaa" in first.test_client().get("/docs.php?doc=likt").text
    assert "Bbbb" in second.test_client().get("/docs.php?doc=likt").text
