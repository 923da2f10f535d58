"""Hostile input over real HTTP: path traversal strings sent raw, and fuzzed queries, headers
and paths (hypothesis) against the production server. Never a 5xx, never a file from
outside docs/, never the input reflected unescaped."""

from __future__ import annotations

import functools
import http.client
import re
import shutil
from urllib.parse import quote

import pytest
from helpers import PROJECT, corpus_payloads
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.servers import help_server

# Raw HTTP against the production server.
pytestmark = pytest.mark.server

# Text that must never appear in an answer: other files of the machine and of the project.
SECRETS = re.compile(rb"root:x?:0:0|\[boot loader\]|class Config\b|def create_app|PRIVATE KEY|GRANIAN_")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    docs = tmp_path_factory.mktemp("hostile") / "docs"
    shutil.copytree(PROJECT / "docs", docs)
    with help_server(docs) as (base, _):
        yield base.removeprefix("http://")


def send(host: str, target: str, headers: dict | None = None, method: str = "GET") -> tuple[int, bytes]:
    """One request with `target` sent as is (only bytes HTTP cannot carry are escaped)."""
    connection = http.client.HTTPConnection(host, timeout=20)
    try:
        connection.putrequest(method, wire_safe(target), skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wire_safe(target: str) -> str:
    """Escape only what cannot be sent in a request line: spaces, controls, non-ASCII."""
    return "".join(c if 0x21 <= ord(c) < 0x7F else quote(c, safe="") for c in target)


# Answers to ordinary requests: text found in them (such as "</") proves no reflection.
ORDINARY_TARGETS = (
    "/docs.php?doc=instantid-intro",
    "/docs.php",
    "/docs.php?q=bilde",
    "/docs.php?doc=finnes-ikke",
    "/api/docs",
    "/healthz",
    "/finnes-ikke",
)


@functools.cache
def ordinary(host: str) -> bytes:
    return b"\n".join(send(host, target)[1] for target in ORDINARY_TARGETS)


def assert_safe(status: int, body: bytes, sent: str, host: str) -> None:
    assert status < 500, (status, sent)
    assert not SECRETS.search(body), sent
    # Markup sent in must come back escaped, if at all.
    if re.search(r"<[a-zA-Z/!]", sent) and sent.encode() not in ordinary(host):
        assert sent.encode() not in body, sent


@pytest.mark.parametrize("payload", corpus_payloads("traversal.jsonl"))
def test_traversal_corpus_sent_raw(server, payload):
    for target in (
        f"/docs.php?doc={payload}",
        f"/{payload}",
        f"/static/{payload}",
        f"/api/docs/{payload}",
        f"/go/{payload}",
    ):
        status, body = send(server, target)
        assert status in (301, 308, 400, 404, 405, 429), (status, target)
        assert_safe(status, body, target, server)


OWN_TRAVERSAL = [
    "../../../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/app/config.py",
    "....//....//etc/passwd",
    "..\\..\\windows\\win.ini",
    "%c0%ae%c0%ae/etc/passwd",
    "/etc/passwd%00.md",
    "docs/../app/config",
    "%252e%252e%252f",
    "..;/app/config.py",
]


@pytest.mark.parametrize("payload", OWN_TRAVERSAL)
def test_own_traversal_strings(server, payload):
    for target in (
        f"/docs.php?doc={payload}",
        f"/static/{payload}",
        f"/static/css/{payload}",
        f"/api/docs/{payload}",
        f"/go/{payload}",
    ):
        status, body = send(server, target)
        assert status in (400, 404, 308), (status, target)
        assert_safe(status, body, target, server)


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=200
)
fuzz = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@fuzz
@given(
    name=st.sampled_from(["doc", "q", "lang", "embed", "theme", "platform", "app_version", "x", "doc[]", ""]),
    value=text,
    path=st.sampled_from(
        ["/docs.php", "/api/docs", "/api/search", "/", "/sitemap.xml", "/go/screen.x", "/api/contexts"]
    ),
)
def test_fuzzed_query_strings(server, name, value, path):
    target = f"{path}?{quote(name)}={quote(value, safe='/:*<>')}"
    status, body = send(server, target)
    assert_safe(status, body, value, server)


@fuzz
@given(query=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=200))
def test_fuzzed_raw_query_bytes(server, query):
    status, body = send(server, f"/docs.php?{query}")
    assert_safe(status, body, query, server)


@fuzz
@given(
    header=st.sampled_from(
        [
            "X-Request-ID",
            "Accept-Language",
            "Accept-Encoding",
            "If-None-Match",
            "If-Modified-Since",
            "Origin",
            "Host",
            "Cookie",
            "Range",
        ]
    ),
    value=header_text,
    url=st.sampled_from(
        ["/docs.php?doc=instantid-intro", "/docs.php", "/api/docs", "/docs.php?doc=finnes-ikke", "/healthz"]
    ),
)
def test_fuzzed_headers(server, header, value, url):
    status, body = send(server, url, {header: value.encode("latin-1").decode("latin-1")})
    assert_safe(status, body, value, server)


@fuzz
@given(segments=st.lists(text, min_size=1, max_size=4))
def test_fuzzed_paths(server, segments):
    target = "/" + "/".join(quote(s, safe="<>.;%") for s in segments)
    status, body = send(server, target)
    assert_safe(status, body, "/".join(segments), server)


@fuzz
@given(key=text)
def test_fuzzed_context_keys(server, key):
    target = f"/go/{quote(key, safe='<>.;%/')}?platform={quote(key)}&app_version={quote(key)}"
    status, body = send(server, target)
    assert_safe(status, body, key, server)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "TRACE", "PROPFIND"])
def test_other_methods(server, method):
    status, body = send(server, "/docs.php?doc=instantid-intro", method=method)
    assert status in (405, 501, 400)
    assert_safe(status, body, method, server)


@pytest.mark.parametrize(
    "target",
    [
        "/api//docs",
        "//docs.php?doc=instantid-intro",
        "/api//docs/instantid-intro",
        "//",
        "/docs.php//",
        "http://evil.example/?doc=x",
        "/./docs.php",
    ],
)
def test_no_answer_carries_the_host_a_request_names(server, target):
    connection = http.client.HTTPConnection(server, timeout=20)
    try:
        connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", "evil.example")
        connection.endheaders()
        response = connection.getresponse()
        body, headers = response.read(), str(response.headers)
    finally:
        connection.close()
    assert response.status < 500, target
    assert b"evil.example" not in body and "evil.example" not in headers, (target, response.status)


def test_a_static_files_if_match_that_fails_is_a_412_without_the_file(client):
    with client.get("/static/css/help.css") as whole:
        etag, data = whole.headers["ETag"], whole.data
    failed = client.get("/static/css/help.css", headers={"If-Match": '"nope"'})
    assert (
        failed.status_code == 412 and failed.mimetype == "text/plain" and failed.headers["Cache-Control"] == "no-store"
    )
    assert data[:40] not in failed.data and len(failed.data) < 100
    with client.get("/static/css/help.css", headers={"If-Match": etag}) as same:
        assert same.status_code == 200 and same.data == data
