"""A draft (`draft: true`) is shown with PREVIEW on and nowhere without it: every surface a
reader or the app reaches, asked once in each mode. The one place that decides is the
Library's stores (app/content/store.py); these tests hold every surface to it."""

from __future__ import annotations

import pytest
from helpers import SAME_SITE, migrated, write

from app.search.related import RelatedPages

DRAFT = "sjiraff-utkast"
FRONT = "draft: true\naliases: [gammel-sjiraff]\ncontexts: [screen.sjiraff, screen.upload]"
CHIPS = """
<div class="mt-3">
    <a href="docs.php?doc={target}" class="chip chip-s bg-gray-light">
        <i class="fa fa-info color-white bg-green-dark"></i>
        <strong class="color-black font-400">Lenke</strong>
    </a>
</div>
"""


@pytest.fixture(params=[False, True], ids=["production", "preview"])
def preview(request) -> bool:
    return request.param


@pytest.fixture
def site(make_app, docs_dir, preview):
    """The bundled pages, a draft in both languages, and a published page that links to it."""
    body = "Sjiraffhalser i appen: om sjiraffhalsens lengde, bilder, ansikt og modeller."
    write(docs_dir, DRAFT, f"---\n{FRONT}\n---\n# Sjiraffer i utkast\n\n{body}\n\n## Sjiraffhals\n\nMer.\n")
    write(docs_dir / "en", DRAFT, f"---\n{FRONT}\n---\n# Giraffes in draft\n\nGiraffe necks, faces and models.\n")
    write(
        docs_dir,
        "sjiraff-publisert",
        "---\ncontexts: [screen.upload]\nrelated: [sjiraff-utkast]\n---\n# Publisert om sjiraffer\n\nBilder, ansikt og modeller.\n"
        + CHIPS.format(target=DRAFT)
        + CHIPS.format(target="instantid-intro"),
    )
    write(docs_dir, "sjiraff-neste", f"---\nnext: [{DRAFT}]\n---\n# Neste om sjiraffer\n\nHalser.\n")
    return migrated(make_app(PREVIEW=preview, PUBLIC_BASE_URL="http://localhost:8000")).test_client()


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_page_itself(site, preview, lang):
    response = site.get(f"/docs.php?doc={DRAFT}&lang={lang}")
    assert response.status_code == (200 if preview else 404)
    assert ("Sjiraffer i utkast" in response.text or "Giraffes in draft" in response.text) is preview


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_index(site, preview, lang):
    assert (f"doc={DRAFT}" in site.get(f"/docs.php?lang={lang}").text) is preview


def test_search_on_the_page_and_in_the_api(site, preview):
    assert (f"doc={DRAFT}" in site.get("/docs.php?q=sjiraffhals").text) is preview
    found = site.get("/api/search?q=sjiraffhals&lang=nb").json["results"]
    assert (DRAFT in [hit["slug"] for hit in found]) is preview


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_suggestions(site, preview, lang):
    assert site.application.extensions["suggester"].ready()
    typed = "sjiraffer i" if lang == "nb" else "giraffes in"
    found = site.get(f"/api/suggest?q={typed}&lang={lang}").json["suggestions"]
    assert (DRAFT in [item["slug"] for item in found]) is preview


def test_related_pages(site, preview):
    related = RelatedPages(site.application.extensions["library"])
    assert related.terms.ready()
    assert (DRAFT in [slug for slug, _ in related.like("sjiraff-publisert", "nb")]) is preview
    chips = site.get("/api/docs/sjiraff-publisert").json["related"]
    assert (DRAFT in [item["slug"] for item in chips]) is preview and "instantid-intro" in str(chips)
    see_also = site.get("/api/docs/sjiraff-publisert").json["see_also"]  # its author's related: names the draft
    assert ([item["slug"] for item in see_also][:1] == [DRAFT]) is preview
    assert (DRAFT in [item["slug"] for item in see_also]) is preview
    next_steps = site.get("/api/docs/sjiraff-neste").json["next_steps"]  # and this one's next:
    assert ([item["slug"] for item in next_steps] == [DRAFT]) is preview
    assert ('<nav class="next-steps"' in site.get("/docs.php?doc=sjiraff-neste").text) is preview


def test_the_sitemap(site, preview):
    assert (f"doc={DRAFT}" in site.get("/sitemap.xml").text) is preview


def test_the_api(site, preview):
    assert (DRAFT in [doc["slug"] for doc in site.get("/api/docs?lang=nb").json["docs"]]) is preview
    assert site.get(f"/api/docs/{DRAFT}?lang=en").status_code == (200 if preview else 404)
    contexts = site.get("/api/contexts").json
    keys = {entry["key"]: entry["pages"] for entry in contexts["contexts"]}
    assert ("screen.sjiraff" in keys) is preview and (DRAFT in keys["screen.upload"]) is preview
    assert ({"alias": "gammel-sjiraff", "page": DRAFT} in contexts["aliases"]) is preview


def test_the_apps_places_and_old_slugs(site, preview):
    assert site.get("/go/screen.sjiraff").status_code == (302 if preview else 404)
    # A key a draft shares with a published page: the chooser in preview, the page itself without.
    assert site.get("/go/screen.upload").status_code == (200 if preview else 302)
    assert site.get("/docs.php?doc=gammel-sjiraff").status_code == (301 if preview else 404)


def test_the_404_pages_suggestions(site, preview):
    assert (f"doc={DRAFT}" in site.get("/docs.php?doc=sjiraff-utkat").text) is preview


def test_feedback(site, preview):
    vote = {"slug": DRAFT, "lang": "nb", "helpful": True}
    assert site.post("/api/feedback", json=vote).status_code == (201 if preview else 404)
    form = site.post(f"/tilbakemelding?doc={DRAFT}", data={"helpful": "yes"}, headers=SAME_SITE)
    assert form.status_code == (303 if preview else 404)


def test_a_draft_published_is_everywhere_at_once(make_app, docs_dir):
    write(docs_dir, DRAFT, f"---\n{FRONT}\n---\n# Sjiraffer i utkast\n\nSjiraffhalser.\n")
    production = make_app().test_client()
    assert production.get(f"/docs.php?doc={DRAFT}").status_code == 404
    write(docs_dir, DRAFT, f"---\n{FRONT.replace('draft: true', 'draft: false')}\n---\n# Sjiraffer\n\nSjiraffhalser.\n")
    assert production.get(f"/docs.php?doc={DRAFT}").status_code == 200
    assert f"doc={DRAFT}" in production.get("/docs.php?q=sjiraffhals").text
    assert production.get("/go/screen.sjiraff").status_code == 302


def test_a_draft_is_never_locked_as_published(site, preview, docs_dir):
    from datetime import date

    from app.content.addresses import lock_new_addresses

    added = lock_new_addresses(site.application.extensions["library"], date(2026, 12, 7))
    assert added and not [line for line in added if "sjiraff-utkast" in line or "screen.sjiraff" in line]
