"""Inside the app: embed mode, themes, languages, and the link contract the app relies on."""

from __future__ import annotations

import re

import pytest
from helpers import write

PAGE = "/docs.php?doc=what-is-identitynet"


def internal_links(html: str) -> list[str]:
    main = html[html.index("<main") :]
    links = re.findall(r'<a\s[^>]*?href="((?:/|\./)?docs\.php(?:[?#][^"]*)?)"', main)
    return [h.replace("&amp;", "&") for h in links]


def test_embed_mode_drops_the_chrome(client):
    html = client.get(PAGE + "&embed=1&lang=nb").text
    assert '<body class="embed">' in html
    assert "<header" not in html and "<footer" not in html and 'role="search"' not in html
    assert 'class="breadcrumb"' not in html
    assert "<article" in html and 'class="chip chip-s bg-gray-light"' in html


def test_embed_mode_keeps_embed_on_every_internal_link(client):
    html = client.get(PAGE + "&lang=nb&embed=1&theme=dark").text
    links = internal_links(html)
    assert len(links) >= 6
    for link in links:
        assert "embed=1" in link and "lang=nb" in link and "theme=dark" in link, link
        assert client.get("/" + link.lstrip("./")).status_code == 200


def test_external_links_are_marked_for_the_app(client, docs_dir):
    write(
        docs_dir,
        "ute",
        "# Ute\n\nSe [prosjektsiden](https://ip-adapter.github.io) og [oss](docs.php?doc=instantid-intro).\n",
    )
    html = client.get("/docs.php?doc=ute&embed=1").text
    assert '<a href="https://ip-adapter.github.io" rel="external noopener noreferrer">' in html
    assert 'href="docs.php?doc=instantid-intro&amp;embed=1"' in html


def test_links_that_name_a_language_the_index_or_a_search_keep_embed_and_theme(client, docs_dir):
    """A page may link to a page in a language, to the index or to a search: in the app's
    web view, each must stay embedded and themed, the language the link names kept. The
    reader's embed and theme win over a link's own; a blank lang= names no language."""
    write(
        docs_dir,
        "lenker",
        "# Lenker\n\n[engelsk](docs.php?doc=instantid-intro&lang=en#limitations),"
        " [alle](docs.php), [søk](./docs.php?q=ansikt), [anker](/docs.php?doc=instantid-intro#kilder),"
        " [tom](docs.php?doc=instantid-intro&lang=), [ut](docs.php?doc=instantid-intro&embed=0&theme=light),"
        " [kodet](docs.php?doc=instantid-intro&#x26;lang=en)\n\n"
        '`<a href="docs.php?doc=x">` og `href="docs.php"` er kode.\n',
    )
    html = client.get("/docs.php?doc=lenker&embed=1&theme=dark&lang=nb").text
    html = html[: html.index("</article>")]  # the page's own links, not the related pages under it
    assert internal_links(html) == [
        "docs.php?doc=instantid-intro&lang=en&embed=1&theme=dark#limitations",
        "docs.php?lang=nb&embed=1&theme=dark",
        "./docs.php?q=ansikt&lang=nb&embed=1&theme=dark",
        "/docs.php?doc=instantid-intro&lang=nb&embed=1&theme=dark#kilder",
        "docs.php?doc=instantid-intro&lang=nb&embed=1&theme=dark",
        "docs.php?doc=instantid-intro&lang=nb&embed=1&theme=dark",
        "docs.php?doc=instantid-intro&lang=en&embed=1&theme=dark",
    ]
    # Code that shows a link is shown as written.
    assert '<p><code>&lt;a href="docs.php?doc=x"&gt;</code> og <code>href="docs.php"</code> er kode.</p>' in html
    followed = client.get("/docs.php?doc=instantid-intro&lang=en&embed=1&theme=dark")
    assert followed.status_code == 200 and '<body class="embed">' in followed.text


def test_the_feedback_forms_hidden_field_is_named_in_the_pages_language(client):
    english = client.get(PAGE + "&lang=en").text
    norwegian = client.get(PAGE + "&lang=nb").text
    assert 'name="website" tabindex="-1" autocomplete="off" aria-label="Website"' in english
    assert 'name="website" tabindex="-1" autocomplete="off" aria-label="Nettsted"' in norwegian


def test_frame_ancestors_allow_only_the_configured_app(make_app):
    client = make_app(FRAME_ANCESTORS="https://app.avatarify.example").test_client()
    csp = client.get(PAGE + "&embed=1").headers["Content-Security-Policy"]
    assert csp.endswith("frame-ancestors https://app.avatarify.example")


@pytest.mark.parametrize(
    "theme, attribute",
    [("dark", ' data-theme="dark"'), ("light", ' data-theme="light"'), ("", ""), ("purple", ""), ("<x>", "")],
)
def test_theme_parameter(client, theme, attribute):
    html = client.get(f"{PAGE}&theme={theme}").text
    assert f'<html lang="nb"{attribute}>' in html


@pytest.mark.parametrize(
    "theme, dark_css",
    [
        ("", '<link rel="stylesheet" href="/static/css/dark.css" media="(prefers-color-scheme: dark)">'),
        ("dark", '<link rel="stylesheet" href="/static/css/dark.css">'),
        ("light", None),
    ],
)
def test_the_dark_palette_follows_the_device_unless_a_theme_is_asked_for(client, theme, dark_css):
    html = client.get(f"{PAGE}&theme={theme}").text
    assert html.index("css/help.css") < html.index("css/dark.css") if dark_css else "dark.css" not in html
    if dark_css:
        assert dark_css in html


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""

    def luminance(colour):
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def theme_colours(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", block))


def test_both_themes_meet_wcag_aa_contrast():
    palettes = []
    for name in ("help.css", "dark.css"):
        css = (__import__("conftest").PROJECT / "static" / "css" / name).read_text()
        palettes.append(theme_colours(css[css.index(":root {") : css.index("}", css.index(":root {"))]))
    assert palettes[0].keys() == palettes[1].keys() and len(palettes[0]) >= 14  # every colour has its dark twin
    for colours in palettes:
        assert contrast(colours["text"], colours["bg"]) >= 7
        assert contrast(colours["muted"], colours["bg"]) >= 4.5
        assert contrast(colours["accent-text"], colours["bg"]) >= 4.5  # links
        assert contrast(colours["chip-text"], colours["chip-bg"]) >= 4.5  # chip labels
        assert contrast("#ffffff", colours["green-dark"]) >= 3  # icons: graphics need 3:1
        assert contrast("#ffffff", colours["dark-light"]) >= 3
        assert contrast("#ffffff", colours["accent"]) >= 4.5  # button text


@pytest.mark.parametrize(
    "query, headers, expected",
    [
        ("&lang=en", {}, "en"),
        ("&lang=nb", {"Accept-Language": "en"}, "nb"),
        ("", {"Accept-Language": "en-US,en;q=0.9"}, "en"),
        ("", {"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.8"}, "nb"),
        ("", {"Accept-Language": "de-DE,en;q=0.5"}, "en"),
        ("", {"Accept-Language": "de-DE"}, "nb"),
        ("", {"Accept-Language": "nn-NO"}, "nb"),
        ("", {}, "nb"),
        ("&lang=klingon", {"Accept-Language": "en"}, "en"),
        ("", {"Accept-Language": ";;;,q=x,en;q=abc"}, "nb"),
        # The reader's order wins, a regional tag as much as a bare one.
        ("", {"Accept-Language": "nb-NO,en-US;q=0.9,en;q=0.8"}, "nb"),
        ("", {"Accept-Language": "nb-NO, en;q=0.9"}, "nb"),
        ("", {"Accept-Language": "en-GB, nb;q=0.1"}, "en"),
        ("", {"Accept-Language": "en;q=0.5, no_NO"}, "nb"),
        ("", {"Accept-Language": "nb;q=0, en"}, "en"),
        ("", {"Accept-Language": "en;q=0, *"}, "nb"),
        ("", {"Accept-Language": "de, *;q=0.5, en;q=0.1"}, "nb"),
        ("", {"Accept-Language": "de, *;q=0.1, en;q=0.5"}, "en"),
        ("", {"Accept-Language": "nb;q=0, *"}, "en"),  # anything but Norwegian
        ("", {"Accept-Language": "en;q=0, nb;q=0, *"}, "nb"),
        ("", {"Accept-Language": "en;level=1;q=0.5, nb;q=0.4"}, "en"),
    ],
)
def test_language_negotiation(client, query, headers, expected):
    for _ in range(2):  # the second answer comes from the response cache
        html = client.get(PAGE + query, headers=headers).text
        assert f'<html lang="{expected}">' in html
        assert ("How it works" in html) == (expected == "en")


def test_missing_translation_falls_back_with_a_notice(client, docs_dir):
    write(docs_dir, "bare-norsk", "# Bare på norsk\n\nTekst.\n")
    html = client.get("/docs.php?doc=bare-norsk&lang=en").text
    assert '<html lang="en">' in html and '<article class="document" lang="nb">' in html
    assert "not available in English yet" in html and "Bare på norsk" in html
    write(docs_dir / "en", "bare-norsk", "# Now in English\n\nText.\n")
    html = client.get("/docs.php?doc=bare-norsk&lang=en").text
    assert "Now in English" in html and "not available" not in html


def test_hreflang_alternates_and_language_switcher(client):
    html = client.get(PAGE + "&lang=en").text
    assert '<link rel="alternate" hreflang="nb" href="/docs.php?doc=what-is-identitynet&amp;lang=nb">' in html
    assert '<link rel="alternate" hreflang="en" href="/docs.php?doc=what-is-identitynet&amp;lang=en">' in html
    switcher = re.search(r'<nav class="languages".*?</nav>', html, re.S).group(0)
    assert 'hreflang="nb" lang="nb">Norsk</a>' in switcher
    assert 'aria-current="true">English</a>' in switcher


def test_flat_layout_and_language_folders_together(tmp_path, make_app):
    (tmp_path / "nb").mkdir()
    (tmp_path / "en").mkdir()
    write(tmp_path, "flat", "# Flat norsk side\n")
    write(tmp_path / "nb", "mappe", "# Norsk i mappe\n")
    write(tmp_path / "en", "mappe", "# English in a folder\n")
    client = make_app(DOCS_DIR=str(tmp_path)).test_client()
    assert "Flat norsk side" in client.get("/docs.php?doc=flat").text
    assert "Norsk i mappe" in client.get("/docs.php?doc=mappe&lang=nb").text
    assert "English in a folder" in client.get("/docs.php?doc=mappe&lang=en").text


def test_english_search_uses_english_stemming(client):
    html = client.get("/docs.php?q=pictures&lang=en").text
    assert '<html lang="en">' in html and "results for" in html
    assert re.search(r"<mark>picture", html, re.I)


# The link contract: what the app may rely on. Changing any of these breaks the app.
CONTRACT = [
    ("/docs.php?doc=instantid-intro", 200),
    ("/docs.php?doc=instantid-intro&lang=en", 200),
    ("/docs.php?doc=instantid-intro&lang=nb&embed=1&theme=dark", 200),
    ("/docs.php?doc=instantid-intro&embed=1&theme=light&utm_source=app&unknown=whatever", 200),
    ("/docs.php?doc=finnes-ikke&embed=1", 404),
    ("/docs.php?doc=../x", 400),
    ("/docs.php", 200),
    ("/docs.php?q=ansikt&embed=1", 200),
    ("/api/docs", 200),
    ("/api/docs/instantid-intro?lang=en", 200),
    ("/api/search?q=ansikt", 200),
    ("/api/openapi.json", 200),
    ("/api/contexts", 200),
    ("/go/screen.no-help-yet?embed=1&lang=en&platform=ios&app_version=5.2.1", 404),
    ("/go/not%20a%20key", 400),
]


@pytest.mark.parametrize("url, status", CONTRACT)
def test_link_contract(client, url, status):
    assert client.get(url).status_code == status


def test_anchor_links_from_the_app_land_on_headings(client):
    html = client.get("/docs.php?doc=generative-ai-terminology&lang=nb&embed=1").text
    assert '<h2 id="lora">LoRA</h2>' in html
    html = client.get("/docs.php?doc=generative-ai-terminology&lang=en&embed=1").text
    assert '<h2 id="lora">LoRA</h2>' in html and '<h2 id="prompt">Prompt</h2>' in html


def test_a_page_version_is_rendered_once_for_all_its_variants(client, docs_dir, monkeypatch):
    from app.content import rendering

    calls = []
    convert = rendering.markdown_to_html
    monkeypatch.setattr(rendering, "markdown_to_html", lambda text: calls.append(1) or convert(text))
    write(docs_dir, "varianter", "# Varianter\n\nÉn side, [vist](docs.php?doc=avatarify-intro) på flere måter.\n")
    bodies = set()
    for query in ("", "&embed=1", "&theme=dark", "&lang=nb", "&embed=1&theme=light"):
        response = client.get("/docs.php?doc=varianter" + query)
        assert response.status_code == 200 and "vist</a>" in response.text
        bodies.add(response.data)
    assert len(bodies) == 5 and len(calls) == 1
    # A new version of the page is rendered again.
    write(docs_dir, "varianter", "# Varianter\n\nEndret.\n")
    assert "Endret." in client.get("/docs.php?doc=varianter&embed=1").text and len(calls) == 2
