"""The rate limiter's counters in memory: fixed windows that end, and a bound on how many
there are, whatever number of networks a flood comes from."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from app.guards import counters
from app.guards.counters import BoundedMemoryStorage
from app.guards.limits import limiter

SIGNING_KEY = "k" * 32  # shared by replicas that count in Redis


@pytest.fixture
def clock(monkeypatch):
    """The counters' clock, set by the test."""
    at = [1_000.0]
    monkeypatch.setattr(counters, "now", lambda: at[0])
    return at


def test_a_counter_counts_within_its_window_and_starts_again_after_it(clock):
    store = BoundedMemoryStorage()
    assert [store.incr("a", 10) for _ in range(3)] == [1, 2, 3]
    assert store.incr("a", 10, amount=2) == 5 and store.get("a") == 5
    assert 9.9 < store.get_expiry("a") - time.time() <= 10
    clock[0] += 9.9
    assert store.get("a") == 5
    clock[0] += 0.1
    assert store.get("a") == 0 and store.keys() == []
    assert store.incr("a", 10) == 1


def test_counters_of_each_window_length_end_on_time(clock):
    store = BoundedMemoryStorage()
    store.incr("day", 86400)
    store.incr("minute", 60)
    store.incr("seconds", 10)
    clock[0] += 30
    assert store.get("another") == 0  # any call drops the counters that have ended
    assert store.keys() == ["day", "minute"]
    clock[0] += 30
    store.incr("another", 10)
    assert store.keys() == ["day", "another"]


def test_a_change_of_the_system_time_moves_no_window(monkeypatch):
    store = BoundedMemoryStorage()
    store.incr("a", 10)
    monkeypatch.setattr(counters.time, "time", lambda: 2e9)  # the system's clock set a decade on
    assert store.incr("a", 10) == 2 and 2e9 + 9 < store.get_expiry("a") <= 2e9 + 10


def test_one_call_drops_a_bounded_number_of_ended_counters(clock, monkeypatch):
    monkeypatch.setattr(counters, "MAX_DROPPED_PER_CALL", 10)
    store = BoundedMemoryStorage()
    for i in range(25):
        store.incr(f"k{i}", 10)
    clock[0] += 10
    assert store.get("k24") == 0  # its own counter ends whatever the budget
    assert len(store.keys()) == 14
    store.get("x")
    store.get("x")
    assert store.keys() == []


def test_at_least_one_counter(clock):
    with pytest.raises(ValueError, match="at least 1"):
        BoundedMemoryStorage(max_counters=-1)
    assert BoundedMemoryStorage().max_counters == counters.MAX_COUNTERS


def test_the_counters_are_bounded_and_the_one_counted_longest_ago_makes_room(clock):
    store = BoundedMemoryStorage(max_counters=3)
    store.incr("a-day", 86400)
    store.incr("b-seconds", 10)
    store.incr("c-hour", 3600)
    store.incr("a-day", 86400)  # a-day counted again: b-seconds is now the one counted longest ago
    store.incr("d-minute", 60)
    assert store.keys() == ["c-hour", "a-day", "d-minute"]
    assert store.incr("e-day", 86400) == 1 and store.incr("e-seconds", 10) == 1
    assert store.keys() == ["d-minute", "e-day", "e-seconds"]  # a new client's short window stays
    for i in range(1000):
        store.incr(f"flood-{i}", 10)
        if i % 2:
            store.incr("reader", 3600)  # a reader searching all along keeps their count
    assert store.keys() == ["flood-998", "flood-999", "reader"] and store.get("reader") == 500
    # A counter already held is counted on, not replaced.
    assert store.incr("flood-999", 10) == 2


def test_clear_and_reset(clock):
    store = BoundedMemoryStorage()
    store.incr("a", 10)
    store.incr("b", 60)
    store.clear("a")
    store.clear("never-counted")
    assert store.keys() == ["b"] and store.get("a") == 0
    assert store.reset() == 1 and store.keys() == [] and store.check()


@pytest.fixture
def racing():
    """Threads switch as often as they can, so that races show."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_counting_from_many_threads_loses_no_count(racing):
    store = BoundedMemoryStorage(max_counters=1000)

    def count(thread: int):
        for i in range(2000):
            store.incr("shared", 3600)
            store.incr(f"{thread}-{i}", 3600)

    threads = [threading.Thread(target=count, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("shared") == 8000 and len(store.keys()) == 1000


def test_memory_and_the_fallback_for_redis_count_in_the_bounded_store(make_app):
    make_app(RATELIMIT_ENABLED=True)
    assert type(limiter.storage) is BoundedMemoryStorage
    make_app(RATELIMIT_ENABLED=True, CACHE_SIGNING_KEY=SIGNING_KEY, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    assert type(limiter._fallback_storage) is BoundedMemoryStorage


def test_searches_from_a_flood_of_networks_keep_memory_bounded_and_limits_working(make_app, monkeypatch):
    monkeypatch.setattr(counters, "MAX_COUNTERS", 40)
    app = make_app(RATELIMIT_ENABLED=True, SEARCH_RATE_LIMIT="2/minute;100/hour")
    client = app.test_client()
    reader = {"REMOTE_ADDR": "192.0.2.50"}
    assert client.get("/api/search?q=ansikt", environ_base=reader).status_code == 200
    # A subscriber with an IPv6 /48 has 65,536 networks of its own.
    for i in range(300):
        address = f"2001:db8:7:{i:x}::1"
        assert client.get(f"/api/search?q=bilde{i}", environ_base={"REMOTE_ADDR": address}).status_code == 200
        if i == 150:  # a reader who goes on searching keeps their count through the flood
            assert client.get("/api/search?q=ansikt1", environ_base=reader).status_code == 200
    assert len(limiter.storage.keys()) == 40
    assert client.get("/api/search?q=ansikt2", environ_base=reader).status_code == 200  # counted anew
    assert [client.get(f"/api/search?q=ansikt{i}", environ_base=reader).status_code for i in range(3, 5)] == [200, 429]


def test_limits_count_in_redis_and_in_memory_while_it_is_away(make_app, redis_server):
    app = make_app(
        RATELIMIT_ENABLED=True,
        SEARCH_RATE_LIMIT="2/minute",
        CACHE_SIGNING_KEY=SIGNING_KEY,
        RATELIMIT_STORAGE_URI=redis_server.url,
    )
    client = app.test_client()
    assert [client.get(f"/api/search?q=bilde{i}").status_code for i in range(3)] == [200, 200, 429]
    assert not limiter._storage_dead and type(limiter.storage).__name__ == "RedisStorage"
    redis_server.stop()
    statuses = [client.get(f"/api/search?q=ansikt{i}").status_code for i in range(4)]
    assert limiter._storage_dead and statuses[-2:] == [429, 429] and set(statuses) <= {200, 429}
    assert limiter._fallback_storage.keys()


def test_flask_limiters_own_command_describes_the_store(tmp_path):
    shown = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "limiter", "config"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/feedback.db"},
    )
    assert shown.returncode == 0, shown.stderr
    assert "BoundedMemoryS" in shown.stdout and "at most 50,000" in shown.stdout  # in a table 80 wide


def test_a_redis_that_hangs_holds_no_request(make_app, redis_server):
    client = make_app(
        RATELIMIT_ENABLED=True, CACHE_SIGNING_KEY=SIGNING_KEY, RATELIMIT_STORAGE_URI=redis_server.url
    ).test_client()
    assert client.get("/api/search?q=bilde").status_code == 200
    redis_server.process.send_signal(signal.SIGSTOP)  # it takes connections and never answers
    try:
        answers = []
        asking = threading.Thread(target=lambda: answers.append(client.get("/api/search?q=ansikt").status_code))
        asking.start()
        asking.join(timeout=10)
        assert answers == [200]  # counted in memory instead, after the limiter's socket timeout
    finally:
        redis_server.process.send_signal(signal.SIGCONT)


def test_limits_count_in_a_redis_on_a_unix_socket(make_app, tmp_path):
    import redis

    from bench.servers import RedisServer

    server = RedisServer(tmp_path, socket_path=tmp_path / "redis.sock")
    server.start()
    try:
        app = make_app(
            RATELIMIT_ENABLED=True,
            SEARCH_RATE_LIMIT="2/minute",
            CACHE_SIGNING_KEY=SIGNING_KEY,
            RATELIMIT_STORAGE_URI=f"redis+unix://{server.socket_path}",
        )
        client = app.test_client()
        assert [client.get(f"/api/search?q=bilde{i}").status_code for i in range(3)] == [200, 200, 429]
        assert not limiter._storage_dead and redis.Redis(unix_socket_path=str(server.socket_path)).keys("*LIMITER*")
    finally:
        server.stop()
