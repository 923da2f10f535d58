"""Headers, request ids, access logs and metrics on every response, cache hits included."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from helpers import PROJECT, write

from app.observability.logs import configure_logging
from app.observability.recorder import RECORDER
from bench.servers import free_port

PAGE = "/docs.php?doc=what-is-ip-adapter"


def responses(client):
    """One response of each kind: miss, cache hit, 304, index, 404, 400, 405, static, health."""
    first = client.get(PAGE)
    yield "page (miss)", first
    yield "page (cache hit)", client.get(PAGE)
    yield "304", client.get(PAGE, headers={"If-None-Match": first.headers["ETag"]})
    yield "index", client.get("/docs.php")
    yield "404", client.get("/docs.php?doc=finnes-ikke")
    yield "400", client.get("/docs.php?doc=../etc/passwd")
    yield "405", client.post(PAGE)
    yield "redirect", client.get("/")
    with client.get("/static/css/help.css") as static:
        yield "static", static
    yield "healthz", client.get("/healthz")
    yield "metrics", client.get("/metrics")


def test_every_response_carries_the_security_headers(client):
    for kind, response in responses(client):
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, kind
        # Scripts from this site only (static/js/suggest.js), never inline, eval or another host.
        assert "script-src 'self';" in csp and "connect-src 'self';" in csp, kind
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp.split("frame-ancestors")[0], (
            kind
        )
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", kind
        assert "camera=()" in headers["Permissions-Policy"], kind
        assert "Strict-Transport-Security" not in headers, kind
        assert re.fullmatch(r"[0-9a-f]{24}", headers["X-Request-ID"]), kind


def test_frame_ancestors_and_hsts_follow_the_settings(make_app):
    app = make_app(FRAME_ANCESTORS="'self' https://app.avatarify.example", HSTS_SECONDS="31536000")
    client = app.test_client()
    client.get(PAGE)
    for response in (client.get(PAGE), client.get("/docs.php?doc=nope")):
        assert "frame-ancestors 'self' https://app.avatarify.example" in response.headers["Content-Security-Policy"]
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize(
    "given, echoed",
    [
        ("abc-123", True),
        ("0f8fad5b-d9cb-469f-a165-70867728950e", True),
        ("req.42:edge", True),
        ("", False),
        ("has space", False),
        ('quote"d', False),
        ("x" * 129, False),
        ("<script>", False),
    ],
)
def test_request_id_is_echoed_only_when_safe(client, given, echoed):
    for _ in range(2):  # the second is a cache hit
        got = client.get(PAGE, headers={"X-Request-ID": given}).headers["X-Request-ID"]
        assert (got == given) is echoed
        assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", got)


def clear(capfd) -> None:
    """Forget what earlier requests logged, buffered lines included."""
    RECORDER.flush()
    capfd.readouterr()


def log_lines(capfd) -> list[dict]:
    RECORDER.flush()
    return [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]


def test_one_json_access_line_per_request(client, capfd):
    clear(capfd)
    first = client.get(PAGE, headers={"X-Request-ID": "first"})
    client.get(PAGE, headers={"X-Request-ID": "second"})
    client.get(PAGE, headers={"X-Request-ID": "third", "If-None-Match": first.headers["ETag"]})
    client.get("/docs.php?doc=nope", headers={"X-Request-ID": "fourth"})
    client.get("/healthz")
    client.get("/readyz")
    lines = [line for line in log_lines(capfd) if line.get("event") == "request"]
    assert [(line["request_id"], line["status"], line["cache"]) for line in lines] == [
        ("first", 200, "miss"),
        ("second", 200, "hit"),
        ("third", 304, "hit"),
        ("fourth", 404, "none"),
    ]
    for line in lines:
        assert line["method"] == "GET" and line["path"] == "/docs.php"
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["time"].endswith("Z")


def test_other_spellings_of_a_cached_page_are_logged_as_hits(client, capfd):
    clear(capfd)
    client.get(PAGE)
    client.get(PAGE + "&utm_source=app")  # through Flask, answered from the same cached page
    client.get(PAGE + "&embed=1")  # another variant: rendered, so a miss
    lines = [line for line in log_lines(capfd) if line.get("event") == "request"]
    assert [line["cache"] for line in lines] == ["miss", "hit", "miss"]


def test_access_lines_keep_each_query_apart_and_escaped(client, capfd):
    queries = ['doc=a"b', 'doc=x\n{"forged":1}', "doc=%C3%A6%C3%B8", "doc=what-is-ip-adapter"]
    clear(capfd)
    for _ in range(2):  # the second round repeats each request: its lines must not mix up
        for query in queries:
            client.get("/docs.php", environ_overrides={"QUERY_STRING": query})
    lines = [line for line in log_lines(capfd) if line.get("event") == "request"]
    # A page's name is redacted as a search is, and so written again when that changes it:
    # its control characters go (the line stays one line either way).
    logged = ['doc=a"b', "doc=x%7B%22forged%22%3A1%7D", "doc=%C3%A6%C3%B8", "doc=what-is-ip-adapter"]
    assert [line["query"] for line in lines] == logged * 2
    assert [line["status"] for line in lines] == [400, 400, 400, 200] * 2
    assert len({line["request_id"] for line in lines}) == 8


def test_text_log_format(make_app, capfd):
    app = make_app(LOG_FORMAT="text")
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])  # as wsgi.py does
    client = app.test_client()
    clear(capfd)
    client.get(PAGE, headers={"X-Request-ID": "plain"})
    RECORDER.flush()
    out = capfd.readouterr().out
    assert "request_id=plain" in out and "status=200" in out


def test_quiet_log_level_drops_access_lines(make_app, capfd):
    app = make_app(LOG_LEVEL="WARNING")
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])  # as wsgi.py does
    client = app.test_client()
    clear(capfd)
    client.get(PAGE)
    RECORDER.flush()
    assert capfd.readouterr().out == ""


def test_errors_are_logged_with_a_stack_trace_and_answered_in_the_layout(make_app, capfd):
    app = make_app(TESTING=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    clear(capfd)
    response = app.test_client().get("/boom", headers={"X-Request-ID": "broken-1"})
    assert response.status_code == 500
    assert "Noe gikk galt" in response.text and "kaboom" not in response.text
    assert "Traceback" not in response.text
    lines = log_lines(capfd)
    error = next(line for line in lines if line["level"] == "error")
    assert "Traceback" in error["error"] and "RuntimeError: kaboom" in error["error"]
    assert error["request_id"] == "broken-1"
    assert any(line.get("event") == "request" and line["status"] == 500 for line in lines)


# pytest's own hook, which ours still calls, makes the exception a warning; here it is expected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_exception_no_thread_caught_is_a_json_line_not_a_traceback_on_stderr(make_app, capfd):
    import threading

    app = make_app()
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])  # as wsgi.py does
    clear(capfd)

    def expire():
        raise KeyError("LIMITER/a/b/1/second")  # as limits' in-memory store's timer raised it

    worker = threading.Thread(target=expire, name="expiry")
    worker.start()
    worker.join()
    captured = capfd.readouterr()
    assert captured.err == ""
    (line,) = [json.loads(text) for text in captured.out.splitlines()]
    assert line["level"] == "error" and line["message"] == "uncaught exception in thread expiry"
    assert "KeyError: 'LIMITER/a/b/1/second'" in line["error"]


def test_debug_mode_cannot_be_switched_on(make_app, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")  # harmless outside `flask run`: make check, cron
    assert make_app(DEBUG=True).debug is False


@pytest.mark.parametrize("args", [["--debug", "run"], ["run", "--debugger", "--no-reload"], ["run"]])
def test_flask_run_stops_before_serving(docs_dir, tmp_path, args):
    """`flask run` is werkzeug's development server: it logs every client's address, and with
    --debug or --debugger wraps any app in a debugger that runs code a browser sends. It
    exits with one line before a port opens."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args, "--port", str(free_port())],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DOCS_DIR": str(docs_dir), "DATABASE_URL": f"sqlite:///{tmp_path}/feedback.db"},
    )
    assert result.returncode == 2 and "flask run is not this app's server" in result.stderr
    assert "Debugger is active" not in result.stderr + result.stdout and "Running on" not in result.stderr


def metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}{{{wanted}}} ([\d.e+]+)$" if labels else rf"^{name} ([\d.e+]+)$"
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_requests_latency_and_cache(client):
    before = client.get("/metrics").text
    first = client.get(PAGE)
    client.get(PAGE)
    client.get(PAGE, headers={"If-None-Match": first.headers["ETag"]})
    client.get("/docs.php?doc=nope")
    after = client.get("/metrics")
    assert after.headers["Content-Type"].startswith("text/plain")
    text = after.text

    def grew(name, **labels):
        return metric(text, name, **labels) - metric(before, name, **labels)

    assert grew("help_requests_total", route="help.page", status="200") == 2
    assert grew("help_requests_total", route="help.page", status="304") == 1
    assert grew("help_requests_total", route="help.page", status="404") == 1
    assert grew("help_request_duration_seconds_count", route="help.page") == 4
    assert grew("help_cache_requests_total", layer="response", result="hit") == 2
    assert grew("help_cache_requests_total", layer="response", result="miss") >= 1
    assert metric(text, "help_pages_loaded") == 6


def test_health_endpoints(client):
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "pages": 6, "cache": "SimpleCache"}
    assert ready.headers["Cache-Control"] == "no-store"


def test_readyz_names_the_files_that_failed_to_load_and_stays_ready_while_a_page_loads(docs_dir, make_app):
    write(docs_dir, "odelagt", "---\nupdated: 2026-02-30\n---\n# Ødelagt\n")
    (docs_dir / "en").mkdir(exist_ok=True)
    (docs_dir / "en" / "broken.md").write_bytes(b"\xff\xfe not utf-8")
    from prometheus_client import REGISTRY

    before = REGISTRY.get_sample_value("help_document_errors_total", {"stage": "load"}) or 0
    client = make_app().test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"
    assert ready.json["failed_to_load"] == ["en/broken.md", "odelagt.md"]
    assert metric(client.get("/metrics").text, "help_document_errors_total", stage="load") == before + 2


def test_readyz_is_503_when_no_page_loads(tmp_path, make_app):
    only = tmp_path / "only-broken"
    only.mkdir()
    write(only, "odelagt", "---\nupdated: 2026-02-30\n---\n# Ødelagt\n")
    response = make_app(DOCS_DIR=str(only)).test_client().get("/readyz")
    assert response.status_code == 503 and response.json["failed_to_load"] == ["odelagt.md"]


def test_readyz_is_503_without_documents(make_app, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    response = make_app(DOCS_DIR=str(empty)).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert "no documents" in response.json["reasons"][0]


def test_buffered_lines_are_written_within_the_delay_when_idle(client, capfd):
    clear(capfd)
    client.get(PAGE, headers={"X-Request-ID": "idle-1"})
    deadline = time.monotonic() + 2
    out = ""
    while "idle-1" not in out and time.monotonic() < deadline:
        time.sleep(0.05)
        out += capfd.readouterr().out
    assert '"request_id":"idle-1"' in out


def test_many_lines_come_out_whole_and_in_order(client, capfd):
    clear(capfd)
    for i in range(300):
        client.get(PAGE, headers={"X-Request-ID": f"n{i}"})
    ids = [line["request_id"] for line in log_lines(capfd) if line.get("event") == "request"]
    assert ids == [f"n{i}" for i in range(300)]


def test_long_paths_and_queries_are_cut_in_access_lines():
    from app.observability.recorder import MAX_LOGGED_CHARS, Recorder

    recorder = Recorder()
    path, query = "/" + "p" * 40_000, "q=" + "å" * 40_000
    recorder.record("404", 0.0, "unmatched", None, "GET", path, query, "id1")
    record = recorder._records.pop()
    assert len(record[6]) < MAX_LOGGED_CHARS + 30 and record[6].endswith("[40001 chars]")
    assert len(record[7]) < MAX_LOGGED_CHARS + 30


def test_header_memos_keep_only_the_start_of_a_header():
    from app import languages

    languages._language_from_header.cache_clear()
    for i in range(300):
        assert languages.language_from_header("en," + "x" * 400_000 + str(i)) == "en"
    info = languages._language_from_header.cache_info()
    assert info.currsize == 1  # 300 huge headers with the same start: one short entry


def test_what_readers_search_for_is_redacted_in_the_access_log(client, capfd):
    clear(capfd)
    client.get("/docs.php?q=kari.hansen%40example.no+fnr+01019012345&lang=nb")
    client.get("/api/search?q=ring+91+%2F+23+%2F+45+%2F+67")
    client.get("/docs.php?doc=instantid-intro&freq=01019012345")  # only what readers type is changed
    client.get("/docs.php?doc=ring-91234567")  # a made-up link, redacted as the insights redact it
    client.get("/go/error.01019012345")
    lines = [line for line in log_lines(capfd) if line.get("event") == "request"]
    logged = " ".join(line["query"] + line["path"] for line in lines)
    assert "kari" not in logged and "01019012345" not in logged.replace("freq=01019012345", "")
    assert "91+%2F+23" not in logged and "91234567" not in logged
    assert "%5Be-post%5D" in lines[0]["query"] and "%5Btelefon%5D" in lines[1]["query"]
    assert lines[2]["query"] == "doc=instantid-intro&freq=01019012345"
    assert lines[3]["query"] == "doc=ring-%5Btelefon%5D" and lines[4]["path"] == "/go/error.[telefon]"


def test_an_error_is_written_once_and_a_failed_vote_without_what_it_held(tmp_path, capfd, monkeypatch):
    import logging

    from helpers import PROJECT

    from app import create_app
    from app.readers import database
    from app.readers.database import upgrade_database

    logging.getLogger().handlers[:] = []  # as a worker starts: nothing configured yet (wsgi.py)
    app = create_app(
        {"DOCS_DIR": str(PROJECT / "docs"), "RATELIMIT_ENABLED": False, "DATABASE_URL": f"sqlite:///{tmp_path}/f.db"}
    )
    app.logger.info("made")  # Flask gives its logger a handler of its own here, if nothing else has one
    configure_logging("info", "json")
    upgrade_database(app)
    monkeypatch.setattr(database, "SQLITE_BUSY_MS", 50)
    with app.app_context():
        database.db.engine.dispose()
    holder = __import__("sqlite3").connect(tmp_path / "f.db")
    holder.execute("BEGIN EXCLUSIVE")
    clear(capfd)
    try:
        response = app.test_client().post(
            "/api/feedback", json={"slug": "instantid-intro", "helpful": False, "comment": "Ring meg på 91234567, Kari"}
        )
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    RECORDER.flush()
    captured = capfd.readouterr()
    assert captured.err == ""  # no second, plain copy of each error on stderr
    out = captured.out
    assert "91234567" not in out and "Kari" not in out  # never the values a statement held
    assert len([line for line in out.splitlines() if '"level": "warning"' in line or '"level": "error"' in line]) <= 2
    assert len(out) < 2000, out


@pytest.mark.parametrize(
    "query",
    [
        "q=kari%EF%BC%A0example.no",
        "q=91%E2%80%8B23%E2%80%8B45%E2%80%8B67",
        "%71=kari%40example.no",
        "q=kari+snabel-a+example.no",
    ],
)
def test_the_access_log_redacts_what_the_insights_redact(client, capfd, query):
    clear(capfd)
    client.get("/api/search", environ_overrides={"QUERY_STRING": query})
    [line] = [line for line in log_lines(capfd) if line.get("event") == "request"]
    assert "kari" not in line["query"] and "91" not in line["query"]


def test_redacting_takes_time_in_proportion_to_the_text():
    import time

    from app.privacy import redacted

    def slowest(length: int) -> float:
        worst = 0.0
        for unit in ("(at)", "[at]", "a", "@", "1 ", "a at ", "a.b", "x(at)", "a (at) ", "a@", "(a", "a at b dot "):
            text = (unit * length)[:length]
            started = time.perf_counter()
            for _ in range(3):
                redacted(text)
            worst = max(worst, time.perf_counter() - started)
        return worst

    slowest(512)  # warm
    # Linear: 8 times the text, about 8 times the time (a pattern that backtracks took 64 and
    # more: "(at)" 128 times took 235 ms).
    assert slowest(4096) < 24 * slowest(512)
