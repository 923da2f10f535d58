"""The help pages say only what their sources say: the corrections a machine can check."""

from __future__ import annotations

import re

import pytest
from helpers import PROJECT

DOCS = PROJECT / "docs"
RESEARCH_PAGES = [
    "avatarify-intro",
    "generative-ai-intro",
    "generative-ai-terminology",
    "instantid-intro",
    "what-is-identitynet",
    "what-is-ip-adapter",
]
PAGES = [(lang, slug) for lang in ("nb", "en") for slug in RESEARCH_PAGES]
# Where primary sources live: papers on arXiv, code on GitHub, and the two primaries that are
# on neither: OpenAI's DALL·E 3 paper and the IP-Adapter-FaceID model card.
PRIMARY_SOURCES = (
    "https://arxiv.org/abs/",
    "https://github.com/",
    "https://cdn.openai.com/papers/dall-e-3.pdf",
    "https://huggingface.co/h94/IP-Adapter-FaceID",
)


def text_of(lang: str, slug: str) -> str:
    return (DOCS / ("" if lang == "nb" else "en") / f"{slug}.md").read_text(encoding="utf-8")


def sources_of(text: str) -> list[str]:
    heading = "## Kilder" if "## Kilder" in text else "## Sources"
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"\]\((https://[^)]+)\)", section)


@pytest.mark.parametrize("lang, slug", PAGES)
def test_each_page_ends_with_its_primary_sources(lang, slug):
    text = text_of(lang, slug)
    assert ("## Kilder" if lang == "nb" else "## Sources") in text
    links = sources_of(text)
    assert links and all(link.startswith(PRIMARY_SOURCES) for link in links)
    # The text ends there: only the chip groups (navigation) follow.
    after = text.split("## Kilder" if lang == "nb" else "## Sources", 1)[1]
    assert after.count("\n## ") == 2


@pytest.mark.parametrize("slug", RESEARCH_PAGES)
def test_both_languages_cite_the_same_sources(slug):
    assert sources_of(text_of("nb", slug)) == sources_of(text_of("en", slug))


@pytest.mark.parametrize("lang, slug", PAGES)
def test_dall_e_as_a_diffusion_example_always_has_its_version(lang, slug):
    for match in re.finditer(r"DALL·E(?! [23])", text_of(lang, slug)):
        before = text_of(lang, slug)[max(0, match.start() - 12) : match.start()]
        assert "første" in before or "first" in before, before


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_app_page_claims_nothing_about_the_app_beyond_its_sources(lang):
    text = text_of(lang, "avatarify-intro").lower()
    for claim in (
        "aldri",
        "never",
        "likheten er god",
        "likeness is good",
        "godt lys",
        "good light",
        "bildemodeller som",
        "image models such as",
    ):
        assert claim not in text


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_instantid_names_all_three_affiliations(lang):
    text = text_of(lang, "instantid-intro")
    assert "InstantX" in text and "Xiaohongshu" in text and "Peking" in text
    released = (
        "vektene forfatterne har gitt ut, er for SDXL" if lang == "nb" else "weights the authors released are for SDXL"
    )
    assert released in text


def test_norwegian_words_that_meant_something_else_are_gone():
    text = "".join(text_of("nb", slug) for slug in RESEARCH_PAGES)
    for wrong in ("frakoblet", "egne modeller", "tegneserie", "ansiktets plassering", "bilde–tekst-par"):
        assert wrong not in text


def test_sources_render_as_external_links(client):
    html = client.get("/docs.php?doc=instantid-intro").text
    assert '<a href="https://arxiv.org/abs/2401.07519" rel="external noopener noreferrer">' in html


@pytest.mark.parametrize(
    "lang, query, anchor",
    [
        ("nb", "diffusjon", "diffusjonsmodell"),  # was ControlNet, which has more forms of it
        ("nb", "finjustering", "finjustering"),  # was the sources, with its translation too
        ("en", "fine-tuning", "fine-tuning"),  # was DreamBooth
        ("en", "what is a prompt", "prompt"),  # was Adapter
    ],
)
def test_a_glossary_hit_links_to_the_words_own_entry(client, lang, query, anchor):
    results = client.get("/api/search", query_string={"q": query, "lang": lang}).json["results"]
    (hit,) = [result for result in results if result["slug"] == "generative-ai-terminology"]
    assert hit["section"]["anchor"] == anchor
