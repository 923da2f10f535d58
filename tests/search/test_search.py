"""Search: Norwegian stemming and folding, prefixes, ranking, passages and hostile queries."""

from __future__ import annotations

import re
import threading

import pytest
from helpers import scripts_other_than_ours, search_over, slugs, write

from app.content import store as documents
from app.content.sections import Section, page_sections
from app.search.index import SearchIndex
from app.search.passages import passage as passage_of
from app.search.query import terms_of
from app.search.ranking import MAX_PREFIX_TERMS
from app.search.synonyms import Synonyms


@pytest.fixture
def search(tmp_path):
    write(tmp_path, "bilder", "# Bilder i appen\n\nSlik laster du opp bildene dine. Ett bilde er nok.\n")
    write(tmp_path, "ansikt", "# Ansiktet ditt\n\nModellen leser ansiktstrekk fra bildet.\n")
    write(tmp_path, "konto", "# Kontoen din\n\n## Slette kontoen\n\nDu kan slette kontoen når som helst.\n")
    write(
        tmp_path,
        "ordliste",
        "# Ordliste\n\nHer forklares ord som konto, ansikt og avatar i lange avsnitt.\n\n"
        "## Avatar\n\nEn avatar er et bilde av deg.\n",
    )
    write(tmp_path, "baer", "# Blåbærsyltetøy\n\nÆrlig talt: blåbær og økologisk syltetøy på én side.\n")
    return search_over(tmp_path)


@pytest.mark.parametrize("query", ["bilde", "bilder", "bildene", "Bildene", "BILDE"])
def test_stemming_finds_every_form_of_a_word(search, query):
    assert slugs(search, query)[0] == "bilder"


def test_folding_and_norwegian_letters(search):
    assert slugs(search, "ANSIKT")[0] == "ansikt"
    assert slugs(search, "blåbær") == ["baer"]
    assert slugs(search, "ØKOLOGISK") == ["baer"]
    # å typed as a and æ as ae is a correction (one edit), said as one, never silent.
    found = search.find("blabaer", "nb")
    assert [hit.page.slug for hit in found.hits] == ["baer"] and found.corrected == "blåbær"
    assert slugs(search, "blabaer", exact=True) == []


def test_a_word_sent_decomposed_or_with_format_characters_is_the_word(client, docs_dir):
    """å sent as a and a combining ring (as a Mac may), a soft hyphen or a zero-width joiner
    inside a word: the search and the suggestions read the word the reader sees."""
    write(docs_dir, "baer", "# Blåbærsyltetøy\n\nBlåbær og økologisk syltetøy.\n")
    for typed in ("bla\u030abær", "blå\u00adbær", "blå\u200dbær", "blåbær"):
        found = client.get("/api/search", query_string={"q": typed, "lang": "nb"}).json
        assert [hit["slug"] for hit in found["results"]][:1] == ["baer"] and found["corrected_query"] is None, typed
        offered = client.get("/api/suggest", query_string={"q": typed[:-1], "lang": "nb"}).json["suggestions"]
        assert [s["slug"] for s in offered][:1] == ["baer"], typed
    page = client.get("/docs.php", query_string={"q": "bla\u030abær"}).text
    assert "Ingen treff" not in page and "Blåbærsyltetøy" in page


def test_a_short_word_typed_without_norwegian_letters_is_that_word_said_as_a_correction(tmp_path):
    write(tmp_path, "mork-modus", "# Mørk modus\n\nSlik slår du på mørk modus for øyne som er slitne.\n")
    write(tmp_path, "annet", "# Noe annet\n\nTekst om bilder.\n")
    search = search_over(tmp_path)
    for typed, meant in (("mork modus", "mørk modus"), ("oyne", "øyne")):
        found = search.find(typed, "nb")
        assert found.corrected == meant and found.hits[0].page.slug == "mork-modus", typed
    assert not search.find("mork modus", "nb", exact=True).corrected
    assert not search.find("modu", "nb").corrected  # too short to be a typo, and no letter left out


def test_prefix_finds_compounds(search):
    assert "ansikt" in slugs(search, "ansikt")
    hits = search.find("ansikt", "nb").hits
    passage = "".join(text for text, marked in hits[0].passage if marked)
    assert "ansiktstrekk" in passage or "Ansiktet" in passage


def test_exact_title_match_ranks_first(search):
    # "ordliste" mentions konto, but the page titled "Kontoen din" is the one asked for.
    assert slugs(search, "kontoen")[0] == "konto"
    assert slugs(search, "avatar")[0] == "ordliste"


def test_headings_outrank_body(search, tmp_path):
    write(tmp_path, "a-body", "# Noe annet\n\nHer står ordet slette i brødteksten en gang.\n")
    assert slugs(search, "slette")[0] == "konto"


def test_pages_with_more_of_the_terms_first(search):
    assert slugs(search, "slette kontoen")[0] == "konto"
    # No page has all three: the pages with two of them, then those with one.
    assert slugs(search, "syltetøy kontoen avatar")[0] == "ordliste"
    # A word no page has: another subject, so nothing.
    assert slugs(search, "syltetøy sjiraff") == []


def test_passage_marks_matches(search):
    hit = search.find("bildene", "nb").hits[0]
    marked = [text for text, is_match in hit.passage if is_match]
    assert marked and all(text.lower().startswith("bild") for text in marked)


def test_passage_is_the_section_with_most_of_the_terms_a_heading_with_them_first():
    patterns = [re.compile(r"bild\w*")]
    heading_only = Section("bilder", "Bilder", "Ingen treff her.")
    two_forms = Section("om-appen", "Om appen", "Et bilde og\nflere BILDER.")
    # One term, in two forms in passing: the section whose heading has it is the answer.
    assert passage_of([two_forms, heading_only], patterns) == (heading_only, (("Ingen treff her.", False),))
    # A section with more of the terms wins, its matches marked.
    ki = [re.compile(r"bild\w*"), re.compile(r"ki\b")]
    assert passage_of([heading_only, Section("ki", "Om KI", "Et bilde.")], ki)[0].anchor == "ki"
    assert passage_of([heading_only, two_forms], patterns + [re.compile(r"flere\b")]) == (
        two_forms,
        (
            ("Et ", False),
            ("bilde", True),
            (" og ", False),
            ("flere", True),
            (" ", False),
            ("BILDER", True),
            (".", False),
        ),
    )
    # The page's lead has its title for a heading: a title with the word keeps the reader at
    # the top, not at a later heading with it.
    lead, later = Section("", "", "LoRA er en metode."), Section("lora-i-praksis", "LoRA i praksis", "Tekst.")
    lora = [re.compile(r"lora\b")]
    assert passage_of([lead, later], lora, title="Hva er LoRA?")[0] is None
    assert passage_of([lead, later], lora)[0] == later
    # The patterns of one term (a word, its synonyms and translations) count once.
    synonyms = [re.compile(r"finjuster\w*"), re.compile(r"fine\b"), re.compile(r"tuning\b")]
    sources = Section("kilder", "Kilder", "Fine-tuning, og finjustering.")
    heading = Section("finjustering", "Finjustering", "Å trene videre.")
    assert passage_of([sources, heading], synonyms, terms=[frozenset({0})] * 3)[0] == heading
    assert passage_of([sources, heading], synonyms)[0] == sources  # as three terms, not one


def test_passage_marks_words_that_start_with_a_stem_and_not_the_stem_inside_a_word():
    patterns = [re.compile(r"bild\w*"), re.compile(r"ki\b")]  # a pattern for each word of a query
    inside = Section("forbilder", "Forbilder", "Et forbilde, et_bildet og en ski.")
    starting = Section("bilder", "Bilder", "Et Bilde laget av KI.")
    section, passage = passage_of([inside, starting], patterns)
    assert section == starting and [run for run, is_match in passage if is_match] == ["Bilde", "KI"]


def test_a_passage_keeps_the_quotes_and_brackets_of_its_first_and_last_words():
    text = "«IP» betyr Image Prompt (ledetekst)."
    assert passage_of([Section("", "", text)], [re.compile(r"ip\b")])[1] == (
        ("«", False),
        ("IP", True),
        ("» betyr Image Prompt (ledetekst).", False),
    )
    _, cut = passage_of([Section("", "", "«Et» (langt) ord.")], [re.compile(r"et\b")], length=2)
    assert cut == (("«", False), ("Et", True), ("» (langt) …", False))


def test_sections_leave_out_bullets_and_quote_markers():
    body = "# Tittel\n\n- Første punkt\n* andre\n\n1. Ett\n2) To\n\n> Sitat\n\nTall: 3 - 2 = 1.\n"
    assert page_sections(body)[1] == "Første punkt andre 1. Ett 2) To Sitat Tall: 3 - 2 = 1."


def test_a_passage_keeps_no_control_character_and_no_long_run_between_words():
    _, passage = passage_of(
        [Section("", "", "\x07\x1b\x00zzqx." + " " + "!" * 60_000 + " slutt")], [re.compile(r"zzqx")]
    )
    assert passage[0] == ("zzqx", True)
    assert sum(len(text) for text, _ in passage) < 300


def test_a_minus_the_page_shows_stays_and_markers_in_quotes_and_rules_go():
    assert page_sections("# Pris\n\nPrisen er 10 kroner\n- 2 kroner i rabatt.\n")[1] == (
        "Prisen er 10 kroner - 2 kroner i rabatt."
    )
    assert page_sections("# Sitat\n\nKort:\n\n> - punkt i sitat\n> - to\n>> - dypt\n\n- - -\n\nSlutt.\n")[1] == (
        "Kort: punkt i sitat to dypt Slutt."
    )
    # A list goes on through its items' lines, and ends at a paragraph after a blank line.
    body = "# L\n\n- en\nfortsatt\n- to\n\n  inne i punktet\n- tre\n\nAvsnitt\n- minus\n"
    assert page_sections(body)[1] == "en fortsatt to inne i punktet tre Avsnitt - minus"


def test_passage_marks_the_right_words_after_letters_that_lower_case_to_two():
    # "İ".lower() is two characters: the marks must still land on the words of the text.
    _, passage = passage_of([Section("", "", "İİİ İstanbul: et bilde.")], [re.compile(r"bild\w*")])
    assert passage == (("İİİ İstanbul: et ", False), ("bilde", True), (".", False))


def test_passage_of_a_long_section_starts_a_few_words_before_its_first_match():
    words = [f"ord{i}" for i in range(200)]
    words[150] = "bildene"
    _, passage = passage_of([Section("", "", " ".join(words))], [re.compile(r"bild\w*")], before=3, length=6)
    assert passage == (("… ord147 ord148 ord149 ", False), ("bildene", True), (" ord151 ord152 …", False))


@pytest.mark.parametrize(
    "query",
    [
        "",
        " ",
        '"',
        '""',
        "*",
        "NEAR(a b)",
        "a NEAR b",
        "-konto",
        "konto OR",
        "AND",
        "(",
        ")",
        "^bilde",
        "bilde:*",
        "title:konto",
        "'; DROP TABLE fts; --",
        "\x00",
        "\u2028",
        "x" * 300,
        "🙂",
        "a" * 5000,
        "konto " * 100,
        "%",
        "\\",
        "{konto}",
        "NOT konto",
        "konto*",
    ],
)
def test_odd_queries_are_answered(search, query):
    found = search.find(query, "nb")
    assert isinstance(found.hits, tuple) and found.total >= len(found.hits)
    assert slugs(search, "konto")  # the index still works afterwards


def test_index_follows_edits(search, tmp_path, monkeypatch):
    # In-place edits are seen at the store's next full rescan; make that every time.
    monkeypatch.setattr(documents, "FULL_RESCAN_SECONDS", 0)
    monkeypatch.setattr(documents, "RESCAN_COST_FACTOR", 0)
    assert slugs(search, "sjiraff") == []
    write(tmp_path, "dyr", "# Dyr\n\nEn sjiraff.\n")
    assert slugs(search, "sjiraff") == ["dyr"]  # the cached "nothing" is gone with the old pages
    write(tmp_path, "dyr", "# Dyr\n\nEn elefant.\n")
    assert slugs(search, "sjiraff") == [] and slugs(search, "elefant") == ["dyr"]
    assert search.find("sjiraffen", "nb").corrected == ""  # corrections come from words pages have now
    (tmp_path / "dyr.md").unlink()
    assert slugs(search, "elefant") == []


def test_chip_groups_are_not_searched():
    headings, text = page_sections('# T\n\nProsa.\n\n## Lenker\n\n<div class="mt-3">\n<a href="x">Chip</a>\n</div>\n')
    assert headings == [] and "Chip" not in text and "Prosa." in text


def test_search_page(client):
    response = client.get("/docs.php?q=bildene")
    assert response.status_code == 200
    html = response.text
    assert "treff for «bildene»" in html
    assert re.search(r"<mark>bild", html, re.I)
    assert '<meta name="robots" content="noindex">' in html


def test_real_pages_answer_real_questions(client):
    def first(query):
        return re.search(
            r'<ol class="results">\s*<li>\s*<a href="/docs.php\?doc=([^"]+)"',
            client.get("/docs.php", query_string={"q": query}).text,
        ).group(1)

    assert first("InstantID") == "instantid-intro"
    assert first("ip adapter") == "what-is-ip-adapter"
    assert first("identitynet") == "what-is-identitynet"
    assert first("ordliste") == "generative-ai-terminology"


@pytest.mark.parametrize(
    "query",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "</mark><script>x</script>",
        "bilde<svg/onload=alert(1)>",
    ],
)
def test_queries_never_inject_markup(client, query):
    html = client.get("/docs.php", query_string={"q": query}).text
    assert "<script>" not in html and "<img src=x" not in html and "<svg" not in html
    assert "&lt;" in html


def test_empty_and_huge_queries_get_a_normal_page(client):
    assert client.get("/docs.php?q=").status_code == 200
    response = client.get("/docs.php", query_string={"q": "bilde " * 1000})
    assert response.status_code == 200
    assert 'maxlength="200"' in response.text


def test_control_characters_of_a_query_are_left_out_where_it_is_shown(client):
    for url in ("/docs.php", "/api/search"):
        response = client.get(url, query_string={"q": "ip\x00-adapter\x1b\u200b \x7f"})
        assert response.status_code == 200
        for char in "\x00\x1b\u200b\x7f":
            assert char not in response.text and char.encode("unicode_escape").decode() not in response.text
    assert client.get("/api/search", query_string={"q": "ip\x00-adapter"}).get_json()["query"] == "ip-adapter"


def test_search_box_in_the_layout_works_without_javascript(client):
    html = client.get("/docs.php?doc=instantid-intro").text
    form = re.search(r'<form class="search" action="/docs.php" method="get" role="search">(.*?)</form>', html, re.S)
    assert form and 'name="q"' in form.group(1) and "<label" in form.group(1)
    assert scripts_other_than_ours(html) == []  # the box is a plain form; the script only adds suggestions


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


def test_what_readers_type_grows_no_memo(client):
    from app.search.engine import get_index, get_search

    with client.application.test_request_context():
        index = get_index("nb")
        index.update()
        get_search().find("ansiktsgjenkjenning", "nb")
        known = len(index._stems), len(index._parts)
        for i in range(500):
            get_search().find(f"ordsomikkefinnes{i} annet{i} ansiktsgjenkjenningx{i}", "nb")
        assert (len(index._stems), len(index._parts)) == known


def test_few_terms_match_by_prefix(tmp_path):
    write(
        tmp_path,
        "lys",
        "# Lys og farger\n\nLyset og lyskilder, fargene og fargerike ansikter med "
        "ansiktstrekk, modellen og modellene, bildene og bildebehandling.\n",
    )
    index = search_over(tmp_path).indexes["nb"]
    index.update()
    whole, *_ = index._expressions(terms_of("ab ansikt bilde modell farge lys".split(), Synonyms()))
    assert '("ab")' in whole  # too short to be a prefix
    # The longest stems match the indexed words they start, spelled out.
    assert '("ansikt" OR "ansiktstrekk")' in whole and '("bild" OR "bildebehandling")' in whole
    # Past MAX_PREFIX_TERMS of them, the shortest matches itself only, though "lyskild" starts with it.
    assert MAX_PREFIX_TERMS == 4 and '("lys")' in whole and index._has("lyskild")
