"""The endpoint: pages, index, redirects, error pages and hostile requests."""

from __future__ import annotations

import re
import shutil

import pytest
from helpers import PROJECT, SEED_PAGE, corpus_payloads, write

from app.caching.fragments import cache

BUNDLED = sorted(p.stem for p in (PROJECT / "docs").glob("*.md"))


@pytest.mark.parametrize("slug", BUNDLED)
def test_every_bundled_page_is_served_in_the_layout(client, slug):
    response = client.get(f"/docs.php?doc={slug}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.text
    assert '<html lang="nb">' in html
    assert re.search(r"<title>[^<]+ – Avatarify-hjelp</title>", html)
    assert re.search(r'<meta name="description" content="[^"]{20,}">', html)
    assert '<a class="brand" href="/docs.php">' in html
    assert re.search(r'<main id="innhold" class="wrap">.*<h1 id="[^"]+">', html, re.S)
    assert 'class="chip chip-s bg-gray-light"' in html


def test_the_six_pages_the_seed_names_exist():
    assert set(BUNDLED) >= {
        "what-is-ip-adapter",
        "what-is-identitynet",
        "instantid-intro",
        "generative-ai-intro",
        "avatarify-intro",
        "generative-ai-terminology",
    }


def test_our_ip_adapter_page_says_what_the_name_means(client):
    html = client.get("/docs.php?doc=what-is-ip-adapter").text
    assert "Image Prompt Adapter" in html
    assert "Tencent AI Lab" in html and "2023" in html
    assert "Identitet-Bevarende" not in html


def test_seed_page_from_a_temporary_docs_folder(tmp_path, make_app):
    docs = tmp_path / "seed-only"
    docs.mkdir()
    shutil.copy(SEED_PAGE, docs / "what-is-ip-adapter.md")
    client = make_app(DOCS_DIR=str(docs)).test_client()
    html = client.get("/docs.php?doc=what-is-ip-adapter").text
    assert "<title>IP-Adapter / Bildeadapter – Avatarify-hjelp</title>" in html
    source = SEED_PAGE.read_text(encoding="utf-8")
    for href, classes in re.findall(r'<a href="([^"]+)" class="([^"]+)">', source):
        assert f'<a href="{href}" class="{classes}">' in html
    for classes in re.findall(r'<(?:i|strong) class="([^"]+)"', source):
        assert f'class="{classes}"' in html


def test_internal_links_resolve_from_the_page_url(client):
    html = client.get("/docs.php?doc=what-is-ip-adapter").text
    for href in re.findall(r'href="(docs\.php\?doc=[^"]+)"', html):
        # Relative to /docs.php the browser asks for /docs.php?doc=...
        assert client.get("/" + href).status_code == 200, href


def test_index_lists_every_page_grouped_and_titled(client):
    response = client.get("/docs.php")
    assert response.status_code == 200
    html = response.text
    headings = re.findall(r'<h2 id="kategori-\d+">([^<]+)</h2>', html)
    assert headings == ["Hjelpeseksjonen", "Terminologi"]
    for slug in BUNDLED:
        assert f'href="/docs.php?doc={slug}"' in html
    assert ">Hva er InstantID?</a>" in html
    help_part, terms_part = html.split('id="kategori-2"')
    assert "doc=avatarify-intro" in help_part and "doc=what-is-identitynet" in terms_part


def test_index_orders_by_front_matter_then_title(client, docs_dir):
    write(docs_dir, "aaa-last", "---\norder: 99\n---\n# Aaa sist\n")
    html = client.get("/docs.php").text
    assert html.index("doc=avatarify-intro") < html.index("doc=aaa-last")


def test_root_leads_to_the_index(client):
    response = client.get("/")
    assert response.status_code == 301
    assert response.headers["Location"] == "/docs.php"


def test_head_has_headers_and_no_body(client):
    get = client.get("/docs.php?doc=instantid-intro")
    head = client.head("/docs.php?doc=instantid-intro")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]


def test_unknown_slug_gets_a_helpful_404_in_the_layout(client):
    response = client.get("/docs.php?doc=finnes-ikke")
    assert response.status_code == 404
    html = response.text
    assert '<html lang="nb">' in html
    assert "Fant ikke siden" in html
    assert 'href="/docs.php"' in html
    assert "doc=avatarify-intro" in html  # a way on: pages that do exist
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_path_and_method(client):
    assert client.get("/wp-admin").status_code == 404
    response = client.post("/docs.php?doc=what-is-ip-adapter")
    assert response.status_code == 405
    assert "Ikke tillatt" in response.text
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    "query",
    [
        "doc=../../etc/passwd",
        "doc=..%2F..%2Fetc%2Fpasswd",
        "doc=%2e%2e%2fapp%2fconfig",
        "doc=%252e%252e%252f",
        "doc=what-is-ip-adapter%00",
        "doc=%00",
        "doc=what-is-ip-adapter.md",
        "doc=docs/what-is-ip-adapter",
        "doc=/etc/passwd",
        "doc=C:%5Cwindows",
        "doc=%C0%AE%C0%AE%2F",
        "doc=What-Is-No-Such-Page",
        "doc=-leading-dash",
        "doc=%20what-is-ip-adapter",
        "doc=what%0Ais",
        "doc=" + "a" * 101,
        "doc=" + "a" * 100_000,
        "doc=%FF%FE",
        "doc=æøå",
        "doc=",
        "doc=what-is-ip-adapter&doc=instantid-intro",
        "doc=a&doc=a",
    ],
)
def test_malformed_slugs_get_400(bundled_client, query):
    response = bundled_client.get(f"/docs.php?{query}")
    assert response.status_code == 400
    assert "Ugyldig adresse" in response.text
    assert "root:" not in response.text


@pytest.mark.parametrize(
    "query, location",
    [
        ("doc=What-Is-IP-Adapter", "/docs.php?doc=what-is-ip-adapter"),
        ("doc=INSTANTID-INTRO&lang=en&embed=1", "/docs.php?doc=instantid-intro&lang=en&embed=1"),
    ],
)
def test_a_slug_in_other_case_redirects_to_the_page(client, query, location):
    response = client.get(f"/docs.php?{query}", headers={"Host": "evil.example"})
    assert response.status_code == 301
    assert response.headers["Location"] == location  # relative: no host from the request
    assert client.get(location).status_code == 200


def test_longest_valid_slug_is_a_plain_404(client):
    assert client.get("/docs.php?doc=" + "a" * 100).status_code == 404


def test_unrelated_parameters_are_ignored(client):
    response = client.get("/docs.php?doc=instantid-intro&utm_source=app&x=%00")
    assert response.status_code == 200


@pytest.mark.parametrize("payload", corpus_payloads("traversal.jsonl"))
def test_traversal_corpus_never_reaches_a_file(bundled_client, payload):
    response = bundled_client.get(f"/docs.php?doc={payload}")
    assert response.status_code in (400, 404)
    assert "root:" not in response.text and "[extensions]" not in response.text


def test_edited_page_is_served_fresh_without_restart(client, docs_dir):
    assert "Hva er InstantID?" in client.get("/docs.php?doc=instantid-intro").text
    write(docs_dir, "instantid-intro", "# Ny tittel\n\nNy tekst.\n")
    html = client.get("/docs.php?doc=instantid-intro").text
    assert "Ny tittel" in html and "Ny tekst." in html
    assert "Ny tittel" in client.get("/docs.php").text


def test_added_and_removed_pages(client, docs_dir):
    assert client.get("/docs.php?doc=ny-side").status_code == 404
    write(docs_dir, "ny-side", "# Ny side\n")
    assert client.get("/docs.php?doc=ny-side").status_code == 200
    (docs_dir / "ny-side.md").unlink()
    assert client.get("/docs.php?doc=ny-side").status_code == 404


def test_rendered_pages_are_cached_in_the_configured_simple_cache(app, client):
    assert app.config["CACHE_TYPE"] == "SimpleCache"
    client.get("/docs.php?doc=instantid-intro")
    with app.app_context():
        keys = list(cache.cache._cache)
    assert any(":instantid-intro:" in key for key in keys)


def test_unknown_slugs_do_not_grow_the_cache(app, client):
    client.get("/docs.php?doc=instantid-intro")
    with app.app_context():
        before = len(cache.cache._cache)
        for i in range(500):
            assert client.get(f"/docs.php?doc=missing-{i}").status_code == 404
        assert len(cache.cache._cache) == before
        assert len(app.extensions["library"].stores["nb"]) == len(BUNDLED)


def test_cache_threshold_bounds_the_cache(docs_dir, make_app):
    for i in range(20):
        write(docs_dir, f"extra-{i}", f"# Ekstra {i}\n")
    app = make_app(CACHE_THRESHOLD=5)
    client = app.test_client()
    for i in range(20):
        assert client.get(f"/docs.php?doc=extra-{i}").status_code == 200
    with app.app_context():
        assert len(cache.cache._cache) <= 6


def test_static_assets_are_served_with_their_licence(client):
    for path in (
        "css/help.css",
        "icons/info.svg",
        "icons/question.svg",
        "icons/favicon.svg",
        "icons/LICENSE-font-awesome.txt",
    ):
        with client.get(f"/static/{path}") as response:
            assert response.status_code == 200, path


def test_no_page_loads_anything_from_another_host(client):
    for url in ["/docs.php", "/docs.php?doc=what-is-ip-adapter", "/docs.php?doc=nope"]:
        html = client.get(url).text
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html.split("<main")[0]), url
    with client.get("/static/css/help.css") as response:
        css = response.text
    assert not re.search(r"url\(\s*[\"']?(?:https?:)?//|@import", css)


# One bad page hurts only itself; no error page is ever empty.


def test_a_page_broken_at_runtime_leaves_everything_else_answering(docs_dir, make_app):
    app = make_app(PUBLIC_BASE_URL="https://hjelp.example")
    client = app.test_client()
    assert client.get("/docs.php?doc=instantid-intro").status_code == 200
    write(docs_dir, "instantid-intro", "---\nupdated: 2026-02-30\n---\n# Ødelagt\n")
    write(docs_dir, "helt-ny", "---\norder: " + "9" * 5000 + "\n---\n# Ny\n")
    for store in app.extensions["library"].stores.values():
        store._scanned_at = 0.5  # as if the full rescan were due
    for url in (
        "/docs.php",
        "/docs.php?q=instantid",
        "/docs.php?doc=finnes-ikke",
        "/api/docs",
        "/api/search?q=bilde",
        "/sitemap.xml",
        "/readyz",
        "/docs.php?doc=what-is-ip-adapter",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert response.data, url
    page = client.get("/docs.php?doc=instantid-intro")
    assert page.status_code == 200 and "Hva er InstantID" in page.text  # the last good version
    # A page that never loaded is there but cannot be shown: the 503 of a page that fails to render.
    assert client.get("/docs.php?doc=helt-ny").status_code == 503
    assert set(app.extensions["library"].stores["nb"].errors) == {"instantid-intro", "helt-ny"}


def test_a_page_broken_at_start_is_the_503_page_of_a_render_failure_and_the_rest_is_served(
    docs_dir, make_app, monkeypatch, caplog
):
    write(docs_dir, "odelagt", "---\nupdated: 2026-02-30\n---\n# Ødelagt\n")
    client = make_app().test_client()  # the app is made: one broken page stops nothing
    assert client.get("/docs.php?doc=what-is-ip-adapter").status_code == 200
    broken = client.get("/docs.php?doc=odelagt")
    assert broken.status_code == 503 and broken.headers["Cache-Control"] == "no-store"
    assert "odelagt.md" in caplog.text and "a day that does not exist" in caplog.text
    from app.web import views

    monkeypatch.setattr(views, "render_markdown", lambda *args: 1 / 0)
    failed_render = client.get("/docs.php?doc=generative-ai-intro")
    assert failed_render.status_code == 503 and broken.data == failed_render.data
    assert client.get("/api/docs/odelagt").status_code == 503
    assert "odelagt" not in client.get("/api/docs").text


def test_an_english_page_broken_at_start_is_answered_as_a_missing_one(docs_dir, make_app, caplog):
    """The reader gets the Norwegian page with its notice rather than an error; ops get the
    log line and /readyz as for any page that fails to load."""
    english = (docs_dir / "en" / "what-is-identitynet.md").read_text(encoding="utf-8")
    write(docs_dir / "en", "what-is-identitynet", english.replace("updated: ", "updated: 2026-02-30\nx: ", 1))
    client = make_app().test_client()
    page = client.get("/docs.php?doc=what-is-identitynet&lang=en")
    assert page.status_code == 200 and '<article class="document" lang="nb"' in page.text
    assert "en/what-is-identitynet.md" in caplog.text
    assert client.get("/api/docs/what-is-identitynet?lang=en").json["lang"] == "nb"
    assert "en/what-is-identitynet.md" in client.get("/readyz").text


def test_readiness_names_no_folder_to_whoever_asks(make_app, tmp_path, caplog):
    empty = tmp_path / "tom-mappe"
    empty.mkdir()
    ready = make_app(DOCS_DIR=str(empty)).test_client().get("/readyz")
    assert ready.status_code == 503 and ready.json["reasons"] == ["no documents in DOCS_DIR"]
    assert "tom-mappe" not in ready.text and "tom-mappe" in caplog.text  # the log says which


def test_strict_start_refuses_a_page_that_fails_to_load(docs_dir, make_app):
    from app.config import ConfigError

    write(docs_dir, "odelagt", "---\nupdated: 2026-02-30\n---\n# Ødelagt\n")
    with pytest.raises(ConfigError, match="odelagt.md"):
        make_app(STRICT_START="true")


def test_a_page_that_fails_to_render_is_a_503_page_not_a_500(client, monkeypatch, caplog):
    from app.web import views

    def broken(*args):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(views, "render_markdown", broken)
    response = client.get("/docs.php?doc=generative-ai-intro")
    assert response.status_code == 503 and "<html" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert any("cannot render page generative-ai-intro" in r.getMessage() for r in caplog.records)


def test_an_error_page_that_fails_still_answers_and_is_logged(client, monkeypatch, caplog):
    from app.web import errors

    def broken(*args):
        raise RuntimeError("the error page broke")

    monkeypatch.setattr(errors, "error_page", broken)
    response = client.get("/docs.php?doc=Bad_Slug")
    assert response.status_code == 500 and b"Noe gikk galt" in response.data
    assert any("error page" in r.getMessage() for r in caplog.records)


def test_an_error_escaping_flask_still_gets_an_answer_and_a_log_line(app, monkeypatch, capfd):
    def broken(environ, start_response):
        raise RuntimeError("boom")

    from app.observability.middleware import Observability

    wrapped = Observability(broken, [("X-Test", "1")])
    statuses = []
    body = wrapped({"PATH_INFO": "/x", "REQUEST_METHOD": "GET"}, lambda s, h, e=None: statuses.append((s, h)))
    assert statuses[0][0].startswith("500") and b"Noe gikk galt" in b"".join(body)
    assert ("X-Test", "1") in statuses[0][1]


# No host from the request in a response; content, not file times, decides a page's bytes.


def test_slash_merging_redirects_are_relative(client):
    response = client.get("/api//docs?lang=en", headers={"Host": "evil.example"})
    assert response.status_code in (301, 308)
    assert response.headers["Location"] == "/api/docs?lang=en"
    assert b"evil.example" not in response.data  # werkzeug's own body named the host


def test_a_new_english_page_adds_the_alternate_link_at_once(client, docs_dir):
    page = "/docs.php?doc=what-is-identitynet"
    (docs_dir / "en" / "what-is-identitynet.md").unlink(missing_ok=True)
    before = client.get(page).text
    assert 'hreflang="en"' not in before.split("</head>")[0]
    write(docs_dir / "en", "what-is-identitynet", "# What is IdentityNet\n\nText.\n")
    after = client.get(page).text
    assert 'hreflang="en" href="/docs.php?doc=what-is-identitynet&amp;lang=en"' in after


def test_headings_with_ampersands_stay_in_the_contents_escaped_once(client, docs_dir):
    write(docs_dir, "tegn", "# Tegn\n\n## Tips & triks\n\nA.\n\n## Før & etter\n\nB.\n\n## Innhold\n\nC.\n")
    html = client.get("/docs.php?doc=tegn").text
    assert html.count('id="innhold"') == 1  # the layout's <main>; the heading got another
    toc = html.split('class="toc"')[1].split("</nav>")[0]
    assert "Tips &amp; triks" in toc and "&amp;amp;" not in toc and 'href="#innhold-1"' in toc
    api = client.get("/api/docs/tegn").json
    assert [h["text"] for h in api["headings"]] == ["Tips & triks", "Før & etter", "Innhold"]


def test_the_one_script_is_small_and_every_page_is_the_same_for_every_reader(client):
    from helpers import PROJECT

    assert (PROJECT / "static" / "js" / "suggest.js").stat().st_size <= 4096
    first = client.get("/docs.php?doc=instantid-intro", headers={"User-Agent": "a"})
    assert '<script src="/static/js/suggest.js" defer></script>' in first.text
    assert first.text.count("<script") == 1  # no inline script
    assert client.get("/docs.php?doc=instantid-intro", headers={"User-Agent": "b"}).data == first.data


# What has gone stale: a translation the Norwegian page has moved on from, and review dates.

OUTDATED_NOTICE = "The Norwegian version of this page has changed since it was translated; it may be out of date."


def edit_norwegian(docs_dir, slug: str = "instantid-intro") -> None:
    text = (docs_dir / f"{slug}.md").read_text(encoding="utf-8")
    write(docs_dir, slug, text.replace("\n\n", "\n\nEn ny setning.\n\n", 1))


@pytest.mark.parametrize(
    "variant, link",
    [
        ("", "/docs.php?doc=instantid-intro&amp;lang=nb"),
        ("&embed=1", "/docs.php?doc=instantid-intro&amp;lang=nb&amp;embed=1"),
        ("&embed=1&theme=dark", "/docs.php?doc=instantid-intro&amp;lang=nb&amp;embed=1&amp;theme=dark"),
    ],
)
def test_a_cached_english_page_says_so_once_the_norwegian_page_changes(app, client, docs_dir, variant, link):
    url = f"/docs.php?doc=instantid-intro&lang=en{variant}"
    assert OUTDATED_NOTICE not in client.get(url).text  # rendered, and in every cache
    edit_norwegian(docs_dir)
    html = client.get(url).text
    notice = html.split('class="notice translation-notice"')[1].split("</p>")[0]
    assert OUTDATED_NOTICE in notice and f'href="{link}"' in notice and 'hreflang="nb"' in notice
    # Under the title, in every mode.
    assert html.index("</h1>") < html.index(OUTDATED_NOTICE) < html.index('class="feedback"')
    assert OUTDATED_NOTICE not in client.get(f"/docs.php?doc=instantid-intro&lang=nb{variant}").text
    # Translated again (after a translator checked it): the notice goes, without a restart.
    assert app.test_cli_runner().invoke(args=["translated", "instantid-intro"]).exit_code == 0
    assert OUTDATED_NOTICE not in client.get(url).text


def test_the_english_page_is_rendered_under_a_key_that_names_the_norwegian_version(app, docs_dir):
    from app.caching.keys import rendition

    with app.test_request_context("/"):
        before = rendition("page", "en", "en:1:0::0", "instantid-intro")
        edit_norwegian(docs_dir)
        after = rendition("page", "en", "en:1:0::0", "instantid-intro")
        assert before.key != after.key and not before.is_fresh()
        assert before.versions[1] == after.versions[1]  # the English text itself is the same


def test_a_page_without_a_record_or_an_original_has_no_notice(client, docs_dir):
    write(docs_dir / "en", "only-english", "# Only English\n\nText.\n")
    write(docs_dir / "en", "instantid-intro", "# InstantID\n\nNo record of what it was translated from.\n")
    edit_norwegian(docs_dir)
    for slug in ("only-english", "instantid-intro"):
        assert OUTDATED_NOTICE not in client.get(f"/docs.php?doc={slug}&lang=en").text
    write(docs_dir, "bare-norsk", "# Bare norsk\n\nTekst.\n")  # shown in Norwegian to an English reader
    assert OUTDATED_NOTICE not in client.get("/docs.php?doc=bare-norsk&lang=en").text


def test_readers_see_when_a_page_was_last_reviewed_and_never_its_owner(client, docs_dir):
    front = "owner: Team Hemmelig\nreview_by: 2001-02-03\nreviewed: 2026-03-12\n"
    write(docs_dir, "sjekket", f"---\n{front}---\n# Sjekket\n\nTekst.\n")
    write(docs_dir / "en", "sjekket", f"---\n{front}---\n# Checked\n\nText.\n")
    nb, en = client.get("/docs.php?doc=sjekket").text, client.get("/docs.php?doc=sjekket&lang=en").text
    assert 'Sist gjennomgått <time datetime="2026-03-12">12. mars 2026</time>' in nb
    assert 'Last reviewed <time datetime="2026-03-12">12 March 2026</time>' in en
    for html in (nb, en):
        assert "Hemmelig" not in html and "2001-02-03" not in html
    assert "Hemmelig" not in client.get("/api/docs/sjekket").text
    # Without `reviewed:` nothing is said, whatever the file's time.
    write(docs_dir, "sjekket", "# Sjekket\n\nTekst.\n")
    html = client.get("/docs.php?doc=sjekket").text
    assert "Sist gjennomgått" not in html and "<time" not in html
