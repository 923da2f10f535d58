"""The JSON API: checked against its OpenAPI document by schemathesis, and by hand."""

from __future__ import annotations

import json
import tempfile
import unicodedata

import pytest
import schemathesis
from helpers import PROJECT, write
from hypothesis import HealthCheck, settings
from werkzeug.security import generate_password_hash

from app import create_app
from app.content.links import internal_link, links_in
from app.readers.database import upgrade_database

ORIGIN = "https://app.avatarify.example"


# Made at import: schemathesis reads the schema before any fixture exists.
SCHEMA_APP = create_app(
    {
        "TESTING": True,
        "DOCS_DIR": str(PROJECT / "docs"),
        "API_ALLOWED_ORIGINS": ORIGIN,
        "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp(prefix='help-api-')}/feedback.db",
        "INSIGHTS_USERS": f"forfatter:{generate_password_hash('hemmelig')}",
        # Schemathesis expects a 401 for each request without credentials; the
        # limit on failed logins has its own test (test_insights.py).
        "INSIGHTS_AUTH_RATE_LIMIT": "10000/minute",
    }
)
upgrade_database(SCHEMA_APP)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", SCHEMA_APP)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi_document(case):
    case.call_and_validate()


@pytest.fixture
def api(make_app):
    return make_app(API_ALLOWED_ORIGINS=ORIGIN).test_client()


def test_list_has_every_page_with_its_languages(api):
    docs = api.get("/api/docs?lang=nb").json["docs"]
    assert {d["slug"] for d in docs} == {p.stem for p in (PROJECT / "docs").glob("*.md")}
    assert all(d["languages"] == ["nb", "en"] and d["lang"] == "nb" for d in docs)
    assert api.get("/api/docs?lang=en").json["docs"][0]["title"] == "The technology behind Avatarify"


def test_one_page_with_html_headings_related_and_etag(api):
    response = api.get("/api/docs/what-is-identitynet?lang=nb")
    doc = response.json
    assert doc["title"] == "IdentityNet" and doc["lang"] == doc["requested_lang"] == "nb"
    assert "<script" not in doc["html"] and 'class="chip chip-s bg-gray-light"' in doc["html"]
    assert {"level": 2, "anchor": "slik-virker-det", "text": "Slik virker det"} in doc["headings"]
    assert [r["slug"] for r in doc["related"]] == [
        "avatarify-intro",
        "generative-ai-intro",
        "instantid-intro",
        "what-is-ip-adapter",
        "generative-ai-terminology",
    ]
    etag = response.headers["ETag"]
    again = api.get("/api/docs/what-is-identitynet?lang=nb", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_a_chosen_language_is_kept_in_the_pages_internal_links(make_app):
    """An app that asked for `lang=en` follows the page's links to English pages, as a reader
    of the page itself does; chosen by Accept-Language, the links stay bare (the header goes
    along), whichever of the two was asked first."""
    by_header = {"Accept-Language": "en"}
    for order in ((True, False), (False, True)):
        api, html = make_app().test_client(), {}  # a new cache each time
        for chosen in order:  # the first one asked is the one cached
            url = "/api/docs/what-is-ip-adapter" + ("?lang=en" if chosen else "")
            html[chosen] = api.get(url, headers=by_header).json["html"]
        internal = [internal_link(href) for href in links_in(html[True]) if internal_link(href)]
        assert len(internal) >= 5 and {lang for _, lang, _ in internal} == {"en"}, order
        bare = [internal_link(href) for href in links_in(html[False]) if internal_link(href)]
        assert [lang for _, lang, _ in bare] == [None] * len(internal), order
    assert internal and all(
        internal_link(href)[1] == "nb"
        for href in links_in(api.get("/api/docs/what-is-ip-adapter?lang=nb").json["html"])
        if internal_link(href)
    )


def test_missing_translation_falls_back_to_norwegian(api, docs_dir):
    (docs_dir / "en" / "instantid-intro.md").unlink()
    doc = api.get("/api/docs/instantid-intro?lang=en").json
    assert doc["lang"] == "nb" and doc["requested_lang"] == "en" and doc["title"] == "Hva er InstantID?"
    assert doc["languages"] == ["nb"]


def test_accept_language_chooses_without_lang(api):
    assert api.get("/api/docs/instantid-intro", headers={"Accept-Language": "en-GB,en;q=0.9"}).json["lang"] == "en"
    assert (
        api.get("/api/docs/instantid-intro", headers={"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"}).json["lang"]
        == "nb"
    )


@pytest.mark.parametrize(
    "url, status, title",
    [
        ("/api/docs/finnes-ikke", 404, "No such page"),
        ("/api/docs/Bad_Slug", 400, "Malformed slug"),
        ("/api/docs/" + "a" * 101, 400, "Malformed slug"),
        ("/api/docs?lang=de", 400, "Unknown language"),
        ("/api/nothing-here", 404, "Not Found"),
    ],
)
def test_errors_are_problem_objects(api, url, status, title):
    response = api.get(url)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    problem = response.json
    assert problem["status"] == status and problem["title"] == title and problem["type"] == "about:blank"


@pytest.mark.parametrize("url", ["/api/docs", "/api/docs/instantid-intro", "/api/contexts", "/api/openapi.json"])
def test_an_if_match_no_version_meets_is_a_problem_object_and_a_matching_one_the_body(api, url):
    failed = api.get(url, headers={"If-Match": '"nope"'})
    assert failed.status_code == 412 and failed.content_type == "application/problem+json"
    assert failed.json["title"] == "Precondition Failed" and failed.headers["Cache-Control"] == "no-store"
    etag = api.get(url).headers["ETag"]
    assert api.get(url, headers={"If-Match": etag}).status_code == 200


def test_wrong_method_is_a_problem_with_allow(api):
    response = api.post("/api/docs")
    assert response.status_code == 405 and response.json["status"] == 405
    assert "GET" in response.headers["Allow"]


def test_search_as_json(api):
    results = api.get("/api/search?q=bildene&lang=nb").json["results"]
    assert results and any(part["match"] for part in results[0]["passage"])
    assert api.get("/api/search?q=&lang=nb").json["results"] == []


@pytest.mark.parametrize(
    "query", ["instantid使い方", "avatarifyアプリ", "фотоavatar", "þjóðhátíð", "ansıkt", "støætter æææææ", "æ" * 200]
)
def test_words_of_mixed_scripts_and_many_ae_are_searched_not_errors(api, query):
    # Letters the corrector's folding drops once made its reach negative: a 500.
    for url in ("/api/search", "/docs.php"):
        assert api.get(url, query_string={"q": query, "lang": "nb"}).status_code == 200


def test_cors_only_for_configured_origins(api):
    allowed = api.get("/api/docs", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in allowed.headers["Vary"]
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    other = api.get("/api/docs", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = api.options(
        "/api/docs/instantid-intro", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]


def test_openapi_document_is_served(api):
    document = api.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/api/docs",
        "/api/docs/{slug}",
        "/api/contexts",
        "/api/search",
        "/api/suggest",
        "/api/feedback",
        "/api/insights/feedback",
        "/api/insights/views",
        "/api/insights/searches",
        "/api/insights/dead-links",
        "/api/insights/dead-contexts",
        "/api/insights/aliases",
        "/api/insights/pages",
        "/api/openapi.json",
    }
    assert json.loads((PROJECT / "app" / "web" / "openapi.json").read_text()) == document


@pytest.mark.parametrize(
    "typed, lang, first",
    [
        ("insta", "nb", "instantid-intro"),
        ("insta", "en", "instantid-intro"),
        ("instnt", "nb", "instantid-intro"),  # a typo in what is typed so far
        ("ip ad", "nb", "what-is-ip-adapter"),
        ("IDENTI", "en", "what-is-identitynet"),
        ("hva er gen", "nb", "generative-ai-intro"),
        (unicodedata.normalize("NFD", "vilkår"), "nb", "instantid-intro"),  # å as a and a combining ring
    ],
)
def test_suggestions_while_typing(client, typed, lang, first):
    assert client.application.extensions["suggester"].ready()
    response = client.get("/api/suggest", query_string={"q": typed, "lang": lang})
    assert response.status_code == 200 and response.headers["ETag"]
    found = response.json["suggestions"]
    assert found[0]["slug"] == first and len(found) <= 8
    assert all(
        item["lang"] in ("nb", "en") and set(item) == {"slug", "title", "lang", "heading", "anchor"} for item in found
    )


def test_a_suggestion_of_a_heading_carries_its_anchor(client):
    assert client.application.extensions["suggester"].ready()
    found = client.get("/api/suggest?q=lora&lang=nb").json["suggestions"]
    glossary = next(item for item in found if item["slug"] == "generative-ai-terminology")
    assert glossary["heading"] == "LoRA" and glossary["anchor"] == "lora"
    html = client.get("/docs.php?doc=generative-ai-terminology").text
    assert 'id="lora"' in html


@pytest.mark.parametrize("typed", ["", "   ", "zzzzqqq", "<script>alert(1)</script>", "a" * 5000, "\x00", "%" * 300])
def test_suggestions_for_anything_else_are_an_empty_list_or_a_problem(client, typed):
    response = client.get("/api/suggest", query_string={"q": typed})
    assert response.status_code == 200 and response.mimetype == "application/json"  # data, never markup
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert all(item["slug"] for item in response.json["suggestions"])


def test_suggestions_are_not_counted_as_searches(make_app, tmp_path):
    from helpers import HASH, migrated

    app = migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/f.db", INSIGHTS_USERS=f"forfatter:{HASH}"))
    client = app.test_client()
    for typed in ("i", "in", "ins", "inst"):
        assert client.get(f"/api/suggest?q={typed}").status_code == 200
    counts = app.extensions["tally"]
    assert counts.flush() and not counts._batch.searches
    from sqlalchemy import create_engine, text

    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM insights_searches")).scalar() == 0
    engine.dispose()


def test_suggestions_find_a_title_written_with_combining_accents(client, docs_dir):
    from helpers import write

    # As a file saved on a Mac may have it: å as a and a combining ring.
    write(docs_dir, "paskeegg", "# " + unicodedata.normalize("NFD", "Påskeegg i appen") + "\n\nTekst.\n")
    client.get("/api/suggest?q=p")  # the pages changed: a new vocabulary is made meanwhile
    assert client.application.extensions["suggester"].ready()
    assert client.get("/api/suggest", query_string={"q": "påskeeg"}).json["suggestions"][0]["slug"] == "paskeegg"


def test_suggestions_follow_the_pages(client, docs_dir):
    from helpers import write

    suggester = client.application.extensions["suggester"]
    assert suggester.ready() and client.get("/api/suggest?q=sjiraff").json["suggestions"] == []
    write(docs_dir, "sjiraffer", "# Sjiraffer i appen\n\nTekst.\n")
    client.get("/api/suggest?q=sjiraff")  # the pages changed: a new vocabulary is made meanwhile
    assert suggester.ready()
    assert client.get("/api/suggest?q=sjiraff").json["suggestions"][0]["slug"] == "sjiraffer"


def test_the_api_says_whether_a_translation_may_be_out_of_date(api, docs_dir):
    assert api.get("/api/docs/instantid-intro?lang=en").json["translation_outdated"] is False
    text = (docs_dir / "instantid-intro.md").read_text(encoding="utf-8")
    write(docs_dir, "instantid-intro", text + "\nEn ny setning.\n")
    assert api.get("/api/docs/instantid-intro?lang=en").json["translation_outdated"] is True
    assert api.get("/api/docs/instantid-intro?lang=nb").json["translation_outdated"] is None
    write(docs_dir / "en", "instantid-intro", "# InstantID\n\nNo record.\n")
    assert api.get("/api/docs/instantid-intro?lang=en").json["translation_outdated"] is None
    (docs_dir / "en" / "what-is-identitynet.md").unlink()  # shown in Norwegian: nothing to say
    assert api.get("/api/docs/what-is-identitynet?lang=en").json["translation_outdated"] is None
