"""Search: Norwegian stemming and folding, prefixes, ranking, passages and hostile queries."""

from __future__ import annotations

import re
import threading

import pytest

from app import documents
from app.documents import DocumentStore
from app.pages import page_sections
from app.search import SearchIndex

from conftest import write


@pytest.fixture
def index(tmp_path):
    write(tmp_path, "bilder", "# Bilder i appen\n\nSlik laster du opp bildene dine. Ett bilde er nok.\n")
    write(tmp_path, "ansikt", "# Ansiktet ditt\n\nModellen leser ansiktstrekk fra bildet.\n")
    write(tmp_path, "konto", "# Kontoen din\n\n## Slette kontoen\n\nDu kan slette kontoen når som helst.\n")
    write(tmp_path, "ordliste", "# Ordliste\n\nHer forklares ord som konto, ansikt og avatar i lange avsnitt.\n\n"
          "## Avatar\n\nEn avatar er et bilde av deg.\n")
    write(tmp_path, "blåbær", "# Blåbærsyltetøy\n\nÆrlig talt: blåbær og økologisk syltetøy på én side.\n")
    (tmp_path / "bl\u00e5b\u00e6r.md").unlink()  # not a valid slug; use an ascii slug instead
    write(tmp_path, "baer", "# Blåbærsyltetøy\n\nÆrlig talt: blåbær og økologisk syltetøy på én side.\n")
    store = DocumentStore(tmp_path)
    store.load()
    built = SearchIndex(store)
    built.update()
    return built


def slugs(index, query):
    return [hit.page.slug for hit in index.search(query)]


@pytest.mark.parametrize("query", ["bilde", "bilder", "bildene", "Bildene", "BILDE"])
def test_stemming_finds_every_form_of_a_word(index, query):
    assert slugs(index, query)[0] == "bilder"


def test_folding_and_norwegian_letters(index):
    assert slugs(index, "ANSIKT")[0] == "ansikt"
    assert slugs(index, "blåbær") == ["baer"]
    assert slugs(index, "ØKOLOGISK") == ["baer"]
    assert slugs(index, "blabaer") == []  # å is not a, ø is not o


def test_prefix_finds_compounds(index):
    assert "ansikt" in slugs(index, "ansikt")
    hits = index.search("ansikt")
    passage = "".join(text for text, marked in hits[0].passage if marked)
    assert "ansiktstrekk" in passage or "Ansiktet" in passage


def test_exact_title_match_ranks_first(index):
    # "ordliste" mentions konto, but the page titled "Kontoen din" is the one asked for.
    assert slugs(index, "kontoen")[0] == "konto"
    assert slugs(index, "avatar")[0] == "ordliste"


def test_headings_outrank_body(index, tmp_path):
    write(tmp_path, "a-body", "# Noe annet\n\nHer står ordet slette i brødteksten en gang.\n")
    assert slugs(index, "slette")[0] == "konto"


def test_all_terms_first_then_any(index):
    assert slugs(index, "slette kontoen") == ["konto"]
    assert set(slugs(index, "syltetøy kontoen")) == {"baer", "konto", "ordliste"}  # none has both


def test_passage_marks_matches(index):
    hit = index.search("bildene")[0]
    marked = [text for text, is_match in hit.passage if is_match]
    assert marked and all(text.lower().startswith("bild") for text in marked)


@pytest.mark.parametrize("query", [
    "", " ", '"', '""', "*", "NEAR(a b)", "a NEAR b", "-konto", "konto OR", "AND", "(", ")", "^bilde",
    "bilde:*", "title:konto", "'; DROP TABLE fts; --", "\x00", "\u2028", "x" * 300, "🙂", "a" * 5000,
    "konto " * 100, "%", "\\", "{konto}", "NOT konto", "konto*",
])
def test_odd_queries_are_answered(index, query):
    hits = index.search(query)
    assert isinstance(hits, list)
    assert index.search("konto")  # the index still works afterwards


def test_index_follows_edits(index, tmp_path, monkeypatch):
    # In-place edits are seen at the store's next full rescan; make that every time.
    monkeypatch.setattr(documents, "FULL_RESCAN_SECONDS", 0)
    monkeypatch.setattr(documents, "RESCAN_COST_FACTOR", 0)
    assert slugs(index, "sjiraff") == []
    write(tmp_path, "dyr", "# Dyr\n\nEn sjiraff.\n")
    assert slugs(index, "sjiraff") == ["dyr"]
    write(tmp_path, "dyr", "# Dyr\n\nEn elefant.\n")
    assert slugs(index, "sjiraff") == [] and slugs(index, "elefant") == ["dyr"]
    (tmp_path / "dyr.md").unlink()
    assert slugs(index, "elefant") == []


def test_chip_groups_are_not_searched():
    headings, text = page_sections("# T\n\nProsa.\n\n## Lenker\n\n<div class=\"mt-3\">\n<a href=\"x\">Chip</a>\n</div>\n")
    assert headings == [] and "Chip" not in text and "Prosa." in text


def test_search_page(client):
    response = client.get("/docs.php?q=bildene")
    assert response.status_code == 200
    html = response.text
    assert 'treff for «bildene»' in html
    assert re.search(r"<mark>bild", html, re.I)
    assert '<meta name="robots" content="noindex">' in html


def test_real_pages_answer_real_questions(client):
    def first(query):
        return re.search(r'<ol class="results">\s*<li>\s*<a href="/docs.php\?doc=([^"]+)"',
                         client.get("/docs.php", query_string={"q": query}).text).group(1)
    assert first("InstantID") == "instantid-intro"
    assert first("ip adapter") == "what-is-ip-adapter"
    assert first("identitynet") == "what-is-identitynet"
    assert first("ordliste") == "generative-ai-terminology"


@pytest.mark.parametrize("query", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
                                   "</mark><script>x</script>", "bilde<svg/onload=alert(1)>"])
def test_queries_never_inject_markup(client, query):
    html = client.get("/docs.php", query_string={"q": query}).text
    assert "<script>" not in html and "<img src=x" not in html and "<svg" not in html
    assert "&lt;" in html


def test_empty_and_huge_queries_get_a_normal_page(client):
    assert client.get("/docs.php?q=").status_code == 200
    response = client.get("/docs.php", query_string={"q": "bilde " * 1000})
    assert response.status_code == 200
    assert 'maxlength="200"' in response.text


def test_search_box_in_the_layout_works_without_javascript(client):
    html = client.get("/docs.php?doc=instantid-intro").text
    form = re.search(r'<form class="search" action="/docs.php" method="get" role="search">(.*?)</form>', html, re.S)
    assert form and 'name="q"' in form.group(1) and "<label" in form.group(1)
    assert "<script" not in html


def test_a_heading_that_is_the_query_ranks_first(client):
    # "LoRA" is a heading of the glossary, and only mentioned in a heading of the InstantID page.
    html = client.get("/docs.php", query_string={"q": "hva er LoRA", "lang": "nb"}).text
    first = re.search(r'<ol class="results">\s*<li>\s*<a href="/docs.php\?doc=([^"&]+)', html).group(1)
    assert first == "generative-ai-terminology"


def test_pages_are_served_while_the_index_is_built(make_app, monkeypatch):
    started, release = threading.Event(), threading.Event()
    build = SearchIndex.update

    def slow_build(self):
        if threading.current_thread().name.startswith("search-index-"):
            started.set()
            release.wait(10)
        build(self)

    monkeypatch.setattr(SearchIndex, "update", slow_build)
    client = make_app().test_client()
    assert not started.wait(0.2)  # nothing is built before the first request
    assert client.get("/docs.php?doc=instantid-intro").status_code == 200
    assert started.wait(5)  # that request started the build, and did not wait for it
    assert client.get("/docs.php?doc=what-is-ip-adapter").status_code == 200
    release.set()
    response = client.get("/docs.php?q=ansiktstrekk")
    assert 'href="/docs.php?doc=instantid-intro"' in response.text


def test_what_readers_type_does_not_grow_the_stem_memo(client):
    from app.search import get_index
    with client.application.test_request_context():
        index = get_index("nb")
        index.update()
        known = len(index._stems)
        for i in range(500):
            index.search(f"ordsomikkefinnes{i} annet{i}")
        assert len(index._stems) == known


def test_short_words_match_whole_words_and_few_terms_match_by_prefix():
    from app.search import MAX_PREFIX_TERMS, match_terms
    terms = match_terms(["ab", "ansikt", "bild", "model", "stil", "lys", "x"])
    prefixed = [t for t in terms if t.endswith("*")]
    assert len(prefixed) == MAX_PREFIX_TERMS and '"ab"' in terms and '"x"' in terms
    assert '"ansikt"*' in terms
