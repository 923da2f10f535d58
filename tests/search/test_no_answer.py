"""When a query has no answer on the pages, search says so instead of guessing: a word of
another subject is not dropped, a real word is not "corrected" into one the pages have, and
a compound of three parts is found by any of them (so that a word the pages do have is not
taken for a typo)."""

from __future__ import annotations

import Stemmer
from helpers import search_over, slugs, write

from app.search.lexicon import norwegian
from app.search.spelling import compound_parts


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
