"""Where a reader goes next: the author's next steps, and related pages (the author's first,
then the pages most like this one), in the cached page and in the API."""

from __future__ import annotations

import re
import threading

import pytest
from helpers import write

from app.content import store
from app.search import related


def ready(client) -> None:
    client.get("/healthz")  # the first request starts making the related pages' terms
    assert client.application.extensions["related"].terms.ready()


def listed(html: str, css_class: str) -> list[tuple[str, str]]:
    """(href, text) of each link in the page's navigation of `css_class`."""
    nav = re.search(rf'<nav class="{css_class}".*?</nav>', html, re.S)
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(0)) if nav else []


def test_the_authors_related_pages_come_first_in_their_order_then_the_most_alike(client, docs_dir):
    write(
        docs_dir,
        "what-is-identitynet",
        (docs_dir / "what-is-identitynet.md")
        .read_text(encoding="utf-8")
        .replace("---\n", "---\nrelated: [generative-ai-intro, what-is-ip-adapter]\n", 1),
    )
    ready(client)
    shown = listed(client.get("/docs.php?doc=what-is-identitynet").text, "see-also")
    slugs = [re.search(r"doc=([a-z0-9-]+)", href).group(1) for href, _ in shown]
    assert slugs[:2] == ["generative-ai-intro", "what-is-ip-adapter"]  # pinned, in the author's order
    assert len(slugs) == 4 and len(set(slugs)) == 4 and "what-is-identitynet" not in slugs  # then found
    api = client.get("/api/docs/what-is-identitynet").json["see_also"]
    assert [item["slug"] for item in api] == slugs and [item["pinned"] for item in api] == [True, True, False, False]


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_every_bundled_page_shows_up_to_four_related_pages_never_itself(client, lang):
    ready(client)
    for slug in (
        "avatarify-intro",
        "generative-ai-intro",
        "generative-ai-terminology",
        "instantid-intro",
        "what-is-identitynet",
        "what-is-ip-adapter",
    ):
        shown = listed(client.get(f"/docs.php?doc={slug}&lang={lang}").text, "see-also")
        slugs = [re.search(r"doc=([a-z0-9-]+)", href).group(1) for href, _ in shown]
        assert 1 <= len(slugs) <= 4 and slug not in slugs and len(set(slugs)) == len(slugs), slug
        assert all(f"lang={lang}" in href for href, _ in shown)


def test_next_steps_are_a_numbered_list_in_the_authors_order_and_keep_the_presentation(client, docs_dir):
    write(docs_dir, "forste-steg", "---\nnext: [instantid-intro, what-is-identitynet]\n---\n# Første steg\n\nTekst.\n")
    ready(client)
    html = client.get("/docs.php?doc=forste-steg&embed=1&theme=dark").text
    assert '<nav class="next-steps" aria-labelledby="neste-steg">' in html and "<ol>" in html.split("next-steps")[1]
    steps = listed(html, "next-steps")
    assert [text for _, text in steps] == ["Hva er InstantID?", "IdentityNet"]
    assert all("embed=1" in href and "theme=dark" in href for href, _ in steps)
    related = [re.search(r"doc=([a-z0-9-]+)", href).group(1) for href, _ in listed(html, "see-also")]
    assert not {"instantid-intro", "what-is-identitynet"} & set(related)  # a page listed once
    assert client.get("/api/docs/forste-steg").json["next_steps"][0]["slug"] == "instantid-intro"


def test_a_norwegian_page_in_an_english_list_is_marked_norwegian(client, docs_dir):
    write(
        docs_dir, "bare-norsk", "---\nrelated: [instantid-intro]\n---\n# Bare på norsk\n\nInstantID og IdentityNet.\n"
    )
    write(docs_dir / "en", "english-only", "---\nrelated: [bare-norsk]\n---\n# English only\n\nInstantID text.\n")
    ready(client)
    html = client.get("/docs.php?doc=english-only&lang=en").text
    nav = re.search(r'<nav class="see-also".*?</nav>', html, re.S).group(0)
    assert '<a href="/docs.php?doc=bare-norsk&amp;lang=en" lang="nb">Bare på norsk</a>' in nav
    assert "(in Norwegian)" in nav


def test_a_cached_page_shows_another_pages_new_title_at_the_next_rescan(client, docs_dir, monkeypatch):
    # Edits to other pages are seen at the store's next full rescan; make that every time.
    monkeypatch.setattr(store, "FULL_RESCAN_SECONDS", 0)
    monkeypatch.setattr(store, "RESCAN_COST_FACTOR", 0)
    ready(client)
    first = client.get("/docs.php?doc=what-is-identitynet&lang=nb").text
    assert "Hva er InstantID?" in str(listed(first, "see-also"))
    text = (docs_dir / "instantid-intro.md").read_text(encoding="utf-8")
    write(docs_dir, "instantid-intro", text.replace("# Hva er InstantID?", "# InstantID, forklart"))
    ready(client)
    again = client.get("/docs.php?doc=what-is-identitynet&lang=nb").text
    assert "InstantID, forklart" in str(listed(again, "see-also"))


def test_a_page_made_before_the_related_pages_were_found_is_made_again_once_they_are(client, monkeypatch):
    made = threading.Event()
    terms = related._Terms

    def slow_terms(library, lang):
        made.wait(10)  # as 10,000 pages take seconds
        return terms(library, lang)

    monkeypatch.setattr(related, "_Terms", slow_terms)
    monkeypatch.setattr(related, "FIRST_WAIT_SECONDS", 0)
    early = client.get("/docs.php?doc=what-is-identitynet&lang=nb")
    assert early.status_code == 200 and listed(early.text, "see-also") == []  # no page waits for them
    made.set()
    ready(client)
    later = client.get("/docs.php?doc=what-is-identitynet&lang=nb", headers={"If-None-Match": early.headers["ETag"]})
    assert later.status_code == 200 and len(listed(later.text, "see-also")) == 4
    assert client.get("/docs.php?doc=what-is-identitynet&lang=nb").headers["ETag"] == later.headers["ETag"]


def test_what_a_page_shows_of_others_is_found_once_per_version_of_the_pages_not_per_request(client, monkeypatch):
    # The app reads the API for each page it opens, and a page asked for by another spelling
    # of its address reaches the view: at 10,000 pages finding what they show took 10 ms
    # a request, the cached answer 0.4.
    ready(client)
    urls = ("/api/docs/what-is-identitynet", "/docs.php?lang=nb&doc=what-is-identitynet")
    for url in urls:
        assert client.get(url).status_code == 200
    asked = []
    like = related._Terms.like
    monkeypatch.setattr(related._Terms, "like", lambda terms, slug: asked.append(slug) or like(terms, slug))
    for _ in range(3):
        for url in urls:
            assert client.get(url).status_code == 200
    assert asked == []


def test_an_old_slug_in_next_leads_to_the_page_that_took_it_over(client, docs_dir):
    path = docs_dir / "instantid-intro.md"
    write(docs_dir, "instantid-intro", path.read_text(encoding="utf-8").replace("---\n", "---\naliases: [gammel]\n", 1))
    write(docs_dir, "forste-steg", "---\nnext: [gammel]\n---\n# Første steg\n\nTekst.\n")
    ready(client)
    steps = listed(client.get("/docs.php?doc=forste-steg").text, "next-steps")
    assert steps == [("/docs.php?doc=instantid-intro", "Hva er InstantID?")]
