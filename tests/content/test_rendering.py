"""Markdown rendering and sanitizing: the seed page intact, hostile input neutralized."""

from __future__ import annotations

import re

import pytest
from helpers import HOSTILE_MARKUP, PROJECT, SEED_PAGE, corpus_payloads, unsafe_parts

from app.content.rendering import render_markdown, sanitizer_changes

PROJECT_DOCS = PROJECT / "docs"
CHIP = re.compile(
    r'<a href="([^"]+)" class="([^"]+)">\s*<i class="([^"]+)" aria-hidden="true"></i>\s*<strong class="([^"]+)">([^<]+)</strong>\s*</a>'
)


def test_seed_page_renders_with_every_chip_intact():
    source = SEED_PAGE.read_text(encoding="utf-8")
    html = render_markdown(source).html
    chips = CHIP.findall(html)
    source_chips = re.findall(r'<a href="([^"]+)" class="([^"]+)">', source)
    assert [(href, cls) for href, cls, *_ in chips] == source_chips
    assert len(chips) == 5
    assert {icon for _, _, icon, _, _ in chips} == {
        "fa fa-info color-white bg-green-dark",
        "fa fa-question color-white bg-dark-light",
    }
    assert {strong for *_, strong, _ in chips} == {"color-black font-400"}
    assert [text for *_, text in chips] == [
        "Teknologien bak Avatarify",
        "Hva er generative AI",
        "Hva er InstantID",
        "IdentityNet",
        "IP-Adapter",
    ]
    assert '<div class="mt-3">' in html
    assert '<a href="docs.php?doc=generative-ai-terminology">generativ AI-terminologi</a>' in html
    assert sanitizer_changes(source) == []


def test_markdown_features_survive():
    text = "# T\n\n## Første gang\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```python\nprint(1)\n```\n\n- x\n- y\n"
    rendered = render_markdown(text)
    assert '<h2 id="første-gang">Første gang</h2>' in rendered.html
    assert '<td align="left">1</td>' in rendered.html
    assert '<code class="language-python">' in rendered.html
    assert (2, "første-gang", "Første gang") in rendered.headings


def test_links_keep_safe_urls_and_external_ones_are_marked():
    html = render_markdown(
        "[a](https://example.org/x) [b](mailto:hjelp@example.org) [c](docs.php?doc=x#y) [d](#top)"
    ).html
    assert '<a href="https://example.org/x" rel="external noopener noreferrer">a</a>' in html
    assert '<a href="mailto:hjelp@example.org">b</a>' in html
    assert '<a href="docs.php?doc=x#y">c</a>' in html
    assert '<a href="#top">d</a>' in html


def test_local_images_are_kept():
    assert '<img alt="Skjerm" src="static/skjerm.png">' in render_markdown("![Skjerm](static/skjerm.png)").html


# Payloads after which the HTML parser rightly treats the rest of the document as their content.
SWALLOWS_THE_REST = {"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"}


@pytest.mark.parametrize("payload", HOSTILE_MARKUP)
def test_own_hostile_markup_is_neutralized(payload):
    html = render_markdown(f"# Test\n\n{payload}\n\nafter\n").html
    assert unsafe_parts(html) == []
    # The text after it is kept, unless the parser rightly reads it as the payload's content.
    assert ("after" in html) is (payload not in SWALLOWS_THE_REST)


@pytest.mark.parametrize("payload", corpus_payloads("xss.jsonl"))
def test_corpus_payloads_are_neutralized(payload):
    for text in (payload, f"# T\n\n{payload}\n", f"<div>{payload}</div>", f"[x]({payload})"):
        assert unsafe_parts(render_markdown(text).html) == [], text


@pytest.mark.parametrize(
    "payload, named",
    [
        ("<script>alert(1)</script>", "<script>"),
        ('<a href="javascript:x">y</a>', '<a href="javascript:x">'),
        ('<div class="chip evil">x</div>', '<div class="chip evil">'),
        ('<p style="color:red">x</p>', '<p style="color:red">'),
    ],
)
def test_sanitizer_changes_names_what_would_be_removed(payload, named):
    assert sanitizer_changes(f"# T\n\n{payload}\n") == [named]


# Decide on the URL a browser will see: entities decoded, ignored characters removed.


@pytest.mark.parametrize(
    "markdown",
    [
        "![x](&#47;&#47;evil.example/p.png)",
        '<img src="https&#58;//evil.example/p.png">',
        '<img src="&#x2F;&#x2F;evil.example/p.png">',
        '<img src="/\\evil.example/p.png">',
        '<img src="\\\\evil.example/p.png">',
        '<img src="/&#92;evil.example/p.png">',
        '<img src="/\t/evil.example/p.png">',
    ],
)
def test_no_image_from_another_host_however_it_is_written(markdown):
    html = render_markdown(f"# T\n\n{markdown}\n").html
    assert "evil.example" not in html


@pytest.mark.parametrize(
    "href",
    [
        "&#47;&#47;evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/&#92;evil.example/",
        "https&#58;//evil.example/",
        "&#104;ttps://evil.example/",
        "/\n/evil.example/",
    ],
)
def test_links_to_another_host_are_marked_external_however_written(href):
    html = render_markdown(f'# T\n\n<p><a href="{href}">x</a></p>\n').html
    [link] = re.findall(r"<a [^>]*>", html)  # kept, and marked: the app's web view opens it outside
    assert "evil.example" in link and 'rel="external noopener noreferrer"' in link


@pytest.mark.parametrize(
    "href",
    [
        "jav&#x61;script:alert(1)",
        "&#106;avascript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
    ],
)
def test_script_urls_hidden_in_entities_are_removed(href):
    html = render_markdown(f'# T\n\n<p><a href="{href}">x</a></p>\n').html
    assert "alert" not in html or "href" not in html


def test_pathological_markdown_is_refused_before_rendering():
    from app.content.rendering import markdown_problem

    assert "in a row" in markdown_problem("*" * 2000 + "x" + "*" * 2000)
    assert "brackets" in markdown_problem("[a" * 6000)
    assert "brackets" in markdown_problem("[a](" * 3000)
    assert "brackets" in markdown_problem("[" * 1000 + "]" * 1000)
    assert "columns deep" in markdown_problem("".join("  " * i + "- x\n" for i in range(400)))
    assert "columns deep" in markdown_problem(">" * 300 + " x")
    # Ordinary pages, however many links, pass.
    assert markdown_problem("[a](docs.php?doc=b) og (parentes) " * 2000) is None
    for path in [*PROJECT_DOCS.rglob("*.md"), SEED_PAGE]:
        assert markdown_problem(path.read_text(encoding="utf-8")) is None, path


@pytest.mark.parametrize("heading, anchor", [("Innhold", "innhold-1"), ("Søk", "søk"), ("Sok", "sok-1")])
def test_heading_ids_never_take_the_layouts_own(heading, anchor):
    rendered = render_markdown(f"# T\n\n## {heading}\n\nTekst.\n")
    assert f'id="{anchor}"' in rendered.html
    assert rendered.headings[0][1] == anchor


def test_raw_html_cannot_take_a_layout_id():
    html = render_markdown('# T\n\n<h2 id="innhold">x</h2>\n').html
    assert 'id="innhold"' not in html


def test_headings_with_ampersands_are_plain_text_in_the_heading_list():
    rendered = render_markdown("# T\n\n## Tips & triks <3\n\nTekst.\n")
    assert rendered.headings[0][2] == "Tips & triks <3"


APP = frozenset({"avatarify"})


@pytest.mark.parametrize(
    "href",
    [
        "avatarify://upload",
        "avatarify:upload",
        "Avatarify://screen/settings?tab=privacy&x=1",
        "AVATARIFY://upload#top",
        "avatarify://",
        "&#97;vatarify://upload",  # what the browser follows is avatarify://upload
    ],
)
def test_links_into_the_app_are_kept_and_marked_only_when_their_scheme_is_named(href):
    source = f'# T\n\n<p><a href="{href}">Åpne i appen</a></p>\n'
    [link] = re.findall(r"<a [^>]*>", render_markdown(source, APP).html)
    assert 'class="app-link"' in link and "href=" in link and "rel=" not in link
    assert sanitizer_changes(source, APP) == []
    assert re.findall(r"<a [^>]*>", render_markdown(source).html) == []  # without the setting: removed
    assert sanitizer_changes(source) != []


@pytest.mark.parametrize(
    "link",
    [
        '<a href="avatarify:javascript:alert(1)">x</a>',
        '<a href="avatarify://javascript:alert(1)">x</a>',
        '<a href="AVATARIFY:JaVaScRiPt:alert(1)">x</a>',
        '<a href="avatarify:&#106;avascript&#58;alert(1)">x</a>',
        '<a href="avatarify&#58;javascript&#x3A;alert(1)">x</a>',
        '<a href="avatarify:\tjavascript:alert(1)">x</a>',
        '<a href="avatarify:&#9;//upload">x</a>',
        '<a href=" avatarify://upload">x</a>',
        '<a href="avatarify\n://upload">x</a>',
        '<a href="avatarify://%0ajavascript:alert(1)">x</a>',
        '<a href="avatarify://upload\\@evil.example">x</a>',
        '<a href="avatarify://up load">x</a>',
        '<a href="avatarify://&lt;script&gt;">x</a>',
        '<a href="javascript:avatarify://upload">x</a>',
        '<a href="java&#x09;script:avatarify://upload">x</a>',
        '<a href="data:text/html,avatarify://upload">x</a>',
        '<a href="vbscript:avatarify">x</a>',
        '<a href="avatarify2://upload">x</a>',
        '<a href="other://upload">x</a>',
        "[x](avatarify:javascript:alert(1))",
        "[x](AvAtArIfY:JAVASCRIPT:alert(1))",
        "![x](avatarify://upload)",
    ],
)
def test_hostile_links_dressed_as_the_app_are_removed(link):
    html = render_markdown(f"# T\n\n{link}\n", APP).html
    assert unsafe_parts(html) == []
    assert not re.search(r"(href|src)=", html), html
    assert sanitizer_changes(f"# T\n\n{link}\n", APP) != []


def test_an_app_link_keeps_its_chip_classes_and_no_author_can_mark_a_link_as_the_apps():
    chip = '<a href="avatarify://upload" class="chip chip-s bg-gray-light">Last opp</a>'
    assert 'class="chip chip-s bg-gray-light app-link"' in render_markdown(f"# T\n\n{chip}\n", APP).html
    forged = '<a href="https://evil.example" class="app-link">x</a>'
    html = render_markdown(f"# T\n\n<p>{forged}</p>\n", APP).html
    assert "app-link" not in html and 'rel="external noopener noreferrer"' in html
    assert sanitizer_changes(f"# T\n\n<p>{forged}</p>\n", APP) == ['<a class="app-link" href="https://evil.example">']
