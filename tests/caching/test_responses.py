"""HTTP caching: ETags, conditional requests, compression and the full-page cache."""

from __future__ import annotations

import gzip
import os
import shutil
import time
from email.utils import formatdate

import brotli
import pytest
from helpers import PROJECT, write

from app.caching import responses as pagecache
from app.content import store

PAGE = "/docs.php?doc=what-is-ip-adapter"
URLS = [PAGE, "/docs.php"]


@pytest.fixture
def flask_calls(app):
    """Counts the requests that reach Flask's routing (cache hits never do)."""
    calls = []
    app.before_request(lambda: calls.append(1))
    return calls


@pytest.mark.parametrize("url", URLS)
def test_strong_etag_and_caching_headers(client, url):
    response = client.get(url)
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert response.headers["Cache-Control"] == "public, max-age=300, stale-while-revalidate=86400"
    assert response.headers["Vary"] == "Accept-Encoding, Accept-Language"
    assert response.headers["Last-Modified"].endswith(" GMT")
    assert int(response.headers["Content-Length"]) == len(response.data)


def test_etag_is_the_same_for_every_replica_and_restart(make_app):
    first = make_app().test_client()
    second = make_app().test_client()
    for url in URLS:
        a, b = first.get(url), second.get(url)
        assert a.headers["ETag"] == b.headers["ETag"] and a.data == b.data
        gz_a = first.get(url, headers={"Accept-Encoding": "gzip"})
        gz_b = second.get(url, headers={"Accept-Encoding": "gzip"})
        assert gz_a.data == gz_b.data and gz_a.headers["ETag"] == gz_b.headers["ETag"]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("warm", [False, True], ids=["through-flask", "cache-hit"])
def test_if_none_match_gives_304_without_body(client, url, warm):
    etag = client.get(url).headers["ETag"]
    if not warm:
        client.application.extensions["response_cache"]._pages.clear()
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert "Content-Length" not in response.headers or response.headers["Content-Length"] == "0"
    assert response.headers["Cache-Control"].startswith("public")


@pytest.mark.parametrize(
    "header, status",
    [
        ("*", 304),
        ('"nope", {etag}', 304),
        ("W/{etag}", 304),
        ('"nope"', 200),
        ('"{bare}-gzip"', 304),
        ("", 200),
    ],
)
def test_if_none_match_forms(client, header, status):
    etag = client.get(PAGE).headers["ETag"]
    header = header.format(etag=etag, bare=etag.strip('"'))
    assert client.get(PAGE, headers={"If-None-Match": header}).status_code == status


def test_if_modified_since(client):
    last_modified = client.get(PAGE).headers["Last-Modified"]
    assert client.get(PAGE, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(PAGE, headers={"If-Modified-Since": formatdate(0, usegmt=True)}).status_code == 200
    for junk in ("yesterday", "Mon, 99 Foo 2024 99:99:99 GMT", "\x00", "9" * 500):
        assert client.get(PAGE, headers={"If-Modified-Since": junk}).status_code == 200


def test_a_page_is_modified_when_a_page_it_shows_is(client, docs_dir, monkeypatch):
    # The IP-Adapter page lists InstantID's title among its related pages: a new title
    # changes it, so a client revalidating by date alone gets it anew. (Dates are whole
    # seconds: the files' times are set, not waited for.)
    monkeypatch.setattr(store, "FULL_RESCAN_SECONDS", 0)
    monkeypatch.setattr(store, "RESCAN_COST_FACTOR", 0)
    monkeypatch.setattr(pagecache, "RECHECK_SECONDS", 0)
    start = time.time() - 1000
    for folder in (docs_dir, docs_dir / "en"):
        os.utime(folder, (start, start))
    before = client.get(PAGE)
    assert "Hva er InstantID?</a>" in before.text
    path = docs_dir / "instantid-intro.md"
    path.write_text(path.read_text(encoding="utf-8").replace("# Hva er InstantID?", "# InstantID forklart"), "utf-8")
    edited = time.time() - 2  # settled, and later than every file before
    os.utime(path, (edited, edited))
    after = client.get(PAGE, headers={"If-Modified-Since": before.headers["Last-Modified"]})
    assert after.status_code == 200 and "InstantID forklart</a>" in after.text
    assert client.get(PAGE, headers={"If-Modified-Since": after.headers["Last-Modified"]}).status_code == 304
    # A page removed (its folder changes): the index lists one page fewer, and is newer too.
    index = client.get("/docs.php")
    (docs_dir / "en" / "what-is-identitynet.md").unlink()
    (docs_dir / "what-is-identitynet.md").unlink()
    os.utime(docs_dir, (edited + 1, edited + 1))
    again = client.get("/docs.php", headers={"If-Modified-Since": index.headers["Last-Modified"]})
    assert again.status_code == 200 and "IdentityNet" not in again.text


def test_a_draft_or_a_dangling_link_changes_no_date(make_app, docs_dir, tmp_path, monkeypatch):
    # A draft is no reader's business; a link in the app's own folders that leads nowhere
    # (an editor's leftover) has no date: neither may stop a page or move its date.
    monkeypatch.setattr(store, "FULL_RESCAN_SECONDS", 0)
    monkeypatch.setattr(store, "RESCAN_COST_FACTOR", 0)
    client = make_app().test_client()
    before = client.get(PAGE).headers["Last-Modified"]
    write(docs_dir, "utkast", "---\ndraft: true\n---\n# Et utkast\n")
    later = time.time() - 1
    os.utime(docs_dir / "utkast.md", (later, later))
    static = tmp_path / "static"
    shutil.copytree(PROJECT / "static", static)
    (static / "gone.svg").symlink_to(tmp_path / "nowhere.svg")
    monkeypatch.setattr(client.application, "static_folder", str(static))
    client.application.extensions["remembered"].clear()
    del client.application.extensions["own_files_changed"]  # read once a process: read again
    response = client.get("/docs.php?doc=instantid-intro")
    assert response.status_code == 200 and client.get(PAGE).headers["Last-Modified"] == before


def test_a_failed_precondition_is_kept_by_no_cache(client):
    for url in ("/api/docs", "/static/css/help.css"):
        with client.get(url, headers={"If-Match": '"garbage"'}) as response:
            assert response.status_code == 412 and response.headers["Cache-Control"] == "no-store", url


@pytest.mark.parametrize("url", [PAGE, "/docs.php?doc=instantid-intro&theme=dark", "/docs.php"])
def test_a_page_holds_to_if_match_and_if_unmodified_since(client, url):
    """RFC 9110 13.2: an If-Match no version of the page meets (compared strongly, with the
    ETag of the encoding sent), or a date the page has changed since, is a 412 with no page,
    whether the cache answers or the view; one that holds is the page."""
    whole = client.get(url, headers={"Accept-Encoding": "gzip"})
    etag, modified = whole.headers["ETag"], whole.headers["Last-Modified"]
    plain = client.get(url, headers={"Accept-Encoding": "identity"}).headers["ETag"]
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    for headers in (
        {"If-Match": '"nope"'},
        {"If-Match": f"W/{etag}"},  # a weak tag never matches strongly
        {"If-Match": plain},  # another encoding's bytes
        {"If-Unmodified-Since": earlier},
        {"If-Match": '"nope"', "If-Unmodified-Since": modified},  # If-Match decides
        {"If-Match": "", "If-Unmodified-Since": earlier},  # a blank If-Match is none
    ):
        for method in (client.get, client.head):
            failed = method(url, headers={"Accept-Encoding": "gzip", **headers})
            assert failed.status_code == 412, (headers, method)
            assert failed.headers["Cache-Control"] == "no-store" and "ETag" not in failed.headers
            assert failed.mimetype == "text/plain" and b"<html" not in failed.data
    for headers in (
        {"If-Match": etag},
        {"If-Match": f'"nope", {etag}'},
        {"If-Match": "*"},
        {"If-Unmodified-Since": modified},
        {"If-Unmodified-Since": "no date at all"},  # ignored
        {"If-Match": " "},  # blank: none, as for the API and static files
        {"If-Match": ","},  # a list of no tags: none
        {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT, Tue, 02 Jan 2001 00:00:00 GMT"},  # two: ignored
        {"If-Match": etag, "If-Unmodified-Since": earlier},  # If-Match decides
    ):
        same = client.get(url, headers={"Accept-Encoding": "gzip", **headers})
        assert same.status_code == 200 and same.data == whole.data, headers


@pytest.mark.parametrize("url", ["/static/css/help.css", "/api/docs"])
def test_static_files_and_the_api_hold_to_rfc_9110s_order_of_preconditions(client, url):
    """werkzeug sends a range before it looks at any precondition, ignores If-Unmodified-Since,
    takes `If-Match: *` for a failure and a matching If-Match for a reason to ignore
    If-None-Match; RFC 9110 (13.2.2) has If-Match, then If-Unmodified-Since, then
    If-None-Match, then If-Modified-Since, and a range only after them all."""
    with client.get(url) as whole:
        etag, modified, data = whole.headers["ETag"], whole.headers.get("Last-Modified"), whole.data
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    expected = [
        ({"If-Match": '"nope"', "Range": "bytes=0-9"}, 412),
        ({"If-Match": "*"}, 200),
        ({"If-Match": "*", "If-None-Match": etag}, 304),
        ({"If-Match": etag, "If-None-Match": etag}, 304),
        ({"If-Match": ","}, 200),  # a list of no tags is no If-Match
        ({"If-None-Match": etag, "Range": "bytes=0-9"}, 304),
        ({"If-Match": etag, "Range": "bytes=0-9"}, 206),
        ({"If-Unmodified-Since": f"{earlier}, {earlier}"}, 200),  # two dates: ignored
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": f"W/{etag}"}, 304),  # compared weakly
    ]
    if url.startswith("/static/"):  # werkzeug refused these ranges (416) before any precondition
        expected += [
            ({"If-Match": '"nope"', "Range": "bytes=999999-"}, 412),
            ({"If-None-Match": etag, "Range": "bytes=0-1,5-6"}, 304),
            ({"Range": "items=0-1"}, 200),  # a unit it does not know: ignored (RFC 9110 14.2)
            ({"Range": "bytes=0-1,5-6"}, 200),  # several ranges: the whole file
            ({"Range": "bytes=abc"}, 200),
            ({"Range": "bytes=999999-"}, 416),  # past the end: unsatisfiable
        ]
    if modified:  # the API has no date to compare
        expected += [
            ({"If-Unmodified-Since": earlier}, 412),
            ({"If-Unmodified-Since": earlier, "Range": "bytes=0-9"}, 412),
            ({"If-Unmodified-Since": modified, "Range": "bytes=0-9"}, 206),
        ]
    for headers, status in expected:
        if status == 206 and url.startswith("/api/"):
            status = 200  # the API sends no ranges
        with client.get(url, headers=headers) as answer:
            assert answer.status_code == status, headers
            assert ("Content-Range" in answer.headers) == (status in (206, 416)), headers
            if status == 200:
                assert answer.data == data, headers
            elif status == 206:
                assert answer.data == data[:10]
            else:
                assert data[:40] not in answer.data and (status == 304) == (answer.data == b""), headers
            if status == 412:
                assert answer.headers["Cache-Control"] == "no-store"


def test_if_none_match_wins_over_if_modified_since(client):
    last_modified = client.get(PAGE).headers["Last-Modified"]
    response = client.get(PAGE, headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "accept, encoding",
    [
        ("gzip", "gzip"),
        ("gzip, deflate, br", "br"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0.5", "br"),
        ("identity", None),
        ("gzip;q=0", None),
        ("*", "br"),
        ("", None),
        ("gzip;q=abc", None),
    ],
)
def test_content_negotiation(client, accept, encoding):
    plain = client.get(PAGE).data
    response = client.get(PAGE, headers={"Accept-Encoding": accept})
    assert response.headers.get("Content-Encoding") == encoding
    assert response.headers["Vary"] == "Accept-Encoding, Accept-Language"
    decode = {"gzip": gzip.decompress, "br": brotli.decompress, None: lambda b: b}[encoding]
    assert decode(response.data) == plain
    assert int(response.headers["Content-Length"]) == len(response.data)
    if encoding:
        assert response.headers["ETag"] != client.get(PAGE).headers["ETag"]


def test_each_encoding_is_compressed_once_per_page_version(client, docs_dir, monkeypatch):
    calls = []
    real = pagecache._compress
    monkeypatch.setattr(pagecache, "_compress", lambda enc, body: calls.append(enc) or real(enc, body))
    for _ in range(5):
        client.get(PAGE, headers={"Accept-Encoding": "gzip"})
        client.get(PAGE, headers={"Accept-Encoding": "br"})
    assert sorted(calls) == ["br", "gzip"]
    write(docs_dir, "what-is-ip-adapter", "# Ny versjon\n\n" + "tekst " * 200)
    client.get(PAGE, headers={"Accept-Encoding": "gzip"})
    assert sorted(calls) == ["br", "gzip", "gzip"]


@pytest.mark.parametrize("url", URLS)
def test_head_matches_get(client, url):
    for accept in ("", "gzip", "br"):
        get = client.get(url, headers={"Accept-Encoding": accept})
        head = client.head(url, headers={"Accept-Encoding": accept})
        assert head.status_code == 200 and head.data == b""
        for name in ("Content-Length", "ETag", "Content-Encoding", "Cache-Control", "Last-Modified"):
            assert head.headers.get(name) == get.headers.get(name), name


def test_cache_hits_skip_flask_and_edits_are_still_seen(client, docs_dir, flask_calls):
    client.get(PAGE)
    assert len(flask_calls) == 1
    client.get(PAGE)
    client.head(PAGE)
    assert len(flask_calls) == 1
    write(docs_dir, "what-is-ip-adapter", "# Endret side\n")
    assert "Endret side" in client.get(PAGE).text
    assert len(flask_calls) == 2


def test_hits_check_the_file_at_most_every_recheck_interval(client, docs_dir, monkeypatch, flask_calls):
    monkeypatch.setattr(pagecache, "RECHECK_SECONDS", 0.5)
    first = client.get(PAGE)
    write(docs_dir, "what-is-ip-adapter", "# Endret side\n")
    # Within the interval the file is not looked at: the old page is still the answer.
    assert client.get(PAGE).data == first.data
    assert len(flask_calls) == 1
    time.sleep(0.6)
    assert "Endret side" in client.get(PAGE).text
    assert len(flask_calls) == 2


def test_removed_page_is_not_served_from_the_cache(client, docs_dir):
    assert client.get(PAGE).status_code == 200
    (docs_dir / "what-is-ip-adapter.md").unlink()
    assert client.get(PAGE).status_code == 404


def test_index_cache_follows_new_pages(client, docs_dir, flask_calls):
    client.get("/docs.php")
    write(docs_dir, "helt-ny", "# Helt ny side\n")
    # The index notices within FULL_RESCAN_SECONDS; a new file changes the folder at once.
    assert "Helt ny side" in client.get("/docs.php").text


def test_other_spellings_of_a_url_share_the_cached_page(client, flask_calls):
    canonical = client.get(PAGE)
    other = client.get(PAGE + "&utm_source=app")
    assert other.headers["ETag"] == canonical.headers["ETag"] and other.data == canonical.data
    assert client.get(PAGE + "&x=1", headers={"If-None-Match": canonical.headers["ETag"]}).status_code == 304


def test_errors_are_not_stored(client):
    for _ in range(3):
        response = client.get("/docs.php?doc=finnes-ikke")
        assert response.status_code == 404
        assert response.headers["Cache-Control"] == "no-store"
        assert "ETag" not in response.headers
    assert client.get("/docs.php?doc=../x").headers["Cache-Control"] == "no-store"


def test_response_cache_is_bounded(docs_dir, make_app):
    for i in range(10):
        write(docs_dir, f"side-{i}", f"# Side {i}\n")
    app = make_app(RESPONSE_CACHE_ENTRIES=3)
    client = app.test_client()
    for i in range(10):
        assert client.get(f"/docs.php?doc=side-{i}").status_code == 200
    assert len(app.extensions["response_cache"]) == 3
    assert "Side 0" in client.get("/docs.php?doc=side-0").text


def test_the_response_cache_is_bounded_in_bytes():
    cache = pagecache.ResponseCache(max_entries=100, max_bytes=10_000)
    for i in range(20):
        cache.page(f"doc=p{i}", lambda: pagecache.CachedPage(b"x" * 3_000, 0, lambda: True))
    assert len(cache) == 3 and cache._bytes == 9_000
    cache.page("doc=huge", lambda: pagecache.CachedPage(b"x" * 20_000, 0, lambda: True))
    assert "doc=huge|" not in cache._pages and cache._bytes <= 10_000
