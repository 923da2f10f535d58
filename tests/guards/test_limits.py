"""Rate limits per client and the per-worker cap on expensive work: a flood gets clear
429 and 503 answers, and cached pages stay unaffected."""

from __future__ import annotations

import pytest

from app.guards.limits import client_key

SIGNING_KEY = "k" * 32  # shared by replicas that count in Redis


@pytest.fixture
def limited(make_app):
    def make(**overrides):
        return make_app(**{"RATELIMIT_ENABLED": True, **overrides}).test_client()

    return make


def test_searches_past_the_limit_get_429_with_retry_after(limited):
    client = limited(SEARCH_RATE_LIMIT="3/minute")
    assert [client.get(f"/docs.php?q=bilde{i}").status_code for i in range(3)] == [200] * 3
    refused = client.get("/docs.php?q=bilde")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "<html" in refused.text and refused.headers["Cache-Control"] == "no-store"
    api = client.get("/api/search?q=bilde")
    assert api.status_code == 429 and api.headers["Content-Type"] == "application/problem+json"
    # Pages are not searches: still served.
    assert client.get("/docs.php?doc=instantid-intro").status_code == 200
    assert client.get("/docs.php").status_code == 200


def test_a_doc_parameter_does_not_lift_the_limit_from_api_searches(limited):
    # /docs.php shows ?doc='s page when both are given (no search); the API searches anyway.
    client = limited(SEARCH_RATE_LIMIT="2/minute")
    assert [client.get(f"/api/search?q=bilde{i}&doc=x").status_code for i in range(2)] == [200] * 2
    assert client.get("/api/search?q=bilde&doc=x").status_code == 429
    assert client.get("/docs.php?q=bilde&doc=instantid-intro").status_code == 200


def test_each_client_has_its_own_count(limited):
    client = limited(SEARCH_RATE_LIMIT="1/minute")
    assert client.get("/docs.php?q=a1", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    assert client.get("/docs.php?q=a2", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429
    assert client.get("/docs.php?q=a3", environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 200
    # An IPv6 subscriber's /64 is one client, whichever address of it is used.
    assert client.get("/docs.php?q=b1", environ_base={"REMOTE_ADDR": "2001:db8:1:2::1"}).status_code == 200
    assert client.get("/docs.php?q=b2", environ_base={"REMOTE_ADDR": "2001:db8:1:2::ffff"}).status_code == 429


def test_dead_links_past_the_limit_get_429(limited):
    client = limited(NOT_FOUND_RATE_LIMIT="2/minute")
    assert [client.get(f"/docs.php?doc=borte-{i}").status_code for i in range(2)] == [404, 404]
    assert client.get("/docs.php?doc=borte-3").status_code == 429
    # Pages that exist are still served to that client, also when Flask renders them.
    assert client.get("/docs.php?doc=instantid-intro&theme=dark").status_code == 200
    assert client.get("/docs.php?doc=what-is-ip-adapter&lang=en").status_code == 200


def test_unknown_context_keys_count_with_unknown_slugs_and_old_links_never_do(limited, docs_dir):
    from helpers import write

    write(docs_dir, "ny-side", "---\naliases: [gammel-side]\ncontexts: [screen.upload]\n---\n# Ny side\n")
    client = limited(NOT_FOUND_RATE_LIMIT="3/minute")
    assert [client.get(f"/go/screen.borte-{i}").status_code for i in range(2)] == [404, 404]
    assert client.get("/docs.php?doc=borte").status_code == 404  # the third, of either kind
    assert client.get("/go/screen.borte-3").status_code == 429
    assert client.get("/docs.php?doc=borte-4").status_code == 429
    # What exists is still answered: a key with pages, an old slug, a page.
    assert [client.get("/go/screen.upload").status_code for _ in range(5)] == [302] * 5
    assert [client.get("/docs.php?doc=gammel-side").status_code for _ in range(5)] == [301] * 5
    assert client.get("/docs.php?doc=ny-side&theme=dark").status_code == 200


def test_forwarded_addresses_count_only_behind_trusted_proxies(limited):
    untrusted = limited(SEARCH_RATE_LIMIT="1/minute")
    assert untrusted.get("/docs.php?q=x", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert untrusted.get("/docs.php?q=x", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 429
    trusted = limited(SEARCH_RATE_LIMIT="1/minute", TRUSTED_PROXY_HOPS=1, PUBLIC_BASE_URL="https://hjelp.example")
    assert trusted.get("/docs.php?q=x", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert trusted.get("/docs.php?q=x", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200


@pytest.mark.parametrize(
    "first, second",
    [
        ("192.0.2.1", "::ffff:192.0.2.1"),  # an IPv4 reader as a dual-stack socket writes it
        ("192.0.2.1", "64:ff9b::192.0.2.1"),  # through NAT64 to an IPv6-only server
        ("192.0.2.1", "::ffff:0:192.0.2.1"),  # SIIT
        ("192.0.2.1", "::192.0.2.1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("2001:db8:5:6::1", "2001:db8:5:6:aaaa:bbbb:cccc:dddd"),  # one /64
    ],
)
def test_one_client_is_one_client_however_its_address_is_written(limited, first, second):
    client = limited(SEARCH_RATE_LIMIT="1/minute")
    assert client.get("/docs.php?q=x", environ_base={"REMOTE_ADDR": first}).status_code == 200
    assert client.get("/docs.php?q=x", environ_base={"REMOTE_ADDR": second}).status_code == 429


@pytest.mark.parametrize(
    "first, second",
    [
        ("::ffff:192.0.2.1", "::ffff:192.0.2.2"),  # two IPv4 readers on a dual-stack bind: two clients
        ("64:ff9b::192.0.2.1", "64:ff9b::192.0.2.2"),  # two IPv4 readers through NAT64
        ("192.0.2.1", "192.0.2.2"),
        ("2001:db8:5:6::1", "2001:db8:5:7::1"),
    ],
)
def test_two_clients_are_two_clients_however_their_addresses_are_written(limited, first, second):
    client = limited(SEARCH_RATE_LIMIT="1/minute")
    assert client.get("/docs.php?q=x", environ_base={"REMOTE_ADDR": first}).status_code == 200
    assert client.get("/docs.php?q=x", environ_base={"REMOTE_ADDR": second}).status_code == 200


@pytest.mark.parametrize(
    "forwarded",
    [
        ["192.0.2.7:5678", "192.0.2.7:5679", "192.0.2.7"],
        ["[2001:db8::1]:443", "[2001:db8::2]:8443", "2001:db8::3"],
        ["[::ffff:192.0.2.7]:1", "192.0.2.7:2"],
    ],
)
def test_a_forwarded_address_with_a_port_is_one_client(limited, forwarded):
    client = limited(SEARCH_RATE_LIMIT="1/minute", TRUSTED_PROXY_HOPS=1, PUBLIC_BASE_URL="https://hjelp.example")
    statuses = [client.get("/docs.php?q=x", headers={"X-Forwarded-For": value}).status_code for value in forwarded]
    assert statuses == [200] + [429] * (len(forwarded) - 1)


@pytest.mark.parametrize("garbage", ["unknown", "not an address", "1.2.3.4.5", "[zz]:1", "", "_hidden"])
def test_a_forwarded_value_that_is_no_address_falls_back_to_the_peer(limited, garbage):
    client = limited(SEARCH_RATE_LIMIT="1/minute", TRUSTED_PROXY_HOPS=1, PUBLIC_BASE_URL="https://hjelp.example")
    peer = {"REMOTE_ADDR": "198.51.100.40"}
    assert client.get("/docs.php?q=x", headers={"X-Forwarded-For": garbage}, environ_base=peer).status_code == 200
    # The same peer with another garbage value is the same client; another peer is another.
    assert client.get("/docs.php?q=x", headers={"X-Forwarded-For": "x" + garbage}, environ_base=peer).status_code == 429
    assert (
        client.get(
            "/docs.php?q=x", headers={"X-Forwarded-For": garbage}, environ_base={"REMOTE_ADDR": "198.51.100.41"}
        ).status_code
        == 200
    )


def test_an_unbalanced_quote_before_the_proxys_own_entry_gives_no_second_identity(limited):
    """The proxy appends the address it saw: `"x, 203.0.113.9` is that client, not the proxy."""
    client = limited(SEARCH_RATE_LIMIT="1/minute", TRUSTED_PROXY_HOPS=1, PUBLIC_BASE_URL="https://hjelp.example")
    peer = {"REMOTE_ADDR": "198.51.100.40"}
    statuses = [
        client.get("/docs.php?q=x", headers={"X-Forwarded-For": value}, environ_base=peer).status_code
        for value in ("203.0.113.9", '"x, 203.0.113.9', '"x", "y, 203.0.113.9')
    ]
    assert statuses == [200, 429, 429]


def test_a_proxy_in_front_needs_the_public_address(make_app):
    from app.config import ConfigError

    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL must be set"):
        make_app(TRUSTED_PROXY_HOPS=1)


def test_each_worker_counting_alone_applies_its_share_of_a_limit(make_app, monkeypatch):
    from app.guards.limits import per_worker

    assert per_worker("30/10 seconds;300/hour", 2) == "15/10 second;150/1 hour"
    assert per_worker("1/minute", 4) == "1/4 minute"  # the window stretched: no more than 1 a minute on average
    monkeypatch.setenv("GRANIAN_WORKERS", "2")
    shares = make_app(FEEDBACK_RATE_LIMIT="10/minute").extensions["rate_limits"]
    assert shares["FEEDBACK_RATE_LIMIT"] == "5/1 minute"
    shared = make_app(
        FEEDBACK_RATE_LIMIT="10/minute", CACHE_SIGNING_KEY=SIGNING_KEY, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0"
    )
    assert shared.extensions["rate_limits"]["FEEDBACK_RATE_LIMIT"] == "10/minute"  # Redis counts for all


def test_the_limiter_keeps_no_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        key = client_key()
    assert "203.0.113.9" not in key and len(key) == 24
    app.test_client().get("/docs.php?q=x", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    from app.guards.limits import limiter

    stored = repr(limiter.storage.keys())
    assert "203.0.113.9" not in stored and key in stored


def test_searches_beyond_the_free_slots_get_503_at_once(limited):
    client = limited(RATELIMIT_ENABLED=False, EXPENSIVE_WORK_SLOTS=1)
    slots = client.application.extensions["work_slots"]
    assert slots.acquire(blocking=False)  # another request holds the only slot
    try:
        busy = client.get("/docs.php?q=bilde")
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
        assert client.get("/api/search?q=bilde").status_code == 503
        # A dead link still gets its 404 (with a way on), only without suggestions.
        dead = client.get("/docs.php?doc=instantid")
        assert dead.status_code == 404 and "Mente du" not in dead.text
        assert client.get("/docs.php?doc=instantid-intro").status_code == 200
    finally:
        slots.release()
    assert client.get("/docs.php?q=bilde").status_code == 200
    assert "Mente du" in client.get("/docs.php?doc=instantid").text


@pytest.mark.parametrize(
    "name, value",
    [
        ("SEARCH_RATE_LIMIT", "lots"),
        ("NOT_FOUND_RATE_LIMIT", ""),
        ("RATELIMIT_STORAGE_URI", "http://x"),
        ("RATELIMIT_STORAGE_URI", "unix:///run/redis.sock"),  # the cache's spelling, not limits'
        ("EXPENSIVE_WORK_SLOTS", "0"),
        ("RATELIMIT_ENABLED", "maybe"),
    ],
)
def test_bad_limit_settings_are_refused(make_app, name, value):
    from app.config import ConfigError

    with pytest.raises(ConfigError, match=name):
        make_app(**{name: value})
