"""Links the app keeps for years: old slugs (`aliases:`) that redirect to their page, and
context keys (`contexts:`) that `/go/<key>` answers with one page, a chooser or a dead key."""

from __future__ import annotations

import logging
import re

import pytest
from helpers import scripts_other_than_ours, write

from app.caching.keys import rendition

# Every mode and language an old build may link with, and the parameters it should land with.
MODES = [
    ("", {}, ""),
    ("&lang=nb", {}, "&lang=nb"),
    ("&lang=en", {}, "&lang=en"),
    ("&lang=EN", {}, "&lang=en"),
    ("", {"Accept-Language": "en-GB,en;q=0.9"}, ""),
    ("&embed=1", {}, "&embed=1"),
    ("&embed=true&lang=en", {}, "&lang=en&embed=1"),
    ("&lang=nb&embed=1&theme=dark", {}, "&lang=nb&embed=1&theme=dark"),
    ("&theme=light&lang=en&embed=1", {}, "&lang=en&embed=1&theme=light"),
    ("&theme=purple&utm_source=app&takk=1", {}, ""),
]


def rename(folder, old: str, new: str, aliases: str = "") -> None:
    """Rename a page, as an author would: its file, and every link to it in that folder."""
    text = (folder / f"{old}.md").read_text(encoding="utf-8")
    if aliases:
        text = text.replace("\n---\n", f"\naliases: [{aliases}]\n---\n", 1)
    write(folder, new, text)
    (folder / f"{old}.md").unlink()
    for other in folder.glob("*.md"):
        linking = other.read_text(encoding="utf-8")
        if f"doc={old}" in linking:
            write(folder, other.stem, linking.replace(f"doc={old}", f"doc={new}"))


@pytest.fixture
def renamed(docs_dir):
    """instantid-intro renamed om-instantid in both languages; the old slug is an alias named
    in the Norwegian page only."""
    rename(docs_dir, "instantid-intro", "om-instantid", aliases="instantid-intro")
    rename(docs_dir / "en", "instantid-intro", "om-instantid")
    return docs_dir


@pytest.mark.parametrize("slug", ["instantid-intro", "InstantID-Intro"])
@pytest.mark.parametrize("query, headers, kept", MODES)
def test_every_old_link_lands_on_the_renamed_page(renamed, client, slug, query, headers, kept):
    response = client.get(f"/docs.php?doc={slug}{query}", headers=headers)
    assert response.status_code == 301
    assert response.headers["Location"] == f"/docs.php?doc=om-instantid{kept}"  # relative: no host
    assert "max-age=300" in response.headers["Cache-Control"]
    landed = client.get(response.headers["Location"], headers=headers)
    english = "lang=en" in kept or (not kept.count("lang=") and headers)
    assert landed.status_code == 200
    assert ("What is InstantID?" if english else "Hva er InstantID?") in landed.text
    assert ('<body class="embed">' in landed.text) == ("embed=1" in kept)


def test_a_head_and_the_old_slugs_anchor_land_too(renamed, client):
    response = client.head("/docs.php?doc=instantid-intro&embed=1")
    assert response.status_code == 301 and response.headers["Location"] == "/docs.php?doc=om-instantid&embed=1"
    # The #anchor never reaches the server; the browser keeps it across the redirect (tested in chromium).
    landed = client.get("/docs.php?doc=om-instantid&embed=1").text
    assert re.search(r'<h2 id="[^"]+"', landed)


def test_a_renamed_page_with_its_alias_passes_the_check_and_without_it_fails(renamed, make_app):
    runner = make_app().test_cli_runner()
    assert runner.invoke(args=["check-docs"]).exit_code == 0
    text = (renamed / "om-instantid.md").read_text(encoding="utf-8")
    write(renamed, "om-instantid", text.replace("aliases: [instantid-intro]\n", ""))
    result = make_app().test_cli_runner().invoke(args=["check-docs"])
    lock_lines = [line for line in result.output.splitlines() if "_links.lock" in line]
    assert result.exit_code == 1 and lock_lines == [
        f"_links.lock: /docs.php?doc=instantid-intro&lang={lang} (published 2026-12-06) leads nowhere now: "
        "give the page that replaces it `aliases: [instantid-intro]`"
        for lang in ("en", "nb")
    ]


def test_a_page_wins_over_an_alias_and_a_clash_is_logged_once(docs_dir, client, caplog):
    write(docs_dir, "ny-side", "---\naliases: [avatarify-intro, delt]\n---\n# Ny side\n")
    write(docs_dir, "annen-side", "---\naliases: [delt]\n---\n# Annen side\n")
    with caplog.at_level(logging.ERROR):
        assert client.get("/docs.php?doc=avatarify-intro").status_code == 200  # the page, not ny-side
        assert client.get("/docs.php?doc=delt").status_code == 404  # two pages claim it: neither
        assert client.get("/docs.php?doc=delt").status_code == 404
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("aliases:")]
    assert len(logged) == 2
    assert "'avatarify-intro' is also a page's slug" in logged[0] + logged[1]
    assert "each claims the alias 'delt'" in logged[0] + logged[1]


def test_an_internal_link_to_an_old_slug_fails_the_check(renamed, runner):
    write(renamed, "lenker", "# Lenker\n\n[InstantID](docs.php?doc=instantid-intro)\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 1
    assert "[nb] lenker.md: link to an old slug, an alias of om-instantid: link to docs.php?doc=om-instantid" in (
        result.output
    )


@pytest.fixture
def keyed(docs_dir):
    """Pages that name context keys: instantid-intro two, what-is-identitynet one of them."""
    for slug, keys in (("instantid-intro", "screen.upload, Error.E1203"), ("what-is-identitynet", "screen.upload")):
        text = (docs_dir / f"{slug}.md").read_text(encoding="utf-8")
        write(docs_dir, slug, text.replace("\n---\n", f"\ncontexts: [{keys}]\n---\n", 1))
    return docs_dir


@pytest.mark.parametrize(
    "url, location",
    [
        ("/go/error.e1203", "/docs.php?doc=instantid-intro"),
        ("/go/ERROR.E1203?lang=en", "/docs.php?doc=instantid-intro&lang=en"),
        (
            "/go/error.e1203?embed=1&theme=dark&platform=ios&app_version=5.2.1",
            "/docs.php?doc=instantid-intro&embed=1&theme=dark",
        ),
        ("/go/error.e1203?platform=<b>&app_version=9&utm_source=x&theme=x", "/docs.php?doc=instantid-intro"),
    ],
)
def test_a_key_with_one_page_redirects_to_it_with_the_presentation(keyed, client, url, location):
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"] == location
    assert client.get(location).status_code == 200


def test_a_key_with_several_pages_offers_a_choice_in_the_layout(keyed, client):
    response = client.get("/go/Screen.Upload?embed=1&lang=en&theme=dark&platform=android")
    assert response.status_code == 200 and "max-age=300" in response.headers["Cache-Control"]
    html = response.text
    assert '<body class="embed">' in html and "<header" not in html and '<html lang="en" data-theme="dark">' in html
    assert "<h1>Choose a help page</h1>" in html and '<meta name="robots" content="noindex">' in html
    main = html[html.index("<main") :]
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', main)
    assert links[:2] == [  # by their order in the index, then by title
        ("/docs.php?doc=what-is-identitynet&amp;lang=en&amp;embed=1&amp;theme=dark", "IdentityNet"),
        ("/docs.php?doc=instantid-intro&amp;lang=en&amp;embed=1&amp;theme=dark", "What is InstantID?"),
    ]
    assert "android" not in html
    everything = ("/docs.php?lang=en&amp;embed=1&amp;theme=dark", "All help pages")
    assert links.count(everything) == 1  # embedded: no footer, so the chooser leads back
    norsk = client.get("/go/screen.upload").text
    assert norsk.count(">Alle hjelpesider</a>") == 1  # the footer's
    assert "<h1>Velg en hjelpeside</h1>" in norsk and 'href="/go/screen.upload?lang=en"' in norsk  # language switch


def test_a_key_no_page_names_is_a_404_with_a_search_for_its_words(keyed, client):
    response = client.get("/go/instantid.ansikt?embed=1&platform=ios&app_version=5.2.1")
    assert response.status_code == 404 and response.headers["Cache-Control"] == "no-store"
    html = response.text
    assert '<body class="embed">' in html and "Ingen hjelpeside her ennå" in html
    assert "Sider om «instantid ansikt»" in html and 'href="/docs.php?doc=instantid-intro&amp;embed=1"' in html
    assert '<a class="button" href="/docs.php?embed=1">' in html  # the index
    nothing = client.get("/go/screen.kamera-zzz").text
    assert "Sider om" not in nothing and "doc=avatarify-intro" in nothing  # no results: the way on


@pytest.mark.parametrize(
    "path",
    [
        "/go/",
        "/go/a%20b",
        "/go/.upload",
        "/go/a/b",
        "/go/%3Cscript%3E",
        "/go/" + "a" * 65,
        "/go/\u212aey",
        "/go/a..%2F..%2Fetc",
    ],
)
def test_a_malformed_key_is_400_in_the_layout(keyed, client, path):
    response = client.get(path + "?platform=<script>")
    assert response.status_code == 400 and "<html" in response.text
    assert "Adressen peker ikke på et sted i appen" in response.text
    assert scripts_other_than_ours(response.text) == [] and "<script>" not in response.text


def test_what_the_app_says_of_itself_is_never_reflected(keyed, client):
    for query in ("platform=<svg/onload=alert(1)>", "app_version=5.2<b>", "platform=ios&app_version=" + "9" * 40):
        response = client.get(f"/go/screen.nowhere?{query}")
        assert response.status_code == 404
        assert "<svg" not in response.text and "<b>" not in response.text and "9" * 10 not in response.text


def test_go_answers_are_made_once_per_version_of_the_pages(keyed, client, monkeypatch):
    from app.search import engine
    from app.web import go

    rendered, searched = [], []
    render, find = go.render_template, engine.Search.find
    monkeypatch.setattr(go, "render_template", lambda name, **kw: rendered.append(name) or render(name, **kw))
    monkeypatch.setattr(engine.Search, "find", lambda self, *a, **kw: searched.append(a) or find(self, *a, **kw))
    for _ in range(3):
        assert client.get("/go/screen.upload?embed=1").status_code == 200
        assert client.get("/go/instantid.ansikt").status_code == 404
    assert rendered.count("chooser.html") == 1 and len(searched) == 1
    write(keyed, "ny-side", "---\ncontexts: [screen.upload]\n---\n# En ny side\n")
    assert "En ny side" in client.get("/go/screen.upload?embed=1").text
    assert rendered.count("chooser.html") == 2


def test_the_api_lists_keys_and_aliases_and_each_page_its_own(keyed, client):
    write(keyed, "ny-side", "---\naliases: [gammel-side]\ncontexts: [screen.settings]\n---\n# Ny side\n")
    listed = client.get("/api/contexts").json
    assert listed == {
        "contexts": [
            {"key": "error.e1203", "pages": ["instantid-intro"]},
            {"key": "screen.settings", "pages": ["ny-side"]},
            {"key": "screen.upload", "pages": ["instantid-intro", "what-is-identitynet"]},
        ],
        "aliases": [{"alias": "gammel-side", "page": "ny-side"}],
    }
    doc = client.get("/api/docs/instantid-intro?lang=en").json
    assert doc["aliases"] == [] and doc["contexts"] == ["error.e1203", "screen.upload"]
    assert client.get("/api/docs/ny-side").json["aliases"] == ["gammel-side"]
    # Another page claiming the alias takes it from the page's answer (it leads to neither now).
    write(keyed, "annen-side", "---\naliases: [gammel-side]\n---\n# Annen side\n")
    assert client.get("/api/docs/ny-side").json["aliases"] == []


def test_a_rendered_pages_cache_key_changes_with_its_aliases_and_contexts(docs_dir, app):
    keys = []
    for front in ("", "aliases: [eldre]\n", "aliases: [eldre]\ncontexts: [screen.x]\n"):
        write(docs_dir, "side", f"---\ntitle: Side\n{front}---\nTekst.\n")
        with app.test_request_context("/docs.php?doc=side"):
            keys.append(rendition("page", "nb", "v", "side").key)
    assert len(set(keys)) == 3
