"""RedisCache with a real redis-server: shared renders, and pages that survive Redis going away."""

from __future__ import annotations

import json

import pytest

from app import create_app, extensions

PAGE = "/docs.php?doc=instantid-intro"


@pytest.fixture
def redis_app(docs_dir, redis_server, monkeypatch):
    monkeypatch.setattr(extensions, "RETRY_SECONDS", 0.2)
    def make():
        return create_app({"TESTING": True, "DOCS_DIR": str(docs_dir), "CACHE_TYPE": "RedisCache",
                           "CACHE_REDIS_URL": redis_server.url})
    return make


def test_two_apps_sharing_redis_serve_identical_pages(redis_app):
    first, second = redis_app(), redis_app()
    a = first.test_client().get(PAGE)
    b = second.test_client().get(PAGE, headers={"Accept-Encoding": ""})
    assert a.status_code == b.status_code == 200
    assert a.data == b.data and a.headers["ETag"] == b.headers["ETag"]
    with second.app_context():
        keys = extensions.cache.cache._write_client.keys("*instantid-intro*")
    assert len(keys) == 1  # rendered once, by the first app; the second read it


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
    assert ready.json["status"] == "degraded" and "unreachable" in ready.json["reasons"][0]
    warnings = [json.loads(l) for l in capfd.readouterr().out.splitlines() if '"warning"' in l]
    assert any("cache backend unreachable" in w["message"] for w in warnings)

    redis_server.start()
    assert client.get("/readyz").status_code == 200
    import time
    time.sleep(0.3)  # past the retry window
    assert client.get("/docs.php?doc=avatarify-intro").status_code == 200
    with app.app_context():
        assert extensions.cache.cache._write_client.keys("*avatarify-intro*")
