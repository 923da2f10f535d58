"""Load and faults against the production server, on loopback: 60 s of mixed traffic at 64
connections with pages rewritten under it, then a worker killed mid-load."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from helpers import PROJECT

from bench.servers import get, help_server, rss_mb, worker_pids, wrk_script

# wrk against the production server.
pytestmark = pytest.mark.server

SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))


def mixed_load(base: str, seconds: int) -> dict:
    """The mixed load of bench/mixed.lua on 64 connections: its JSON summary."""
    output = wrk_script(base, "mixed.lua", seconds=seconds, connections=64, timeout="5s")
    return json.loads(output.strip().splitlines()[-1])


def version(letter: str) -> str:
    """A page whose every part names its version, so a torn mix of two shows."""
    return (
        f"# Versjon {letter}\n\n"
        + "".join(f"Avsnitt {i} i versjon {letter}.\n\n" for i in range(200))
        + f"Slutt på versjon {letter}.\n"
    )


class Rewriter(threading.Thread):
    """Rewrites a page again and again, atomically and in place, while a reader checks every answer."""

    def __init__(self, docs: Path, base: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.path, self.base, self.stop = docs / "omskrevet.md", base, stop
        self.rewrites, self.reads, self.problems, self.seen = 0, 0, [], set()

    def run(self):
        reader = threading.Thread(target=self.read, daemon=True)
        reader.start()
        letters = "AB"
        while not self.stop.is_set():
            letter = letters[self.rewrites % 2]
            if self.rewrites % 4 < 2:  # atomically: a new file renamed over the old one
                temporary = self.path.with_suffix(".tmp")
                temporary.write_text(version(letter), encoding="utf-8")
                os.replace(temporary, self.path)
            else:  # in place: truncate, then write in two pieces with a pause between
                text = version(letter)
                with open(self.path, "w", encoding="utf-8") as handle:
                    handle.write(text[: len(text) // 2])
                    handle.flush()
                    time.sleep(0.01)
                    handle.write(text[len(text) // 2 :])
            self.rewrites += 1
            time.sleep(0.4)
        reader.join()

    def read(self):
        while not self.stop.is_set():
            status, _, body = get(f"{self.base}/docs.php?doc=omskrevet&lang=nb")
            self.reads += 1
            text = body.decode()
            found = set(re.findall(r"versjon ([AB])", text, re.I))
            complete = "Avsnitt 199" in text and "Slutt på versjon" in text
            if status != 200 or len(found) != 1 or not complete:
                self.problems.append((status, sorted(found), complete))
            self.seen |= found
            time.sleep(0.02)


def test_mixed_load_with_rewrites_and_a_killed_worker(tmp_path, capsys):
    docs = tmp_path / "docs"
    shutil.copytree(PROJECT / "docs", docs)
    (docs / "omskrevet.md").write_text(version("A"), encoding="utf-8")
    time.sleep(0.3)
    # One address sends all of this, searches included: limits and work slots (tests/test_limits.py)
    # would answer much of it with 429 and 503 by design.
    with help_server(docs, RATELIMIT_ENABLED="false", EXPENSIVE_WORK_SLOTS="8") as (base, process):
        mixed_load(base, 5)  # warm up
        before = rss_mb(process.pid)
        stop = threading.Event()
        rewriter = Rewriter(docs, base, stop)
        rewriter.start()
        result = mixed_load(base, SECONDS)
        stop.set()
        rewriter.join(30)
        after = rss_mb(process.pid)

        assert result["server_errors"] == 0 and result["other"] == 0
        assert result["connect"] == result["read"] == result["write"] == result["timeout"] == 0
        assert result["requests"] > 1000 * SECONDS
        assert rewriter.problems == [] and rewriter.seen == {"A", "B"}
        assert rewriter.rewrites >= SECONDS  # both kinds of rewrite, many times
        assert after - before < 20, f"RSS grew from {before:.0f} MB to {after:.0f} MB"

        # A worker killed mid-load is replaced; what the kill costs is counted exactly.
        old = worker_pids(process.pid)
        killer = threading.Timer(3, lambda: os.kill(old[0], signal.SIGKILL))
        killer.start()
        faulted = mixed_load(base, 12)
        killer.join()
        replaced = worker_pids(process.pid)
        assert len(replaced) == len(old) and old[0] not in replaced
        assert faulted["server_errors"] == 0
        assert get(f"{base}/docs.php?doc=instantid-intro")[0] == 200
    with capsys.disabled():
        print(
            f"\nload: {result['requests']:,} requests in {SECONDS} s at 64 connections, "
            f"{result['ok']:,} 2xx/3xx, {result['client_errors']:,} 4xx (unknown and hostile slugs), "
            f"0 5xx, 0 socket errors, p99 {result['p99_ms']:.1f} ms; RSS {before:.0f} → {after:.0f} MB; "
            f"{rewriter.rewrites} rewrites, {rewriter.reads} checked reads, none torn.\n"
            f"worker killed: {faulted['requests']:,} requests in 12 s, 5xx {faulted['server_errors']}, "
            f"socket errors: connect {faulted['connect']}, read {faulted['read']}, write {faulted['write']}, "
            f"timeout {faulted['timeout']}."
        )
