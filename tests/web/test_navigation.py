"""Finding the way: anchors with æøå, table of contents, breadcrumbs, 404 suggestions, SEO."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from helpers import write

from app.content import store


def test_heading_anchors_keep_norwegian_letters(client, docs_dir):
    write(
        docs_dir,
        "forste",
        "# Første side\n\n## Første gang\n\nTekst.\n\n## Blåbær og ærfugl\n\nMer.\n\n## Én til\n\nSlutt.\n",
    )
    html = client.get("/docs.php?doc=forste").text
    assert '<h2 id="første-gang">Første gang</h2>' in html
    assert '<h2 id="blåbær-og-ærfugl">' in html
    assert '<a href="#første-gang">Første gang</a>' in html  # the table of contents


def test_table_of_contents_only_on_pages_with_several_sections(client, docs_dir):
    assert 'class="toc"' in client.get("/docs.php?doc=generative-ai-terminology").text
    write(docs_dir, "to-deler", "# To deler\n\n## En\n\nTekst.\n\n## To\n\nTekst.\n")
    assert 'class="toc"' not in client.get("/docs.php?doc=to-deler").text  # two sections
    terms = client.get("/docs.php?doc=generative-ai-terminology").text
    toc = re.search(r'<nav class="toc".*?</nav>', terms, re.S).group(0)
    assert 'href="#lora"' in toc and "Lenker i hjelpeseksjonen" not in toc


def test_breadcrumb_shows_where_a_page_belongs(client):
    html = client.get("/docs.php?doc=what-is-ip-adapter").text
    crumb = re.search(r'<nav class="breadcrumb".*?</nav>', html, re.S).group(0)
    assert re.findall(r"<li[^>]*>(.*?)</li>", crumb) == [
        '<a href="/docs.php">Hjelp</a>',
        "Terminologi",
        "IP-Adapter / Adapter for bildeledetekst",
    ]


def test_a_page_not_yet_translated_shows_its_category_in_english_and_its_contents_as_written(
    client, docs_dir, monkeypatch
):
    sections = "".join(f"## Del {i}\n\nTekst {i}.\n\n" for i in range(3))
    write(docs_dir, "bare-norsk", f"---\ncategory: Terminologi\n---\n# Bare norsk\n\n{sections}")
    write(docs_dir, "egen", f"---\ncategory: Egen kategori\n---\n# Egen\n\n{sections}")

    def crumb_and_toc(slug: str) -> tuple[list[str], str]:
        html = client.get(f"/docs.php?doc={slug}&lang=en").text
        crumb = re.search(r'<nav class="breadcrumb".*?</nav>', html, re.S).group(0)
        category, title = re.findall(r"<li([^>]*)>([^<]*)</li>", crumb)
        assert ('lang="nb"' in title[0]) == (slug != "what-is-ip-adapter"), title  # the page's own title
        return category, re.search(r'<nav class="toc".*?</nav>', html, re.S)[0]

    (attributes, category), toc = crumb_and_toc("bare-norsk")
    assert (attributes, category) == ("", "Terminology")
    assert '<nav class="toc" aria-label="Contents of this page" lang="en">' in toc and '<ol lang="nb">' in toc
    assert crumb_and_toc("egen")[0] == (' lang="nb"', "Egen kategori")  # no neighbour gives it a name
    assert crumb_and_toc("what-is-ip-adapter")[0] == ("", "Terminology")
    # A neighbour's new name is shown once the files are scanned again, though this page has not changed.
    monkeypatch.setattr(store, "FULL_RESCAN_SECONDS", 0.0)
    for slug in ("generative-ai-terminology", "what-is-identitynet", "what-is-ip-adapter"):
        path = docs_dir / "en" / f"{slug}.md"
        path.write_text(path.read_text(encoding="utf-8").replace("category: Terminology", "category: Words"))
    assert crumb_and_toc("bare-norsk")[0] == ("", "Words")


def test_index_shows_descriptions_in_category_order(client):
    html = client.get("/docs.php").text
    assert html.index("Hjelpeseksjonen") < html.index("Terminologi")
    assert "Korte forklaringer på ordene" in html


def test_an_english_index_lists_pages_not_yet_translated_under_english_categories_marked(client, docs_dir):
    write(docs_dir, "bare-norsk", "---\ncategory: Terminologi\ndescription: Bare på norsk.\n---\n# Bare norsk\n")
    write(docs_dir, "uten-kategori", "# Uten kategori\n")  # the default category, Hjelpeseksjonen
    write(docs_dir, "egen", "---\ncategory: Egen kategori\n---\n# Egen\n")  # no translated neighbour
    html = client.get("/docs.php?lang=en").text
    headings = re.findall(r'<h2 id="kategori-\d+"( lang="nb")?>([^<]+)</h2>', html)
    assert headings == [("", "Help section"), ("", "Terminology"), (' lang="nb"', "Egen kategori")]
    headings = [name for _, name in headings]
    sections = dict(zip(headings, html.split('<h2 id="kategori-')[1:], strict=True))
    assert 'lang="nb">Bare norsk</a> <span class="meta">(in Norwegian)</span>' in sections["Terminology"]
    assert '<p lang="nb">Bare på norsk.</p>' in sections["Terminology"]
    assert 'lang="nb">Uten kategori</a>' in sections["Help section"]
    assert 'lang="nb">IdentityNet' not in html and "in Norwegian" not in sections["Help section"].split("Uten")[0]
    norwegian = client.get("/docs.php?lang=nb").text
    assert "Hjelpeseksjonen" in norwegian and "(på norsk)" not in norwegian and '" lang="nb">' not in norwegian
    missing = client.get("/finnes-ikke?lang=en").text  # a dead link's way on: the first category
    assert 'lang="nb">Uten kategori</a>' in missing and "Hjelpeseksjonen" not in missing


@pytest.mark.parametrize(
    "typo, expected",
    [
        ("what-is-ip-adaptor", "what-is-ip-adapter"),
        ("instantid", "instantid-intro"),
        ("identitynet", "what-is-identitynet"),
        ("generative-ai", "generative-ai-intro"),
    ],
)
def test_unknown_slug_suggests_the_closest_pages(client, typo, expected):
    response = client.get(f"/docs.php?doc={typo}")
    assert response.status_code == 404
    suggestions = re.search(r"Mente du en av disse\?</h2>(.*?)</ul>", response.text, re.S).group(1)
    assert f'href="/docs.php?doc={expected}"' in suggestions


def test_suggestions_follow_changes_to_the_pages(client, docs_dir):
    def suggested() -> str:
        response = client.get("/docs.php?doc=kamera-tips")
        assert response.status_code == 404
        found = re.search(r"Mente du en av disse\?</h2>(.*?)</ul>", response.text, re.S)
        return found.group(1) if found else ""

    assert "kamera-tipsene" not in suggested()
    write(docs_dir, "kamera-tipsene", "# Tips for kameraet\n\nBruk godt lys.\n")
    assert 'href="/docs.php?doc=kamera-tipsene"' in suggested()
    (docs_dir / "kamera-tipsene.md").unlink()
    assert "kamera-tipsene" not in suggested()


def test_link_checker_verifies_anchors(runner, docs_dir):
    write(docs_dir, "lenker", "# Lenker\n\n## Her\n\n[ok](#her) [ok](docs.php?doc=generative-ai-terminology#lora)\n")
    assert runner.invoke(args=["check-docs"]).exit_code == 0
    write(docs_dir, "lenker", "# Lenker\n\n[bad](#ingen) [bad](docs.php?doc=generative-ai-terminology#finnes-ikke)\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 1
    assert "no heading with the anchor #ingen in lenker.md" in result.output
    assert "#finnes-ikke in generative-ai-terminology.md" in result.output


def test_canonical_and_opengraph_from_the_public_base_url(make_app):
    client = make_app(PUBLIC_BASE_URL="https://hjelp.example.no/").test_client()
    html = client.get("/docs.php?doc=instantid-intro").text
    assert '<link rel="canonical" href="https://hjelp.example.no/docs.php?doc=instantid-intro">' in html
    assert '<meta property="og:title" content="Hva er InstantID?">' in html
    assert '<meta property="og:description" content="InstantID lager bilder' in html
    assert '<link rel="canonical" href="https://hjelp.example.no/docs.php">' in client.get("/docs.php").text
    # Each language's alternate is its canonical address, as the sitemap lists it, from either page.
    for lang in ("nb", "en"):
        head = client.get(f"/docs.php?doc=instantid-intro&lang={lang}").text.split("</head>")[0]
        assert re.findall(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)">', head) == [
            ("nb", "https://hjelp.example.no/docs.php?doc=instantid-intro"),
            ("en", "https://hjelp.example.no/docs.php?doc=instantid-intro&amp;lang=en"),
        ]


def test_no_canonical_from_a_forged_host(client):
    html = client.get("/docs.php?doc=instantid-intro", headers={"Host": "evil.example"}).text
    assert "evil.example" not in html and 'rel="canonical"' not in html


def test_sitemap_lists_every_page_with_lastmod(make_app, docs_dir):
    client = make_app(PUBLIC_BASE_URL="https://hjelp.example.no").test_client()
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = ElementTree.fromstring(response.data).findall("s:url", ns)
    locs = sorted(u.find("s:loc", ns).text for u in urls)
    assert locs == sorted(
        [f"https://hjelp.example.no/docs.php?doc={p.stem}" for p in docs_dir.glob("*.md")]
        + [f"https://hjelp.example.no/docs.php?doc={p.stem}&lang=en" for p in (docs_dir / "en").glob("*.md")]
    )
    for url in urls:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", url.find("s:lastmod", ns).text)


def test_without_a_base_url_no_host_from_the_request_is_used(client):
    """Absolute URLs need PUBLIC_BASE_URL: the Host header is the client's to choose."""
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    sitemap = client.get("/sitemap.xml", headers=headers)
    assert sitemap.status_code == 404 and "evil.example" not in sitemap.text
    robots = client.get("/robots.txt", headers=headers)
    assert robots.status_code == 200 and "Sitemap" not in robots.text and "evil" not in robots.text


def test_robots_points_to_the_sitemap(make_app):
    client = make_app(PUBLIC_BASE_URL="https://hjelp.example.no").test_client()
    text = client.get("/robots.txt").text
    assert "Sitemap: https://hjelp.example.no/sitemap.xml" in text and "User-agent: *" in text
