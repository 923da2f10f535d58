"""Reader feedback under load: posts per second to the production server, and whether every
acknowledged vote is in the database exactly once when two server processes write at once."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.servers import CONNECTIONS, LUA, help_server, wrk

SECONDS = 10


def measure(docs: Path, workdir: Path, postgres_url: str | None = None) -> list[dict]:
    """Posts per second, one server and two sharing a database, on SQLite (and PostgreSQL)."""
    rows = []
    databases = [("SQLite", f"sqlite:///{workdir}/feedback-{{}}.db")]
    if postgres_url:
        databases.append(("PostgreSQL", postgres_url))
    for name, url in databases:
        for servers in (1, 2):
            target = url.format(servers)
            clear(target)
            rows.append({"database": name, "servers": servers, **posts(docs, target, servers)})
    return rows


def clear(url: str) -> None:
    """No votes from an earlier run (the PostgreSQL database is shared by the runs)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.has_table(connection, "feedback_votes"):
            connection.execute(text("DELETE FROM feedback_votes"))
    engine.dispose()


def posts(docs: Path, url: str, servers: int) -> dict:
    """wrk posting new readers' votes to `servers` server processes at once, then a count of the rows."""
    # Two replicas: they share a reader key, as they must (README, READER_KEY).
    env = {"DATABASE_URL": url, "RATELIMIT_ENABLED": "false", "READER_KEY": "k" * 32}
    with help_server(docs, log=False, **env) as (first, _), help_server(docs, log=False, **env) as (second, _):
        bases = [first, second][:servers]
        for base in bases:  # the database is migrated, and today's salt made, before the clock starts
            subprocess.run(
                [
                    "curl",
                    "-s",
                    "-o",
                    "/dev/null",
                    "-X",
                    "POST",
                    "-H",
                    "Sec-Fetch-Site: same-origin",
                    "-d",
                    "helpful=no",
                    f"{base}/tilbakemelding?doc=instantid-intro",
                ],
                check=True,
            )
        with ThreadPoolExecutor(servers) as pool:
            results = list(pool.map(lambda base: run_wrk(base, CONNECTIONS // servers), bases))
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT count(*), count(DISTINCT reader) FROM feedback_votes WHERE slug = 'what-is-ip-adapter'")
        ).one()
    engine.dispose()
    acknowledged = sum(r["acknowledged"] for r in results)
    return {
        "rps": sum(r["rps"] for r in results),
        "p99": max(r["p99"] for r in results),
        "acknowledged": acknowledged,
        "errors": sum(r["errors"] for r in results),
        "stored": stored[0],
        "distinct": stored[1],
    }


def run_wrk(base: str, connections: int) -> dict:
    """One wrk run of SECONDS, with no warm-up (every request is a vote); what was acknowledged (303)."""
    result = wrk(
        base,
        SECONDS,
        script=LUA / "feedback_posts.lua",
        connections=connections,
        warm_up=False,
        env={"READER_PREFIX": base.rsplit(":", 1)[1]},
    )
    return {
        **result,
        "acknowledged": result["requests"] - result["refused"],
        "errors": result["refused"] + result["socket_errors"],
    }
