"""Rate-limit counters in memory: limits' MemoryStorage against ours (app/guards/counters.py)
when a flood from many networks has left many counters behind.

Usage: python -m bench.counters

For each number of counters held, the CPU time and wall time of 2,000 counts a millisecond
apart (requests arriving), in one process: limits' store expires its counters with a timer
thread that reads them all every 10 ms. Then the time of a count from a new client once
MAX_COUNTERS are held (ours drops one to make room; limits' keeps it), and the memory each
store holds per counter.
"""

from __future__ import annotations

import gc
import secrets
import time
import tracemalloc

from limits.storage import MemoryStorage

from app.guards.counters import MAX_COUNTERS, BoundedMemoryStorage

HELD = (0, 10_000, 100_000)
COUNTS = 2_000


def keys(n: int) -> list[str]:
    """Keys as Flask-Limiter makes them: a client's keyed hash, the scope and the limit."""
    return [f"LIMITER/{secrets.token_hex(12)}/search/60/10/second" for _ in range(n)]


def cost(store, held: int) -> tuple[float, float]:
    """CPU and wall seconds of COUNTS counts with `held` other counters in `store`."""
    for key in keys(held):
        store.incr(key, 3600)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(COUNTS):
        store.incr("LIMITER/reader/search/60/10/second", 10)
        time.sleep(0.001)
    return time.process_time() - cpu, time.perf_counter() - wall


def new_client_us(store, counts: int = 200_000) -> float:
    """Microseconds a count of a new client takes once MAX_COUNTERS are held (the mean of `counts`)."""
    for key in keys(MAX_COUNTERS):
        store.incr(key, 3600)
    names = keys(counts)
    started = time.perf_counter()
    for key in names:
        store.incr(key, 3600)
    return (time.perf_counter() - started) / counts * 1e6


def bytes_per_counter(make, n: int = 50_000) -> float:
    """Memory a store holds for each of `n` counters."""
    names = keys(n)
    tracemalloc.start()
    store = make()
    before = tracemalloc.get_traced_memory()[0]
    for key in names:
        store.incr(key, 3600)
    size = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    store.reset()
    return size / n


def main() -> None:
    stores = {"limits' MemoryStorage": MemoryStorage, "BoundedMemoryStorage": BoundedMemoryStorage}
    print(f"| other counters made | {' | '.join(f'{name}: CPU / wall (s)' for name in stores)} |")
    print(f"| ---: | {' | '.join('---:' for _ in stores)} |")
    for held in HELD:
        cells = []
        for make in stores.values():
            store = make()
            cpu, wall = cost(store, held)
            store.reset()
            cells.append(f"{cpu:.2f} / {wall:.2f}")
        print(f"| {held:,} | {' | '.join(cells)} |")
    for name, make in stores.items():
        store = make()
        print(f"{name}: a new client's count with {MAX_COUNTERS:,} held: {new_client_us(store):.1f} µs")
        store.reset()
        print(f"{name}: {bytes_per_counter(make):.0f} bytes a counter (keys included)")


if __name__ == "__main__":
    main()
