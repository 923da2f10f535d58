"""The rate limiter's counters in memory: fixed windows that end, and a bound on how many
there are, whatever number of networks a flood comes from."""

from __future__ import annotations

import sys
import threading

import pytest

from app.guards.counters import BoundedMemoryStorage
from app.guards.limits import limiter


@pytest.fixture
def clock(monkeypatch):
    """time.time, set by the test."""
    now = [1_000_000.0]
    monkeypatch.setattr("app.guards.counters.time.time", lambda: now[0])
    return now


def test_a_counter_counts_within_its_window_and_starts_again_after_it(clock):
    store = BoundedMemoryStorage()
    assert [store.incr("a", 10) for _ in range(3)] == [1, 2, 3]
    assert store.incr("a", 10, amount=2) == 5 and store.get("a") == 5
    assert store.get_expiry("a") == clock[0] + 10
    clock[0] += 9.9
    assert store.get("a") == 5
    clock[0] += 0.1
    assert store.get("a") == 0 and store.keys() == []
    assert store.incr("a", 10) == 1 and store.get_expiry("a") == clock[0] + 10


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


def test_a_counter_ends_on_time_even_if_the_clock_went_back_since_an_earlier_one_began(clock):
    store = BoundedMemoryStorage()
    store.incr("first", 10)
    clock[0] -= 5  # the clock set back: "second" ends before "first" but is queued behind it
    store.incr("second", 10)
    clock[0] += 12
    assert store.get("second") == 0 and store.get("first") == 1


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
    make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    assert type(limiter._fallback_storage) is BoundedMemoryStorage
    assert limiter._fallback_limiter.storage is limiter._fallback_storage


def test_searches_from_a_flood_of_networks_keep_memory_bounded_and_limits_working(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True, SEARCH_RATE_LIMIT="2/minute;100/hour", RATELIMIT_STORAGE_OPTIONS={"max_counters": 40}
    )
    client = app.test_client()
    # A subscriber with an IPv6 /48 has 65,536 networks of its own.
    for i in range(300):
        address = f"2001:db8:7:{i:x}::1"
        assert client.get(f"/api/search?q=bilde{i}", environ_base={"REMOTE_ADDR": address}).status_code == 200
    assert len(limiter.storage.keys()) == 40
    reader = {"REMOTE_ADDR": "192.0.2.50"}
    assert [client.get(f"/api/search?q=ansikt{i}", environ_base=reader).status_code for i in range(3)] == [
        200,
        200,
        429,
    ]


def test_a_dead_redis_still_limits_from_memory(make_app, redis_server):
    app = make_app(RATELIMIT_ENABLED=True, SEARCH_RATE_LIMIT="2/minute", RATELIMIT_STORAGE_URI=redis_server.url)
    client = app.test_client()
    assert [client.get(f"/api/search?q=bilde{i}").status_code for i in range(3)] == [200, 200, 429]
    redis_server.stop()
    statuses = [client.get(f"/api/search?q=ansikt{i}").status_code for i in range(4)]
    assert 429 in statuses and set(statuses) <= {200, 429}
    assert limiter._fallback_storage.keys()
