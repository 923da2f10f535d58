"""How search reads a query's words beyond the basics: a real word is not "corrected" into
one the pages have unless the pages use the correction so, a compound of three parts is
found by any of them, a question's words standing together count, a title has a term in
its synonyms and translations, and English words are read as English."""

from __future__ import annotations

import Stemmer
from helpers import search_over, slugs, write

from app.search.lexicon import norwegian
from app.search.proximity import together
from app.search.spelling import compound_parts


def test_a_word_of_the_bokmal_list_is_corrected_only_where_the_pages_use_the_correction_so(tmp_path):
    write(tmp_path, "skarpe-bilder", "# Skarpe bilder\n\nSlik får du skarpe bilder av ansiktet ditt.\n")
    write(
        tmp_path,
        "serier",
        "# Bildeserier\n\nEn serie er flere bilder tatt etter hverandre. Vi registrerer hvor mange du lager.\n",
    )
    search = search_over(tmp_path)
    # "skrape" is a word, but "skarpe" stands beside "bilder" on a page: a typo.
    found = search.find("skrape bilder", "nb")
    assert found.corrected == "skarpe bilder" and found.hits[0].page.slug == "skarpe-bilder"
    # "ferie" is a word, and "serie" is nowhere near "registrerer": a question of another subject.
    found = search.find("hvordan registrerer jeg ferie", "nb")
    assert found.corrected == "" and found.hits == ()
    # A neighbour of no letters is no neighbour.
    assert search.find("registrerer ___ ferie", "nb").corrected == ""


def test_a_word_of_the_bokmal_list_alone_is_taken_as_meant_and_its_correction_offered(tmp_path):
    write(tmp_path, "skarpe-bilder", "# Skarpe bilder\n\nSlik får du skarpe bilder av ansiktet ditt.\n")
    write(tmp_path, "ofte", "# Spørsmål vi ofte får\n\nHer er svarene.\n")
    search = search_over(tmp_path)
    # "skrape" alone may be a typo or the word: nothing is searched in its place, and the
    # correction that finds a page is offered.
    found = search.find("skrape", "nb")
    assert (found.hits, found.corrected, found.suggested) == ((), "", "skarpe")
    found = search.find("hva er hofte", "nb")
    assert (found.hits, found.corrected, found.suggested) == ((), "", "hva er ofte")
    # A search that finds pages, or an exact one, offers nothing; nor does a word with no
    # correction.
    assert search.find("skarpe", "nb").suggested == ""
    assert search.find("skrape", "nb", exact=True).suggested == ""
    assert search.find("sødme", "nb").suggested == ""
    # A common word is no suggestion: "dritt" is no "ditt".
    assert search.find("dritt", "nb").suggested == ""
    # A typo that is no word is corrected as before.
    assert search.find("skarep", "nb").corrected == "skarpe"


def test_a_word_no_page_has_beside_an_english_one_is_left_out_not_taken_for_another_subject(tmp_path):
    # "tips" is Bokmål and an English headword; no page has it. In a query with an English
    # word it is left out, as a word of another subject would make the query find nothing.
    write(tmp_path, "ledetekst", "# Skrive en god prompt\n\nEn prompt beskriver bildet du vil ha.\n")
    search = search_over(tmp_path)
    assert slugs(search, "prompt tips") == ["ledetekst"]


def test_an_english_word_is_no_compound_of_a_common_word_and_another(tmp_path):
    write(tmp_path, "tegne", "# Tegne med fingeren\n\nDu kan tegne med fingeren på skjermen.\n")
    write(tmp_path, "brannmur", "# Brannmur\n\nEn brannmur slipper bare trygg trafikk inn.\n")
    search = search_over(tmp_path)
    assert slugs(search, "withdraw") == []  # no "with" ("med") + "draw" ("tegne")
    assert slugs(search, "firewall") == ["brannmur"]


def test_a_typo_that_reads_as_two_english_words_is_corrected_first(tmp_path):
    write(tmp_path, "dropdown", "# Dropdown\n\nEn dropdown viser en liste med valg.\n")
    write(tmp_path, "brannmur", "# Brannmur\n\nEn brannmur slipper bare trygg trafikk inn.\n")
    write(tmp_path, "lakehouse", "# Lakehouse\n\nEt lakehouse samler data fra mange kilder.\n")
    search = search_over(tmp_path)
    # "dripdown" is "drip" + "down" to the dictionary, and one edit from a page's word.
    found = search.find("dripdown", "nb")
    assert found.corrected == "dropdown" and [hit.page.slug for hit in found.hits] == ["dropdown"]
    # Two edits away, such a word is more likely English: "warehouse" is no "lakehouse".
    assert search.find("warehouse", "nb").corrected == ""
    # An English compound no page's word is near is still read as its words.
    assert slugs(search, "firewall") == ["brannmur"]


def test_nynorsk_function_words_vs_and_particles_are_left_out_not_taken_for_another_subject(tmp_path):
    write(tmp_path, "brannmur", "# Brannmur\n\nSlik slipper du bare trygg trafikk inn gjennom ruteren.\n")
    for i in range(3):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nEn side om noe annet, del {i}.\n")
    search = search_over(tmp_path)
    assert slugs(search, "kva er ein brannmur") == ["brannmur"]
    assert slugs(search, "kvifor er brannmuren ikkje på") == ["brannmur"]
    assert slugs(search, "brannmur vs ruter") == ["brannmur"]
    assert slugs(search, "kva er ein kafé") == []  # still a subject no page covers
    # Words that say how a question is asked, not what about ("egentlig", "faktisk").
    assert slugs(search, "hva er egentlig en brannmur") == ["brannmur"]
    assert slugs(search, "slipper brannmuren faktisk trafikk inn") == ["brannmur"]


def test_kom_is_no_stop_word_kom_i_gang_is_a_heading(tmp_path):
    write(tmp_path, "start", "# Kom i gang\n\nSlik lager du ditt første bilde.\n")
    write(tmp_path, "gang", "# Gang\n\nFørste gang du åpner appen, gang på gang.\n")
    search = search_over(tmp_path)
    assert slugs(search, "kom i gang")[0] == "start"


def test_a_correction_is_near_its_neighbour_in_any_of_the_neighbours_forms(tmp_path):
    write(tmp_path, "buffer", "# Tøm bufferen\n\nDu kan tømme hurtigbufferen i innstillingene.\n")
    search = search_over(tmp_path)
    # "tomme" is a word of the list; "tømme" stands beside "hurtigbufferen", a form of the
    # typed "hurtigbuffer".
    found = search.find("tomme hurtigbuffer", "nb")
    assert found.corrected == "tømme hurtigbuffer" and found.hits[0].page.slug == "buffer"


def test_up_and_down_are_words_of_a_query(tmp_path):
    write(tmp_path, "opplasting", "# Opplasting\n\nSlik laster du opp bildene dine.\n")
    write(tmp_path, "nedlasting", "# Nedlasting\n\nSlik laster du ned bildene dine.\n")
    search = search_over(tmp_path)
    assert slugs(search, "laste ned bildene")[0] == "nedlasting"
    assert slugs(search, "laste opp bildene")[0] == "opplasting"


def test_every_part_of_a_compound_of_three_is_found():
    stem = Stemmer.Stemmer("norwegian").stemWord
    parts = compound_parts("strømsparingsmodus", set(), lexicon=norwegian(), stem=stem)
    assert {"strøm", "sparing", "modus"} <= parts


def test_the_middle_part_of_a_compound_of_three_finds_it(tmp_path):
    write(tmp_path, "batteri", "# Batteriet\n\nSlå på strømsparingsmodus når strømmen er lav.\n")
    write(tmp_path, "sporing", "# Sporing\n\nVi bruker ingen sporing av strøm eller annet.\n")
    search = search_over(tmp_path)
    found = search.find("sparing strøm", "nb")
    # "sparing" is on a page, inside a compound: no typo for "sporing".
    assert found.corrected == "" and found.hits[0].page.slug == "batteri"


# A question's words standing together


def test_together_counts_the_terms_within_a_window_with_title_and_headings_near_all():
    filler = " ".join(f"ord{i}" for i in range(30))
    body = f" paus {filler} natt tjenest {filler} "
    assert together(("", "", body), [[" paus "], [" natt "], [" tjenest "]]) == 2
    assert together((" paus ", "", body), [[" paus "], [" natt "], [" tjenest "]]) == 3
    assert together(("", "", f" paus {filler} natt "), [[" paus "], [" natt "]]) == 1
    assert together(("", "", body), [[" borte "]]) == 0


def test_a_page_with_no_two_of_a_questions_words_together_is_no_answer(tmp_path):
    filler = " ".join(f"ord{i}" for i in range(30))
    write(tmp_path, "spredt", f"# Lagring\n\nSkriveren står her. {filler}. Koble kabelen. {filler}. Bøtta er tom.\n")
    for i in range(3):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nEn side om noe annet, del {i}.\n")
    search = search_over(tmp_path)
    assert slugs(search, "koble skriveren til bøtta") == []
    write(tmp_path, "samlet", "# Utskrift\n\nDu kan koble skriveren til bøtta i innstillingene.\n")
    assert slugs(search_over(tmp_path), "koble skriveren til bøtta") == ["samlet"]


def test_a_questions_word_in_a_compound_stands_with_the_others(tmp_path):
    filler = " ".join(f"ord{i}" for i in range(30))
    write(
        tmp_path,
        "kontakt",
        "# Kontakt oss\n\n## Skjermbilder\n\nSend oss gjerne et skjermbilde av feilmeldingen.\n",
    )
    write(tmp_path, "galleri", f"# Galleri\n\nEt bilde. {filler}. Skjermen er stor. {filler}. Send det.\n")
    for i in range(3):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nEn side om noe annet, del {i}.\n")
    search = search_over(tmp_path)
    # "skjermen" is in the heading "Skjermbilder" only as a part, and "bilde" in the body
    # only inside "skjermbilde": the page has them together.
    assert slugs(search, "sende bilde av skjermen")[0] == "kontakt"


def test_a_question_ranks_the_page_with_its_words_in_one_sentence_first(tmp_path):
    filler = " ".join(["Teksten handler om noe annet her."] * 6)
    write(
        tmp_path, "spredt", f"# Om planene\n\nTjenester finnes. {filler} De kan bli pauset. {filler} Natten er lang.\n"
    )
    write(
        tmp_path, "samlet", f"# Om driften\n\nTjenester blir pauset om natten. {filler} Finnes. {filler} Lang er den.\n"
    )
    for i in range(3):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nEn side om noe annet, del {i}.\n")
    search = search_over(tmp_path)
    assert slugs(search, "blir tjenester pauset om natten")[0] == "samlet"


def test_in_a_norwegian_query_an_english_word_is_split_only_into_a_compound_the_pages_have(tmp_path):
    write(tmp_path, "brannmur", "# Brannmur\n\nSlik slipper du bare trygg trafikk inn.\n")
    write(tmp_path, "tenner", "# Blå tenner\n\nEn tann kan bli blå av bildene.\n")
    search = search_over(tmp_path)
    # "fire" + "wall" is "brann" + "mur", and the pages have "brannmur".
    assert slugs(search, "hva er en firewall") == ["brannmur"]
    # "blue" + "tooth" would be "blå" + "tann", but no page has "blåtann": a name.
    assert slugs(search, "hva er bluetooth") == []


def test_a_title_with_a_terms_synonym_ranks_above_pages_without_it_in_a_title_or_heading(tmp_path):
    write(tmp_path, "ai", "# Om AI\n\nSlik lager appen bilder.\n")
    write(tmp_path, "annet", "# Annet\n\nKI lager bilder. KI, bilder, KI og flere bilder med KI.\n")
    (tmp_path / "_synonyms.yml").write_text("KI: [AI]\n", encoding="utf-8")
    search = search_over(tmp_path)
    # "AI" stands for "KI": the title has the query, said otherwise.
    assert slugs(search, "ki")[0] == "ai"
    # A heading with the word as typed comes first all the same.
    write(tmp_path, "om", "# Om appen\n\n## KI\n\nKort om det.\n")
    assert slugs(search, "ki")[:2] == ["om", "ai"]


def test_a_title_with_the_word_as_typed_ranks_above_one_with_its_synonym(tmp_path):
    write(tmp_path, "ki", "# Om KI og bilder\n\nOm bildene.\n")
    write(tmp_path, "ai", "# Om AI og bilder\n\nAI, AI og AI: mer AI enn noe annet, AI.\n")
    (tmp_path / "_synonyms.yml").write_text("KI: [AI]\n", encoding="utf-8")
    search = search_over(tmp_path)
    assert slugs(search, "ki") == ["ki", "ai"]
    assert slugs(search, "ai") == ["ai", "ki"]


def test_an_english_querys_words_stand_for_their_translations_even_where_a_page_has_them(tmp_path):
    write(tmp_path, "referansegruppe", "# Referansegruppe for appen\n\nHvem som er med, og hva den gjør.\n")
    write(tmp_path, "tilgang", "# Tilgang\n\nLegg brukeren i en AD group, så får hun tilgang.\n")
    search = search_over(tmp_path)
    # "group" is on a page, in an English name: an English query means "gruppe" too.
    assert slugs(search, "group") == ["referansegruppe", "tilgang"]
    # A Norwegian query's words are searched as the pages have them.
    assert slugs(search, "hvem er med i en group") == ["tilgang"]


def test_a_correction_is_near_its_neighbour_in_a_compound_it_ends(tmp_path):
    write(tmp_path, "buffer", "# Tøm bufferen\n\nDu kan tømme hurtigbufferen i innstillingene.\n")
    search = search_over(tmp_path)
    # "buffer" typed; the page has "tømme" beside "hurtigbufferen", a compound it ends.
    assert search.find("tomme buffer", "nb").corrected == "tømme buffer"


def test_a_head_is_split_again_without_its_linking_letter_and_never_at_an_ending():
    stem = Stemmer.Stemmer("norwegian").stemWord
    parts = compound_parts("sikkerhetskopi", set(), lexicon=norwegian(), stem=stem)
    assert "kopi" in parts and not {"sikker", "hets"} & parts


def test_two_english_words_find_the_norwegian_compound_of_their_translations(tmp_path):
    write(tmp_path, "filnavn", "# Gode navn\n\nSlik velger du filnavnene i mappen din.\n")
    write(tmp_path, "tilstander", "# Om lagringen\n\nDatatilstander forteller hvor langt dataene er kommet.\n")
    write(tmp_path, "filer", "# Filer\n\nEn fil har et navn, og den kan lagres.\n")
    for i in range(3):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nEn side om noe annet, del {i}.\n")
    search = search_over(tmp_path)
    # "file" is "fil", "names" "navn": the page with "filnavnene" comes before the one that
    # has "fil" and "navn" apart.
    assert slugs(search, "file names")[:2] == ["filnavn", "filer"]
    # A word the pages have ("data") joins its neighbour's translation ("tilstand").
    assert slugs(search, "data states")[0] == "tilstander"
    # Norwegian words written apart are joined as well (spelling.written_apart).
    assert slugs(search, "fil navn")[:2] == ["filnavn", "filer"]


def test_a_compound_of_translations_is_one_the_pages_have_not_one_a_word_of_theirs_begins(tmp_path):
    write(tmp_path, "store", "# Store bilder\n\nEt stort bilde tar plass, og en storebror kan hjelpe.\n")
    write(tmp_path, "nese", "# Nesen\n\nNesen er et landemerke i ansiktet.\n")
    for i in range(3):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nEn side om noe annet, del {i}.\n")
    search = search_over(tmp_path)
    index = search.indexes["nb"]
    index.update()
    # "big" + "nose" would be "stor" + "e" + "nese": no page has "storenese"; its stem
    # begins "storebror", which is no form of it.
    assert index.knows("storenese") and not index.has("storenese")
    assert index.has("storebror") and index.has("nesen") and index.has("nese")
    # So "big nose" has "nose" on one page, "big" on another, and neither page both.
    assert slugs(search, "big nose") == ["nese", "store"]


def test_a_question_no_page_answers_offers_the_pages_with_some_of_its_words_apart(tmp_path):
    filler = " ".join(f"ord{i}" for i in range(30))
    write(tmp_path, "skriver", "# Utskrift\n\nDu kan koble skriveren med en kabel.\n")
    write(tmp_path, "spredt", f"# Lagring\n\nSkriveren står her. {filler}. Koble kabelen. {filler}.\n")
    for i in range(3):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nEn side om noe annet, del {i}.\n")
    search = search_over(tmp_path)
    # No page has "bøtta": no answer. The page with two of the words together is offered apart;
    # the page that has them far apart is not.
    found = search.find("koble skriveren til bøtta", "nb")
    assert (found.hits, found.total) == ((), 0)
    assert [hit.page.slug for hit in found.partial] == ["skriver"]
    assert found.partial[0].passage  # with a passage, as a result has
    # Only a question's (three words or more), never an exact search's, never a result.
    assert search.find("koble skriveren til bøtta", "nb", exact=True).partial == ()
    assert search.find("skriveren bøtta", "nb").partial == ()
    assert search.find("koble skriveren", "nb").hits and search.find("koble skriveren", "nb").partial == ()
    assert (
        search.find("koble skriveren kabelen", "nb").hits and search.find("koble skriveren kabelen", "nb").partial == ()
    )
    assert search.find("hvordan bruker jeg vipps", "nb").partial == ()
    # At most three, the best.
    for i in range(4):
        write(tmp_path, f"kabel-{i}", f"# Kabel {i}\n\nKoble skriveren med kabel nummer {i}.\n")
    assert len(search_over(tmp_path).find("koble skriveren til bøtta", "nb").partial) == 3


def test_partial_matches_share_two_of_a_questions_rarer_words_however_weakly(tmp_path):
    # 30 pages say "bruke": on a third of the pages or more, a word that narrows nothing.
    for i in range(30):
        write(tmp_path, f"side-{i}", f"# Side {i}\n\nHer kan du bruke noe annet, del {i}.\n")
    write(tmp_path, "skriver", "# Utskrift\n\nDu kan bruke skriveren.\n")
    filler = " ".join(f"ord{i}" for i in range(400))
    write(tmp_path, "svak", f"# Lagring\n\n{filler}. Koble skriveren med en kabel. {filler}.\n")
    search = search_over(tmp_path)
    # "skriveren" is its only rarer word on a page: beside a common one, that is no partial answer,
    # nor beside itself, repeated or inflected.
    for question in (
        "bruke skriveren til bøtta",
        "skriveren skriveren bøtta",
        "bruke skriveren og skriverne til bøtta",
    ):
        assert search.find(question, "nb").partial == (), question
    # Every word, once in a long page: too weak an answer, but a partial match.
    found = search.find("koble skriveren kabelen", "nb")
    assert found.hits == () and [hit.page.slug for hit in found.partial] == ["svak"]
    # Two words, one of them English written together ("darkmode": "dark mode"), are no question.
    write(tmp_path, "mork-modus", "# Mørk modus\n\nSlå på mørk modus i innstillingene.\n")
    assert search_over(tmp_path).find("darkmode vipps", "nb").partial == ()
    # A word no page has beside an English word is left out: the two words left are no question.
    write(tmp_path, "android", f"# Mobil\n\nKoble den til. {filler}. Android er et system.\n")
    found = search_over(tmp_path).find("koble zqxvw android", "nb")
    assert (found.hits, found.partial) == ((), ())
    write(tmp_path, "svak", "# Lagring\n\nKoble skriveren med en kabel.\n")
    assert slugs(search_over(tmp_path), "koble skriveren kabelen") == ["svak"]  # (said strongly: an answer)


def test_the_search_page_and_the_api_offer_partial_matches_apart_from_results(make_app, docs_dir):
    write(
        docs_dir,
        "skriver",
        "---\ntitle: Utskrift <script>alert(1)</script>\ncategory: Utstyr <img src=x onerror=alert(1)>\n---\n"
        "# Utskrift\n\nDu kan koble skriveren med en kabel, <b>fort</b>.\n",
    )
    client = make_app().test_client()
    html = client.get("/docs.php", query_string={"q": "koble skriveren til bøtta <b>", "embed": "1"}).text
    assert "Ingen treff for «koble skriveren til bøtta &lt;b&gt;»" in html
    partial = html.split('<section class="partial"', 1)[1]
    assert "Sider som nevner noe av det du spurte om" in partial
    assert 'href="/docs.php?doc=skriver&amp;embed=1"' in partial
    assert "<script>" not in html and "<b>" not in html and "<img" not in html
    assert "Utstyr &lt;img src=x onerror=alert(1)&gt;" in partial
    assert "Utskrift &lt;script&gt;alert(1)&lt;/script&gt;" in partial
    assert "Søket fant ikke noe sikkert svar" in partial
    assert '<ol class="results">' not in html.split('<section class="partial"', 1)[0]
    body = client.get("/api/search?q=koble+skriveren+til+bøtta").get_json()
    assert (body["results"], body["total"]) == ([], 0)
    assert [hit["slug"] for hit in body["partial_results"]] == ["skriver"]
    assert client.get("/api/search?q=koble+skriveren").get_json()["partial_results"] == []
    english = client.get("/docs.php?q=koble+skriveren+til+bøtta&lang=en").text
    assert "Pages that mention some of what you asked" in english
