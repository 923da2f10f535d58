"""Search that forgives: typos, compounds, inflections, synonyms, other languages, the
correction notice ("Viser treff for …") and the correction offered when nothing is found
("Mente du …?"), sections, 404 suggestions, and bounds on what readers can make it do."""

from __future__ import annotations

import re

import pytest
from helpers import search_over, slugs, write

from app.content.page import parse_document
from app.search import engine as search_module
from app.search.engine import MAX_CACHED_RESULTS, MAX_CORRECTIONS
from app.search.spelling import Corrector, allowed_edits, compound_parts, fold


@pytest.fixture
def search(tmp_path):
    write(
        tmp_path,
        "ansikt",
        "# Ansiktsgjenkjenning\n\nEn modell for ansiktsgjenkjenning gjør et bilde om til tall.\n"
        "\n## Tilgangsstyring\n\nHvem som får se bildene, styres av tilgangsstyring.\n",
    )
    write(tmp_path, "gjenkjenning", "# Gjenkjenning\n\nGjenkjenning av mønstre er en gammel oppgave.\n")
    write(tmp_path, "personvern", "# Personvernerklæring\n\nSlik behandler vi personopplysninger.\n")
    write(tmp_path, "ki", "# Om KI\n\nKI lager bilder fra tekst.\n")
    write(tmp_path, "kjaeledyr", "# Kjæledyr\n\nBilder av kjæledyr og hunder.\n")
    write(tmp_path, "adapter", "# Adapteren\n\nEn adapter gir modellen en ny evne.\n")
    (tmp_path / "_synonyms.yml").write_text("KI: [AI, kunstig intelligens]\nslette: [fjerne]\n", encoding="utf-8")
    (tmp_path / "en").mkdir()
    write(tmp_path / "en", "privacy", "# Privacy\n\nHow we treat personal data.\n")
    return search_over(tmp_path)


def test_an_english_word_is_not_cut_by_norwegian_endings(tmp_path):
    """ "delete" (a synonym of "slette") is no "dele" + "te": it finds the page on deleting,
    not the one on sharing; a Norwegian word is still found in its forms."""
    write(tmp_path, "dele-bilder", "# Dele bilder\n\nSlik deler du bilder med andre. Del dem trygt.\n")
    write(tmp_path, "slette-konto", "# Slette kontoen\n\nSlik sletter du kontoen din.\n")
    (tmp_path / "_synonyms.yml").write_text("slette: [delete]\n", encoding="utf-8")
    search = search_over(tmp_path)
    assert slugs(search, "delete") == ["slette-konto"]
    assert slugs(search, "deletes") == ["slette-konto"]
    assert slugs(search, "delte") == ["dele-bilder"]  # a Bokmål form: its endings are cut


def test_rules_for_edits_and_folding():
    assert [allowed_edits(w) for w in ("bild", "bilde", "personve", "personver", "a1234")] == [0, 1, 1, 2, 0]
    assert fold("kjæledyr") == "kjaeledyr" and fold("størrelse") == "storrelse" and fold("på") == "pa"


@pytest.mark.parametrize(
    "typo, meant, slug",
    [
        ("ansiktsgjenkjening", "ansiktsgjenkjenning", "ansikt"),  # 19 letters: a deletion
        ("personopplysnigner", "personopplysninger", "personvern"),  # a transposition
        ("kjaeledyr", "kjæledyr", "kjaeledyr"),  # æ typed as ae counts as one edit
        ("kjæleddyr", "kjæledyr", "kjaeledyr"),  # a word with æ, one letter too many
        ("adaptæer", "adapter", "adapter"),  # an æ too many is one edit, not two ("ae")
        ("adaptre", "adapter", "adapter"),
    ],
)
def test_a_typo_is_corrected_to_a_word_of_the_pages_and_said_so(search, typo, meant, slug):
    found = search.find(typo, "nb")
    assert found.corrected == meant and found.hits[0].page.slug == slug
    # Exactly what was typed, when the reader asks for it: nothing.
    assert search.find(typo, "nb", exact=True).hits == () and search.find(typo, "nb", exact=True).corrected == ""


def test_a_typed_ae_is_weighed_as_typed_and_folded():
    corrector = Corrector({"feiler": 2, "filer": 9, "støtter": 3, "ansikt": 4})
    # "fæiler" is one edit from both as typed; folded ("faeiler") "feiler" is nearer.
    assert corrector.nearest("fæiler") == ("feiler", 1)
    assert corrector.nearest("støætter") == ("støtter", 1)
    # Letters the folding drops (other scripts, "ı") are no æ: no error, as before.
    assert corrector.nearest("ansıkt") == ("ansikt", 1)
    for word in ("instantid使い方", "þjóðhátíð", "ѕtøttзrѕѕ", "æ" * 200, "фотоavatar"):
        corrector.nearest(word)


def test_a_word_of_the_authors_synonyms_is_no_typo(tmp_path):
    write(tmp_path, "slette", "# Slette kontoen\n\nSlik sletter du kontoen din.\n")
    write(tmp_path, "gjerne", "# Gjerne en konto til\n\nDu kan gjerne lage en konto til.\n")
    (tmp_path / "_synonyms.yml").write_text("slette: [fjerne]\n", encoding="utf-8")
    found = search_over(tmp_path).find("fjerne konto", "nb")
    # No page says «fjerne», and «gjerne» is one letter away: the synonym decides, not the typo.
    assert found.corrected == "" and found.hits[0].page.slug == "slette"


def test_no_correction_beyond_reach_or_for_short_words(search):
    assert search.find("adaptter", "nb").corrected == "adapter"  # 8 letters: 1 edit
    assert search.find("adpatrre", "nb").corrected == ""  # 8 letters, 2 edits: too far
    assert search.find("kii", "nb").corrected == ""  # under 5 letters: never corrected


def test_words_the_pages_have_are_never_corrected(search):
    found = search.find("modell", "nb")
    assert found.corrected == "" and found.hits


def test_corrections_per_query_are_bounded(search):
    typos = " ".join(["adaptre"] * 1 + [f"kjaeledyrr{i}" for i in range(10)])
    found = search.find(typos, "nb")
    assert sum(a != b for a, b in zip(found.corrected.split(), typos.split(), strict=False)) <= MAX_CORRECTIONS


def test_a_compound_part_finds_the_compound_below_whole_words(search):
    assert slugs(search, "gjenkjenning") == ["gjenkjenning", "ansikt"]  # the whole word first
    assert slugs(search, "styring tilgang") == ["ansikt"]


def test_compound_splitting_keeps_linking_letters_apart():
    known = {"ansikt", "tilgang", "modell"}
    assert {"ansikt", "gjenkjenning"} <= compound_parts("ansiktsgjenkjenning", known)
    assert {"tilgang", "styring"} <= compound_parts("tilgangsstyring", known)
    assert compound_parts("portrett", known) == frozenset()


def test_inflections_the_stemmer_misses(search):
    assert slugs(search, "adapterne")[0] == "adapter"


def test_synonyms_apply_both_ways(search):
    assert slugs(search, "AI") == ["ki"]
    assert slugs(search, "kunstig intelligens") == ["ki"]


def test_synonyms_follow_the_file_and_survive_a_broken_edit(search, tmp_path, caplog):
    path = tmp_path / "_synonyms.yml"
    path.write_text("hund: [bikkje]\n", encoding="utf-8")
    assert slugs(search, "bikkje") == ["kjaeledyr"] and slugs(search, "AI") == []
    path.write_text("hund: [bikkje\n", encoding="utf-8")  # broken YAML: the last good synonyms stay
    assert slugs(search, "bikkje") == ["kjaeledyr"]
    assert "keeping the previous synonyms" in caplog.text


@pytest.mark.parametrize(
    "text, problem",
    [
        ("- a\n- b\n", "must be a mapping"),
        ("KI: {a: b}\n", "give a list"),
        ("KI: [a b c d e]\n", "1 to 4 words"),
        ("KI: [\n", "not valid YAML"),
        ("KI: [!!python/object/apply:os.system [echo]]\n", "not valid YAML"),
    ],
)
def test_check_docs_refuses_a_broken_synonyms_file(runner, docs_dir, text, problem):
    (docs_dir / "_synonyms.yml").write_text(text, encoding="utf-8")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 1 and problem in result.output


def test_the_bundled_synonyms_pass_check_docs(runner):
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 0, result.output


def test_a_search_that_finds_little_looks_in_the_other_language(search):
    found = search.find("personopplysninger", "en")
    assert [(hit.page.slug, hit.lang) for hit in found.hits] == [("personvern", "nb")]
    found = search.find("privacy", "nb")
    assert [(hit.page.slug, hit.lang) for hit in found.hits] == [("privacy", "en")]


def test_words_no_page_has_mean_no_guesses(search):
    assert slugs(search, "vipps") == []
    assert slugs(search, "betale vipps") == []  # half the words unknown: the pages don't cover it


def test_a_page_may_lack_half_of_a_query_but_not_words_no_page_has(search):
    # No page has every word: two of three is enough, three of six too (a question's words
    # are rarely all on the page that answers it), and one of two.
    assert slugs(search, "ansiktsgjenkjenning tilgangsstyring kjæledyr") == ["ansikt"]
    assert slugs(search, "ansiktsgjenkjenning tilgangsstyring kjæledyr modell bilde tall")[0] == "ansikt"
    assert sorted(slugs(search, "kjæledyr adapteren")) == ["adapter", "kjaeledyr"]
    # A word no page has is another subject: one in four of the words may be such, no more.
    assert slugs(search, "kjæledyr sjiraff") == []
    assert slugs(search, "ansiktsgjenkjenning kjæledyr hunder adapteren sjiraff elefant") == []


def test_the_best_section_is_named_with_its_anchor(search):
    hit = search.find("tilgangsstyring", "nb").hits[0]
    assert hit.section.anchor == "tilgangsstyring" and hit.section.heading == "Tilgangsstyring"
    assert any(marked and text.lower() == "tilgangsstyring" for text, marked in hit.passage)


def test_results_are_cached_per_version_of_the_pages_and_bounded(search, tmp_path, monkeypatch):
    monkeypatch.setattr(search_module, "MAX_CACHED_RESULTS", 5)
    first = search.find("kjæledyr", "nb")
    assert search.find("kjæledyr", "nb").hits is first.hits  # answered from the cache
    for i in range(20):
        search.find(f"ukjent{i}", "nb")
    assert len(search._cache) <= 5
    assert MAX_CACHED_RESULTS >= 100


# The site and the API


@pytest.fixture
def typo_client(make_app, docs_dir):
    write(docs_dir, "kamera", "# Kameraet\n\nTa bilder i godt lys.\n\n## Lysforhold\n\nDagslys er best.\n")
    return make_app().test_client()


def test_the_search_page_says_what_it_corrected_and_offers_the_typed_query(typo_client):
    html = typo_client.get("/docs.php?q=lysforhld").text
    assert "Viser treff for «lysforhold»." in html
    link = re.search(r'<a href="([^"]+)">Søk i stedet etter «lysforhld»</a>', html).group(1)
    assert "eksakt=1" in link and "q=lysforhld" in link
    assert 'href="/docs.php?doc=kamera#lysforhold"' in html  # straight to the section
    exact = typo_client.get(link.replace("&amp;", "&")).text
    assert "Ingen treff for «lysforhld»" in exact and "Viser treff for" not in exact


def test_the_search_page_in_embed_mode_keeps_embed_in_every_link(typo_client):
    html = typo_client.get("/docs.php?q=lysforhld&embed=1").text
    link = re.search(r'<a href="([^"]+)">Søk i stedet etter', html).group(1)
    assert "embed=1" in link
    assert 'href="/docs.php?doc=kamera&amp;embed=1#lysforhold"' in html


def test_other_language_results_are_marked_and_link_in_their_language(typo_client):
    html = typo_client.get("/docs.php?q=lysforhold&lang=en").text
    assert '<li lang="nb">' in html and 'class="result-lang">Norsk<' in html
    assert 'href="/docs.php?doc=kamera&amp;lang=nb"' in html


def test_a_page_found_in_the_other_language_is_shown_in_the_readers_where_it_says_the_same(make_app, docs_dir):
    norwegian = "---\ndescription: Slik måler appen lyset.\n---\n# Lysmåler\n\nLysmåleren viser eksponering.\n"
    write(docs_dir, "lysmaler", norwegian)
    digest = parse_document("lysmaler", norwegian).text_digest
    english = f"---\ntranslated_from: {digest}\n---\n# Light meter\n\nIt shows the Zorblux reading.\n"
    write(docs_dir / "en", "lysmaler", english)
    client = make_app().test_client()
    html = client.get("/docs.php?q=lysmåleren&lang=en").text
    hit = re.search(r'<ol class="results">.*?</ol>', html, re.S).group(0)
    assert 'href="/docs.php?doc=lysmaler&amp;lang=en"' in hit and ">Light meter</a>" in hit
    # Why it matched, in the words of the version that says the same, marked as such.
    assert "match in the Norwegian version" in hit and '<p lang="nb"><mark>Lysmåleren</mark> viser' in hit
    result = client.get("/api/search?q=lysmåleren&lang=en").get_json()["results"][0]
    assert (result["slug"], result["lang"], result["title"], result["section"]) == (
        "lysmaler",
        "en",
        "Light meter",
        None,
    )
    assert result["passage_lang"] == "nb" and {"text": "Lysmåleren", "match": True} in result["passage"]
    # And the other way: a Norwegian reader who types the English page's words.
    result = client.get("/api/search?q=zorblux&lang=nb").get_json()["results"][0]
    assert (result["lang"], result["title"], result["passage_lang"]) == ("nb", "Lysmåler", "en")
    assert "treff i den engelske versjonen" in client.get("/docs.php?q=zorblux").text
    # An outdated translation may lack what was found: the page that has it is shown.
    write(docs_dir, "lysmaler", norwegian.replace("eksponering", "eksponering og Fnordmodus"))
    result = make_app().test_client().get("/api/search?q=fnordmodus&lang=en").get_json()["results"][0]
    assert (result["lang"], result["title"], result["passage_lang"]) == ("nb", "Lysmåler", "nb")


def test_the_api_says_what_it_corrected(typo_client):
    body = typo_client.get("/api/search?q=lysforhld").get_json()
    assert body["corrected_query"] == "lysforhold" and body["total"] == 1
    result = body["results"][0]
    assert result["slug"] == "kamera" and result["lang"] == "nb"
    assert result["section"] == {"heading": "Lysforhold", "anchor": "lysforhold"}
    exact = typo_client.get("/api/search?q=lysforhld&exact=1").get_json()
    assert exact["corrected_query"] is None and exact["results"] == []


def test_a_search_that_finds_nothing_offers_a_correction_as_a_link(make_app, docs_dir):
    write(docs_dir, "skarpe-bilder", "# Skarpe bilder\n\nSlik får du skarpe bilder.\n")
    client = make_app().test_client()
    # "skrape" is a word of its own: searched as typed, with "skarpe" offered.
    html = client.get("/docs.php?q=skrape&embed=1").text
    assert "Ingen treff for «skrape»" in html and "Viser treff for" not in html
    assert 'Mente du «<a href="/docs.php?q=skarpe&amp;embed=1">skarpe</a>»?' in html
    html = client.get("/docs.php?q=skrape&lang=en").text
    assert 'Did you mean “<a href="/docs.php?q=skarpe&amp;lang=en">skarpe</a>”?' in html
    body = client.get("/api/search?q=skrape").get_json()
    assert (body["results"], body["corrected_query"], body["suggested_query"]) == ([], None, "skarpe")
    assert client.get("/api/search?q=skarpe").get_json()["suggested_query"] is None
    # What the reader typed is shown escaped; the suggestion holds only words.
    html = client.get("/docs.php", query_string={"q": "<b>skrape"}).text
    assert "<b>skrape" not in html and "&lt;b&gt;skrape" in html


def test_the_count_is_of_every_match_not_only_those_shown(make_app, docs_dir):
    for i in range(14):
        write(docs_dir, f"sjiraff-{i}", f"# Sjiraff {i}\n\nEn sjiraff er et dyr.\n")
    client = make_app().test_client()
    html = client.get("/docs.php?q=sjiraff").text
    assert "14 treff for «sjiraff»" in html and html.count("<li>") >= 10
    assert client.get("/api/search?q=sjiraff").get_json()["total"] == 14


def test_a_count_that_stopped_says_at_least(make_app, docs_dir, monkeypatch):
    from app.search import engine, query, ranking

    for module in (engine, query, ranking):  # each holds the bound it uses
        monkeypatch.setattr(module, "MAX_RANKED", 12)
    for i in range(14):
        write(docs_dir, f"sjiraff-{i}", f"# Sjiraff {i}\n\nEn sjiraff er et dyr.\n")
    client = make_app().test_client()
    assert "Minst 12 treff for «sjiraff»" in client.get("/docs.php?q=sjiraff").text
    assert "At least 12 results" in client.get("/docs.php?q=sjiraff&lang=en").text


def test_a_dead_link_suggests_only_pages_that_match_with_the_way_on_first(client):
    html = client.get("/docs.php?doc=ip-adaptr").text
    suggestions = re.search(r"Mente du en av disse\?</h2>(.*?)</ul>", html, re.S).group(1)
    assert re.findall(r'href="/docs.php\?doc=([^"&]+)"', suggestions) == ["what-is-ip-adapter"]
    assert html.index("Gå til alle hjelpesider") < html.index("Mente du en av disse?")


@pytest.mark.parametrize(
    "query", ["<script>alert(1)</script>", "lysforhld<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>']
)
def test_corrections_never_carry_markup(typo_client, query):
    html = typo_client.get("/docs.php", query_string={"q": query}).text
    assert "<script>alert" not in html and "<img src=x" not in html and "<svg" not in html


# Compounds split with a Bokmål word list (app/search/data/nb-words.txt)


@pytest.fixture
def compounds(tmp_path):
    write(tmp_path, "brannmur", "# Brannmur\n\nSlik slipper du bare trygg trafikk inn.\n")
    write(tmp_path, "brann", "# Brann i rommet\n\nVed brann: gå ut. Muren rundt huset er av stein.\n")
    write(tmp_path, "feil", "# Feilkoder\n\nHva appen mener når den viser et tall.\n")
    write(tmp_path, "tjenester", "# Tjenestene\n\nTjenesten din og sten i skoen.\n")
    return search_over(tmp_path)


def test_parts_of_a_compound_in_either_order_find_it(compounds):
    assert slugs(compounds, "mur brann")[0] == "brannmur"
    assert slugs(compounds, "brann mur")[0] == "brannmur"


def test_two_words_the_pages_write_as_one_compound_find_it_in_either_order(tmp_path):
    # The word list has "visningsnavn" as a word of its own: the page's compound is not split
    # into parts at index time, and only the two words joined find it.
    write(tmp_path, "profil", "# Endre profilen\n\nDu kan endre visningsnavnet ditt i profilen.\n")
    write(tmp_path, "galleri", "# Galleriet\n\nEt navn vises ved visning i galleriet.\n")
    for topic in ("Lagring", "Personvern", "Konto", "Varsler"):
        write(tmp_path, topic.lower(), f"# {topic}\n\nOm {topic.lower()} i appen.\n")
    search = search_over(tmp_path)
    assert sorted(slugs(search, "visning navn")) == ["galleri", "profil"]
    assert sorted(slugs(search, "navn visning")) == ["galleri", "profil"]
    assert slugs(search, "galleri visning") == ["galleri"]  # no compound of the two
    # Words typed in a row, in a longer query only in the order typed; or with a
    # "for" or "av" between them, the last first ("navn for visning" is "visningsnavn").
    assert "profil" not in slugs(search, "navn galleriet visning")
    assert "profil" not in slugs(search, "navn visning galleriet")
    assert "profil" in slugs(search, "visning navn galleriet")
    assert "profil" in slugs(search, "navn for visning")
    assert "profil" not in slugs(search, "visning for navn")
    assert "profil" not in slugs(search, "navn på visning")  # "bilder på skjerm" is no "skjermbilder"


def test_two_words_written_together_find_the_page_that_has_them_in_a_row(tmp_path):
    write(
        tmp_path, "null-skudd", "# Null-skudd-læring\n\nZero-shot betyr at modellen klarer en oppgave uten eksempler.\n"
    )
    write(tmp_path, "adapter", "# IP-Adapter\n\nEn IP-Adapter gir modellen et bilde som ledetekst.\n")
    write(tmp_path, "skudd", "# Skudd og null\n\nEt skudd i blinde gir null treff. Shot er engelsk.\n")
    write(
        tmp_path,
        "maskin",
        "# Maskinen\n\nEn stor maskin tar tid. Bruk av modellen tar mer. Et bilde modellen lager.\n",
    )
    search = search_over(tmp_path)
    found = search.find("zeroshot", "nb")
    assert found.hits[0].page.slug == "null-skudd" and found.corrected == "zero shot"
    assert slugs(search, "ipadapter ledetekst") == ["adapter"]
    assert search.find("ipadapters", "nb").corrected == "ip adapters"  # a form of the second word
    # Only words some page has in a row ("shotzero": no page has "shot zero"), never a word
    # of the Bokmål list ("stormaskin" is no "stor maskin") or one of a common word
    # ("avmodellen" is no "av modellen"); the first word as written, not a stem of it
    # ("bildmodellen" is a typo, no "bild modellen"); and the reader's own search is kept.
    for query in ("shotzero", "stormaskin", "avmodellen", "bildmodellen", "zeroshot" * 6):
        assert " " not in search.find(query, "nb").corrected, query  # "avmodellen" is a typo of "modellen"
    assert search.find("zeroshot", "nb", exact=True).hits == ()


def test_a_compound_no_page_has_finds_the_page_with_its_parts_near_each_other(tmp_path):
    write(
        tmp_path,
        "etiketter",
        "# Etiketter\n\nBruk korte etiketter, helst ett ord, for å vise statusen til en sak.\n",
    )
    write(tmp_path, "status", "# Status\n\nStatus for tjenesten vises her.\n")
    write(tmp_path, "lapper", "# Lapper\n\nEn etikett er en lapp.\n\n## Annet\n\n" + "Her står det mye annet. " * 6)
    write(tmp_path, "maskiner", "# Maskiner\n\nEn stor maskin er tung. Maskin og maskinvare.\n")
    search = search_over(tmp_path)
    found = search.find("hvor mange ord på en statusetikett", "nb")
    # "statusetikett" is on no page: its parts are, in one sentence. Searched as them, with
    # no notice (it is no correction of what was typed).
    assert [hit.page.slug for hit in found.hits][:1] == ["etiketter"] and found.corrected == ""
    assert search.find("statusetikett", "nb", exact=True).hits == ()  # only what was typed
    # Not a word of the Bokmål list ("stormaskin" is a mainframe, no "stor maskin"), nor
    # parts no page has near each other, nor a word too long to be one.
    assert slugs(search, "stormaskin") == []
    assert slugs(search, "stormaskinen") == []  # nor a form of one
    assert slugs(search, "statuslapp") == []
    assert slugs(search, "statusetikett" * 4) == []


def test_compounds_split_per_query_are_bounded(search, monkeypatch):
    # Each split asks the index whether the parts stand near each other, an FTS5 query: a
    # query of twelve compounds no page has makes at most MAX_CORRECTIONS of them in each of
    # its two passes (corrected, and as typed) over the Norwegian pages.
    asked = []
    original = search_module.SearchIndex.compound
    monkeypatch.setattr(
        search_module.SearchIndex, "compound", lambda self, word: asked.append(word) or original(self, word)
    )
    search.find(" ".join(f"ansiktsbilde{chr(ord('a') + i) * 2}" for i in range(12)), "nb")
    assert 0 < len(asked) <= MAX_CORRECTIONS * 2


def test_the_last_part_of_a_compound_alone_finds_it_inflected(compounds):
    assert slugs(compounds, "kodene") == ["feil"]
    assert slugs(compounds, "kode") == ["feil"]


def test_the_lexicon_splits_compounds_and_leaves_inflected_words_whole():
    from app.search.lexicon import norwegian
    from app.search.spelling import compound_parts as split

    lexicon, stem = norwegian(), __import__("Stemmer").Stemmer("norwegian").stemWord
    assert {"brann", "mur"} <= split("brannmur", set(), lexicon=lexicon, stem=stem)
    assert {"nedtrekk", "liste"} <= split("nedtrekksliste", set(), lexicon=lexicon, stem=stem)
    assert {"feil", "koder"} <= split("feilkoder", set(), lexicon=lexicon, stem=stem)
    assert {"hurtig", "bufferen"} <= split("hurtigbufferen", set(), lexicon=lexicon, stem=stem)  # "buffer"
    assert split("tjenesten", set(), lexicon=lexicon, stem=stem) == frozenset()  # "tjeneste", inflected
    assert split("sikkerhet", set(), lexicon=lexicon, stem=stem) == frozenset()  # an ending, no part


# Ranking: questions by BM25 over the whole page, and no answer when the pages match weakly


def test_a_title_with_common_words_that_stem_otherwise_is_still_the_query(tmp_path):
    # "mange" and "alle" are common words whose stems ("mang", "all") are not.
    write(tmp_path, "mange-tabeller", "# Hvordan laste mange tabeller i banken?\n\nBruk klienten.\n")
    body = "Laste tabeller til banken: laste, laste, tabeller, tabeller og banken igjen."
    write(tmp_path, "klienten", f"# Klienten for banken\n\n## Laste tabeller\n\n{body}\n")
    write(tmp_path, "alle-filer", "# Alle filer i mappen\n\nKort.\n")
    write(tmp_path, "filer", "# Filer\n\n## Mappen med filer\n\nFiler i mappen, filer i mappen, filer.\n")
    search = search_over(tmp_path)
    assert slugs(search, "Hvordan laste mange tabeller i banken?")[0] == "mange-tabeller"
    assert slugs(search, "alle filer i mappen")[0] == "alle-filer"


def test_a_questions_bm25_holds_a_pages_length_against_every_pages_not_the_candidates(tmp_path):
    for i in range(30):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\n{' '.join(f'ord{i}x{j}' for j in range(18))}\n")
    write(tmp_path, "kort", "# Eksport\n\nDu eksporterer kvitteringer til et regneark her.\n")
    filler = " ".join(f"fyll{j}" for j in range(60))
    long_text = " ".join(f"{filler} eksporterer kvitteringer regneark" for _ in range(8))
    write(tmp_path, "lang", f"# Alt om appen\n\n{long_text}\n")
    search = search_over(tmp_path)
    # Eight mentions among 500 words weigh less than one in a short page, against the pages'
    # average length (about 35 words); against the two candidates' (260) the long page came first.
    question = "hvordan eksporterer jeg kvitteringer til regneark"
    assert slugs(search, question)[:2] == ["kort", "lang"]
    # The average follows the pages as they change: long pages added, it grows (the long
    # page comes first), and taken away again, it is what it was; as in an index made anew.
    for i in range(40):
        write(tmp_path, f"langt-{i}", f"# Langt {i}\n\n{' '.join([filler] * 12)}\n")
    assert slugs(search, question)[:2] == slugs(search_over(tmp_path), question)[:2] == ["lang", "kort"]
    for i in range(40):
        (tmp_path / f"langt-{i}.md").unlink()
    assert slugs(search, question)[:2] == slugs(search_over(tmp_path), question)[:2] == ["kort", "lang"]


def test_a_question_finds_the_page_whose_body_answers_it_over_a_weak_title_match(tmp_path):
    write(tmp_path, "mappen", "# Mappen i tjenesten\n\nHva som vises her, og hva ikke.\n")
    write(tmp_path, "mapper", "# Mapper og filer\n\nOm mapper og filer. Denne ble laget i fjor.\n")
    write(
        tmp_path,
        "nar-noe-mangler",
        "# Når noe mangler\n\nEn mappe vises ikke i filsystemet før du starter tjenesten på nytt.\n",
    )
    search = search_over(tmp_path)
    # Four of its five words are on the page that answers it, two in another's title and
    # one in its text: that one comes second.
    assert slugs(search, "mappen jeg laget vises ikke i filsystemet i tjenesten") == ["nar-noe-mangler", "mappen"]


def test_a_query_only_its_common_words_match_finds_nothing(tmp_path):
    for i in range(24):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nAppen og kontoen din, del {i}.\n")
    write(tmp_path, "kvittering", "# Kvittering\n\nNår du betaler i appen, får du en kvittering.\n")
    search = search_over(tmp_path)
    assert slugs(search, "kvittering")  # the page is there
    # "appen" is on every page, "vipps" on none: "betaler" alone is too little of it.
    assert slugs(search, "hvordan betaler jeg appen med vipps") == []


def test_an_english_word_finds_its_norwegian_page_through_the_dictionary(tmp_path):
    write(tmp_path, "brannmur", "# Brannmur\n\nSlik slipper du bare trygg trafikk inn.\n")
    write(tmp_path, "botter", "# Bøtter\n\nEn bøtte holder filene dine.\n")
    write(tmp_path, "feil", "# Feilkoder\n\nHva appen mener når den viser et tall.\n")
    search = search_over(tmp_path)
    assert slugs(search, "bucket") == ["botter"]
    assert slugs(search, "buckets") == ["botter"]  # without its plural ending
    assert slugs(search, "firewall") == ["brannmur"]  # "fire" + "wall": "brann" + "mur"
    assert slugs(search, "codes") == ["feil"]  # "kode", a part of "feilkoder"
    assert search.find("firewall", "nb").corrected == ""  # an English word, not a typo


def test_an_english_word_of_software_finds_what_norwegian_software_calls_it(tmp_path):
    # Not in FreeDict's dictionary: what the Bokmål translations of Debian's programs say.
    write(tmp_path, "innstillinger", "# Innstillinger\n\nHer velger du språk og varsler.\n")
    write(tmp_path, "nedlasting", "# Nedlasting av bildene\n\nSlik lagrer du bildene på telefonen.\n")
    write(tmp_path, "feil", "# Når noe går feil\n\nHva du gjør når appen stopper.\n")
    search = search_over(tmp_path)
    assert slugs(search, "settings") == ["innstillinger"]
    assert slugs(search, "download")[0] == "nedlasting"
    assert slugs(search, "error")[0] == "feil"


def test_two_english_words_of_one_entry_no_page_has_are_translated_each(tmp_path):
    # LibreOffice calls "language settings" "språkinnstillinger", which no page says; the
    # page has "språk" and "innstillinger", each word's translation.
    write(tmp_path, "sprak", "# Bytte språk\n\nDu velger språk under innstillinger i appen.\n")
    write(tmp_path, "sok", "# Søkemotorer\n\nEn søkemotor finner sider.\n")
    search = search_over(tmp_path)
    assert slugs(search, "language settings") == ["sprak"]
    assert slugs(search, "search engine") == ["sok"]  # one entry, found as one term


def test_an_english_query_leaves_out_the_english_words_the_dictionary_lacks(tmp_path):
    write(tmp_path, "passord", "# Sterke passord\n\nEt passord bør være langt.\n")
    search = search_over(tmp_path)
    # "strong" is "sterk" to software, on no page: the query is found by "password".
    assert slugs(search, "strong password") == ["passord"]
    assert slugs(search, "vipps passord") == []  # a Norwegian query: "vipps" is another subject


def test_a_query_the_pages_match_only_in_passing_finds_nothing(tmp_path):
    for i in range(22):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nAppen og kontoen din, del {i}.\n")
    filler = " ".join(f"ord{i}" for i in range(120))
    write(tmp_path, "lagring", f"# Lagring\n\n{filler} Appen lager en kopi. {filler} Se også video. {filler}\n")
    write(tmp_path, "video", "# Video i appen\n\nSlik lager appen en video av bildene dine.\n")
    search = search_over(tmp_path)
    assert slugs(search, "lager video")[0] == "video"  # a page about it
    (tmp_path / "video.md").unlink()
    # Left: a page with each word once, in passing, among hundreds of others.
    assert slugs(search, "lager video") == []
