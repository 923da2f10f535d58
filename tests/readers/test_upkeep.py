"""The authors' list of pages in /innsikt: owner, review due, translation, views, "Nei" share
and last change, sorted on the server by any column, as CSV and JSON; and the pages due for
review, in the page and the weekly report."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from helpers import AUTHOR, HASH, add_counts, add_votes, migrated, write

OWNED = "---\nowner: {owner}\nreview_by: {review_by}\nupdated: {updated}\n---\n# {title}\n\nTekst.\n"


@pytest.fixture
def insights_app(make_app, docs_dir, tmp_path):
    write(
        docs_dir,
        "forfalt",
        OWNED.format(owner="Team Hjelp", review_by="2001-02-03", updated="2026-01-05", title="Forfalt side"),
    )
    write(docs_dir, "snart", OWNED.format(owner="Ada", review_by="2999-01-01", updated="2026-11-30", title="Snart"))
    write(
        docs_dir,
        "eldst",
        OWNED.format(owner="=cmd|' /C calc'!A0", review_by="1999-12-31", updated="2025-01-01", title="Eldst"),
    )
    app = migrated(make_app(DATABASE_URL=f"sqlite:///{tmp_path}/feedback.db", INSIGHTS_USERS=f"forfatter:{HASH}"))
    add_counts(app, views=[(0, "forfalt", 40), (1, "forfalt", 2), (0, "snart", 7), (0, "instantid-intro", 90)])
    add_votes(app, [(0, "forfalt", False, "", None), (0, "forfalt", False, "", None), (1, "forfalt", True, "", None)])
    return app


@pytest.fixture
def author(insights_app):
    return insights_app.test_client()


def authors_table(html: str) -> list[list[str]]:
    """The authors' list as text, row by row (the header first)."""
    table = html.split('id="forfattere"')[1].split("</table>")[0]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).replace("\xa0", " ").strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    ]


def test_every_page_with_owner_review_translation_views_no_share_and_last_change(author):
    header, *body = authors_table(author.get("/innsikt", headers=AUTHOR).text)
    assert header == ["Side", "Eier", "Gjennomgås innen", "Oversettelse", "Visninger", "«Nei»", "Sist endret"]
    rows = {row[0]: row for row in body}
    assert len(rows) == 9  # the bundled six and three more
    assert rows["Forfalt side"] == [
        "Forfalt side",
        "Team Hjelp",
        "2001-02-03 forfalt",
        "ingen oversettelse",
        "42",
        "67 % av 3",
        "2026-01-05",
    ]
    assert rows["Hva er InstantID?"][3:5] == ["oppdatert", "90"] and rows["Hva er InstantID?"][5] == "–"
    # Sorted by the review due soonest by default: past their day first, pages without one last.
    assert [row[0] for row in body[:3]] == ["Eldst", "Forfalt side", "Snart"]


def test_the_pages_due_for_review_with_their_owner_views_and_no_share(author):
    due = author.get("/innsikt", headers=AUTHOR).text.split('id="til-gjennomgang"')[1].split("</table>")[0]
    assert "Team Hjelp" in due and "2001-02-03" in due and "42" in due and "67&nbsp;% av 3" in due
    assert due.index("Eldst") < due.index("Forfalt side") and "Snart" not in due


@pytest.mark.parametrize(
    "sort, first, last",
    [
        ("side", "Eldst", "Teknologien bak Avatarify"),
        ("-side", "Teknologien bak Avatarify", "Eldst"),
        ("eier", "=cmd", "–"),
        ("-visninger", "Hva er InstantID?", None),
        ("visninger", None, "Hva er InstantID?"),
        ("-nei", "Forfalt side", None),
        ("endret", "Eldst", None),
        ("-endret", None, "Eldst"),
        ("oversettelse", "Eldst", None),
    ],
)
def test_sorted_on_the_server_by_any_column(author, sort, first, last):
    body = authors_table(author.get(f"/innsikt?sorter={sort}", headers=AUTHOR).text)[1:]
    column = 1 if sort.lstrip("-") == "eier" else 0
    if first:
        assert body[0][column].startswith(first) or body[0][0].startswith(first), body[0]
    if last:
        assert body[-1][column].startswith(last) or body[-1][0].startswith(last), body[-1]


def test_the_column_headers_are_links_that_sort_without_script(author):
    html = author.get("/innsikt?dager=30&sorter=visninger", headers=AUTHOR).text
    head = html.split('id="forfattere"')[1].split("</thead>")[0]
    assert 'aria-sort="ascending"' in head and head.count("aria-sort") == 1
    links = dict(re.findall(r'<a href="([^"]+#forfattere)"[^>]*>([^<]+)</a>', head))
    assert {text: href for href, text in links.items()} == {
        "Side": "/innsikt?dager=30&amp;sorter=side#forfattere",
        "Eier": "/innsikt?dager=30&amp;sorter=eier#forfattere",
        "Gjennomgås innen": "/innsikt?dager=30&amp;sorter=gjennomgang#forfattere",
        "Oversettelse": "/innsikt?dager=30&amp;sorter=oversettelse#forfattere",
        "Visninger": "/innsikt?dager=30&amp;sorter=-visninger#forfattere",  # sorted: the other way
        "«Nei»": "/innsikt?dager=30&amp;sorter=-nei#forfattere",  # the most first
        "Sist endret": "/innsikt?dager=30&amp;sorter=endret#forfattere",
    }
    assert "<script" not in html.split("<main")[1]
    assert author.get("/innsikt?sorter=pris", headers=AUTHOR).status_code == 400


def test_an_edit_of_the_norwegian_page_shows_in_the_list_at_the_next_rescan(
    author, insights_app, docs_dir, monkeypatch
):
    from app.content import store

    monkeypatch.setattr(store, "FULL_RESCAN_SECONDS", 0)  # every 2 s on a server: not here
    monkeypatch.setattr(store, "RESCAN_COST_FACTOR", 0)

    def state() -> str:
        rows = authors_table(author.get("/innsikt", headers=AUTHOR).text)
        return next(row for row in rows if row[0] == "Hva er InstantID?")[3]

    assert state() == "oppdatert"
    text = (docs_dir / "instantid-intro.md").read_text(encoding="utf-8")
    write(docs_dir, "instantid-intro", text + "\nEn ny setning.\n")
    assert state() == "utdatert"
    assert insights_app.test_cli_runner().invoke(args=["translated", "instantid-intro"]).exit_code == 0
    assert state() == "oppdatert"


def test_the_list_as_csv_a_spreadsheet_reads_as_text(author):
    response = author.get("/innsikt/sider.csv?sorter=-visninger", headers=AUTHOR)
    assert response.headers["Content-Disposition"] == 'attachment; filename="sider-7d.csv"'
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert header == [
        "side",
        "tittel",
        "eier",
        "gjennomgås innen",
        "forfalt",
        "oversettelse",
        "visninger",
        "stemmer",
        "nei-andel",
        "sist endret",
    ]
    assert rows[0][0] == "instantid-intro"  # in the order asked for
    forfalt = next(row for row in rows if row[0] == "forfalt")
    assert forfalt == [
        "forfalt",
        "Forfalt side",
        "Team Hjelp",
        "2001-02-03",
        "ja",
        "ingen oversettelse",
        "42",
        "3",
        "0.67",
        "2026-01-05",
    ]
    eldst = next(row for row in rows if row[0] == "eldst")
    assert eldst[2] == "'=cmd|' /C calc'!A0"  # an owner is text, never a formula


def test_the_list_as_json(author):
    found = author.get("/api/insights/pages?days=30&sort=-nei", headers=AUTHOR).json
    assert found["sort"] == "-nei" and found["days"] == 30
    first = found["pages"][0]
    assert first["slug"] == "forfalt" and first["due"] is True and first["no_share"] == pytest.approx(2 / 3)
    assert [page["slug"] for page in found["due"]] == ["eldst", "forfalt"]
    assert author.get("/api/insights/pages?sort=nope", headers=AUTHOR).status_code == 400


def test_the_weekly_report_names_the_pages_due_and_the_translations_behind(insights_app, docs_dir, monkeypatch):
    from app.content import store

    monkeypatch.setattr(store, "FULL_RESCAN_SECONDS", 0)  # cron's report makes its app afresh
    monkeypatch.setattr(store, "RESCAN_COST_FACTOR", 0)
    text = (docs_dir / "instantid-intro.md").read_text(encoding="utf-8")
    write(docs_dir, "instantid-intro", text + "\nEn ny setning.\n")
    output = insights_app.test_cli_runner().invoke(args=["insights", "report"]).output
    assert "Sider som skal gjennomgås: 2" in output
    assert "  1999-12-31  eldst (eier: =cmd|' /C calc'!A0)" in output
    assert "  2001-02-03  forfalt (eier: Team Hjelp)" in output
    assert "Oversettelser som kan være utdatert: 1" in output and "  instantid-intro" in output


def test_drafts_are_not_on_the_list_in_production(author, docs_dir):
    write(docs_dir, "utkast", "---\ndraft: true\nowner: Team\n---\n# Et utkast\n")
    assert "Et utkast" not in author.get("/innsikt", headers=AUTHOR).text
