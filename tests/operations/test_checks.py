"""`flask check-docs`: the bundled docs pass; broken links, missing titles and unsafe HTML fail."""

from __future__ import annotations

import html

import pytest
from helpers import write


def test_bundled_docs_pass(runner):
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 0, result.output
    assert "6 in nb, 6 in en documents" in result.output


@pytest.mark.parametrize(
    "text, expected",
    [
        ("# T\n\n[x](docs.php?doc=no-such-page)\n", "link to a page that does not exist"),
        ('# T\n\n<div class="mt-3"><a href="docs.php?doc=gone" class="chip">x</a></div>\n', "does not exist"),
        ("# T\n\n[x](docs.php?doc=Bad_Slug)\n", "malformed internal link"),
        ("No heading at all\n", "no title"),
        ("# T\n\n<script>alert(1)</script>\n", "would remove or change <script>"),
        ('# T\n\n<div class="mt-3" style="color:red">x</div>\n', "would remove or change <div"),
        ('# T\n\n<a href="javascript:alert(1)">x</a>\n', "would remove or change <a"),
        # Raw HTML left open: the sanitizer closes it where it guesses, and the page after it changes.
        (
            '# T\n\n<div class="mt-3">\n<a href="docs.php?doc=instantid-intro" class="chip">\n<strong>InstantID\n</a>\n'
            '<a href="docs.php?doc=what-is-ip-adapter" class="chip"><strong>IP-Adapter</strong></a>\n</div>\n',
            "<strong> is never closed, so what follows may end up inside it: add </strong>",
        ),
        (
            '# T\n\n<div class="mt-3">\n<a href="docs.php?doc=instantid-intro">x</a>\n\n## Etter\n',
            "<div> is never closed",
        ),
        ("# T\n\n<p>Et avsnitt\n\n## Etter\n\n*Tekst*\n", "<p> is never closed"),
        # A non-void element cannot close itself in HTML: the sanitizer leaves it open.
        (
            '# T\n\n<a href="docs.php?doc=instantid-intro" class="chip"><i class="fa fa-info"/>x</a>\n',
            "<i> is never closed",
        ),
        ("# T\n\nTekst <strong/> her.\n", "<strong> is never closed"),
        ("# T\n\n## &nbsp;\n", "an empty heading (h2)"),
        (
            "# T\n\n[x](docs.php?doc=instantid-intro#%0Aneste)\n",
            "no heading with the anchor #\\nneste in instantid-intro.md",
        ),
        ("# T\n\n## \n\nTekst.\n", "an empty heading (h2): give it words or remove it"),
        ("# T\n\n### [](docs.php?doc=instantid-intro)\n", "an empty heading (h3)"),
        # A link with more parameters than the page is a link to that page all the same.
        ("# T\n\n[x](docs.php?doc=no-such-page&lang=en)\n", "link to a page that does not exist"),
        ('# T\n\n<div class="mt-3"><a href="docs.php?doc=gone&amp;embed=1" class="chip">x</a></div>\n', "not exist"),
        ("# T\n\n[x](docs.php?doc=instantid-intro&lang=en#nowhere)\n", "no heading with the anchor #nowhere"),
        # An author's slips in front matter, which would otherwise publish a draft as it is.
        ("---\ndraft: true\nowner: Team Hjelp\n# Utkast\n\nTekst.\n", "front matter has no closing '---' line"),
        ("---\ndrafts: true\n---\n# Utkast\n", "unknown key 'drafts', which does nothing: did you mean 'draft'?"),
        ("# T\n\n[x](docs.php?lang=en&doc=no-such-page)\n", "link to a page that does not exist"),
        ("---\nreview_by: 2026-02-30\n---\n# T\n", "'review_by' is 2026-02-30, a day that does not exist"),
    ],
)
def test_problems_fail_the_check(runner, docs_dir, text, expected):
    write(docs_dir, "broken", text)
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 1
    assert "broken" in result.output and expected in result.output


def test_a_page_broken_before_the_check_starts_fails_it(docs_dir, make_app):
    # The server serves the others (and answers 503 for it); `make check` and CI still fail.
    write(docs_dir, "odelagt", "---\nupdated: 2026-02-30\n---\n# Ødelagt\n")
    result = make_app().test_cli_runner().invoke(args=["check-docs"])
    assert result.exit_code == 1
    assert "odelagt.md" in result.output and "'updated' is 2026-02-30, a day that does not exist" in result.output


def test_make_check_names_each_bad_page_in_a_line_without_a_traceback(docs_dir):
    import os
    import subprocess
    import sys

    from helpers import PROJECT

    write(docs_dir, "feil-dato", "---\nupdated: 2026-02-30\n---\n# Feil dato\n")
    (docs_dir / "en" / "ikke-utf8.md").write_bytes(b"\xff\xfe# x")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "check-docs"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FLASK_APP": "wsgi", "DOCS_DIR": str(docs_dir)},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    problems = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert len(problems) == 2 and "feil-dato.md" in problems[0] + problems[1] and "ikke-utf8.md" in "".join(problems)


def test_the_bundled_lock_holds_the_six_pages_in_both_languages():
    from helpers import PROJECT

    from app.content.addresses import read_lock

    locked, problems = read_lock(PROJECT / "docs" / "_links.lock")
    slugs = {path.stem for path in (PROJECT / "docs").glob("*.md")}
    assert problems == [] and len(slugs) == 6
    assert {(entry.slug, entry.lang, entry.day) for entry in locked.values()} == {
        (slug, lang, "2026-12-06") for slug in slugs for lang in ("nb", "en")
    }


def test_bundled_docs_pass_with_their_lock(runner):
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 0 and "the 12 addresses in _links.lock" in result.output


def test_removing_a_locked_page_without_an_alias_fails_make_check_with_one_line_naming_it(docs_dir, make_app):
    import os
    import subprocess
    import sys

    from helpers import PROJECT

    def make_check() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "check-docs"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "FLASK_APP": "wsgi", "DOCS_DIR": str(docs_dir)},
        )

    write(docs_dir, "ny-side", "# Ny side\n\nTekst.\n")
    added = make_app().test_cli_runner().invoke(args=["lock-links", "--today", "2026-12-07"])
    assert added.exit_code == 0 and "+ /docs.php?doc=ny-side&lang=nb 2026-12-07" in added.output
    assert make_check().returncode == 0
    (docs_dir / "ny-side.md").unlink()
    result = make_check()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "_links.lock: /docs.php?doc=ny-side&lang=nb (published 2026-12-07) leads nowhere now: "
        "give the page that replaces it `aliases: [ny-side]`"
    ]
    write(docs_dir, "ny-tittel", "---\naliases: [ny-side]\n---\n# Ny tittel\n\nTekst.\n")
    assert make_check().returncode == 0  # the old address leads to the page that replaced it
    again = make_app().test_cli_runner().invoke(args=["lock-links", "--today", "2026-12-08"])
    assert "+ /docs.php?doc=ny-tittel&lang=nb 2026-12-08" in again.output and "ny-side&" not in again.output


def test_a_link_that_names_a_language_is_checked_on_that_languages_page(runner, docs_dir):
    links = (
        "[a](docs.php?doc=generative-ai-terminology&lang=en#diffusion-model) "
        "[b](docs.php?doc=generative-ai-terminology&lang=en#diffusjonsmodell) "
        "[c](docs.php?doc=generative-ai-terminology#diffusjonsmodell)"
    )
    write(docs_dir, "lenker", f"# Lenker\n\n{links}\n")
    write(
        docs_dir / "en",
        "links",
        "# Links\n\n[d](docs.php?doc=generative-ai-terminology&lang=nb#diffusjonsmodell) "
        "[e](docs.php?doc=generative-ai-terminology&lang=EN#diffusion-model) "
        "[f](docs.php?doc=generative-ai-terminology&lang=no#diffusion-model)\n",
    )
    result = runner.invoke(args=["check-docs"])
    assert [line for line in result.output.splitlines() if line.startswith("[")] == [
        "[nb] lenker.md: no heading with the anchor #diffusjonsmodell in generative-ai-terminology.md: "
        "'docs.php?doc=generative-ai-terminology&lang=en#diffusjonsmodell'",
        "[en] links.md: no heading with the anchor #diffusion-model in generative-ai-terminology.md: "
        "'docs.php?doc=generative-ai-terminology&lang=no#diffusion-model'",
        "[en] links.md: no Norwegian page links.md: its 'Norsk' link and ?doc=links give 404",
    ]


def test_only_what_the_store_would_serve_can_hide_a_page(runner, docs_dir):
    (docs_dir / "nb").mkdir()
    (docs_dir / "nb" / "instantid-intro.md").mkdir()  # a folder
    (docs_dir / "nb" / "what-is-ip-adapter.md").symlink_to("/etc/passwd")  # out of the folder
    (docs_dir / "nb" / "avatarify-intro.md").symlink_to(docs_dir / "gone.md")  # dangling
    (docs_dir / "feil\nnavn.md").write_text("# Feil\n", encoding="utf-8")
    (docs_dir / "veiledninger" / "nb").mkdir(parents=True)
    (docs_dir / "veiledninger" / "nb" / "oppsett.md").write_text("# Oppsett\n", encoding="utf-8")
    result = runner.invoke(args=["check-docs"])
    lines = [line for line in result.output.splitlines() if not line.startswith("{")]
    assert lines == [
        "feil\\nnavn.md: not a page: a page's file is <slug>.md, a-z, 0-9 and - (at most 100)",
        "veiledninger/: pages in a folder are never read: Norwegian pages go in docs/ (or docs/nb/), English ones in "
        "docs/en/",
    ]


def test_files_no_reader_gets_as_meant_fail_the_check_one_line_each(runner, docs_dir, make_app):
    for name in ("Store-Bokstaver.md", "bilde-på-nett.md", "under_strek.md", "side.MD", "side.markdown"):
        (docs_dir / name).write_text("# Side\n", encoding="utf-8")
    (docs_dir / "_notater.md").write_text("Notes for authors, no page.\n", encoding="utf-8")
    (docs_dir / "nb").mkdir()
    write(docs_dir / "nb", "instantid-intro", (docs_dir / "instantid-intro.md").read_text(encoding="utf-8"))
    write(docs_dir / "en", "bare-engelsk", "# Only in English\n")
    write(docs_dir, "generative-ai-intro", "---\ndraft: true\n---\n# Utkast\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 1
    rule = "not a page: a page's file is <slug>.md, a-z, 0-9 and - (at most 100)"
    lines = result.output.splitlines()
    for name in ("Store-Bokstaver.md", "bilde-på-nett.md", "under_strek.md", "side.MD", "side.markdown"):
        assert f"{name}: {rule}" in lines
    assert "_notater" not in result.output
    assert "instantid-intro.md: hidden by nb/instantid-intro.md, the same page: keep one" in lines
    assert (
        "[en] bare-engelsk.md: no Norwegian page bare-engelsk.md: its 'Norsk' link and ?doc=bare-engelsk give 404"
        in lines
    )
    assert (
        "[en] generative-ai-intro.md: its Norwegian page is a draft: make this one a draft too, or publish both"
        in lines
    )
    assert (
        "_links.lock: /docs.php?doc=generative-ai-intro&lang=nb (published 2026-12-06) leads nowhere now: its page is "
        "a draft: publish it, or give the page that replaces it `aliases: [generative-ai-intro]`" in lines
    )
    # The preview shows each of them on its page, as make check does.
    preview = make_app(PREVIEW=True).test_client()
    for slug, problem in (
        ("instantid-intro", "instantid-intro.md: hidden by nb/instantid-intro.md"),
        ("bare-engelsk", "[en] bare-engelsk.md: no Norwegian page bare-engelsk.md"),
        ("generative-ai-intro", "[en] generative-ai-intro.md: its Norwegian page is a draft"),
    ):
        assert problem in html.unescape(preview.get(f"/preview/{slug}").text), slug


def test_aliases_that_clash_fail_the_check_one_line_each(runner, docs_dir):
    write(docs_dir, "ny-side", "---\naliases: [what-is-identitynet, delt]\n---\n# Ny side\n")
    write(docs_dir, "annen-side", "# Annen side\n")
    write(docs_dir / "en", "annen-side", "---\naliases: [delt]\n---\n# Other page\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("[")]  # besides the log's lines
    assert lines == [
        "[nb] ny-side.md, [en] annen-side.md: each claims the alias 'delt', so it leads to none of them",
        "[nb] ny-side.md: the alias 'what-is-identitynet' is also a page's slug; the page wins over the alias",
    ]


@pytest.mark.parametrize(
    "link, schemes, passes",
    [
        ("[Last opp](avatarify://upload)", "avatarify", True),
        ("[Last opp](avatarify://upload)", "", False),
        ("[Last opp](avatarify://upload)", "other-app", False),
        ("[Last opp](avatarify:javascript:alert(1))", "avatarify", False),
        ('<a href="avatarify:&#9;//upload">Last opp</a>', "avatarify", False),
        ('<a href="javascript:avatarify://upload">Last opp</a>', "avatarify", False),
    ],
)
def test_links_into_the_app_pass_only_with_their_scheme_named(docs_dir, make_app, link, schemes, passes):
    write(docs_dir, "app-lenke", f"# App\n\n{link}\n")
    result = make_app(APP_URL_SCHEMES=schemes).test_cli_runner().invoke(args=["check-docs"])
    assert (result.exit_code == 0) == passes, result.output
    if not passes:
        assert "[nb] app-lenke.md: the sanitizer would remove or change <a href=" in result.output


@pytest.mark.parametrize(
    "front, expected",
    [
        ("related: [finnes-ikke]", "'related:' names a page that does not exist: 'finnes-ikke'"),
        ("next: [instantid-intro, borte]", "'next:' names a page that does not exist: 'borte'"),
        ("related: [ny-side]", "'related:' names the page itself: 'ny-side'"),
        ("next: [gammel-side]", "'next:' names an old slug, an alias of instantid-intro: 'gammel-side'"),
        ("related: [kladd]", "'related:' names a draft, which readers cannot see until it is published: 'kladd'"),
    ],
)
def test_related_and_next_steps_must_name_pages(runner, docs_dir, front, expected):
    path = docs_dir / "instantid-intro.md"
    write(
        docs_dir,
        "instantid-intro",
        path.read_text(encoding="utf-8").replace("---\n", "---\naliases: [gammel-side]\n", 1),
    )
    write(docs_dir, "kladd", "---\ndraft: true\n---\n# Kladd\n\nTekst.\n")
    write(docs_dir, "ny-side", f"---\n{front}\n---\n# Ny side\n\nTekst.\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 1 and expected in result.output


# Translations, review dates and drafts: warnings (`--strict` fails on them) and problems.


def warnings_about(output: str, slug: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("warning: ") and f"{slug}.md" in line]


def test_a_translation_is_recorded_and_its_drift_warned_of_then_failed_with_strict(runner, docs_dir):
    write(docs_dir, "ny-side", "# Ny side\n\nTekst.\n")
    write(docs_dir / "en", "ny-side", "---\ndescription: New.\n---\n# New page\n\nText.\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 0, result.output
    assert warnings_about(result.output, "ny-side") == [
        "warning: [en] ny-side.md: no translated_from: once it matches the Norwegian page, "
        "run `make translated SLUG=ny-side`"
    ]
    recorded = runner.invoke(args=["translated", "ny-side"])
    assert recorded.exit_code == 0, recorded.output
    text = (docs_dir / "en" / "ny-side.md").read_text(encoding="utf-8")
    digest = text.split("translated_from: ")[1][:16]
    assert text == f"---\ndescription: New.\ntranslated_from: {digest}\n---\n# New page\n\nText.\n"
    assert f"en/ny-side.md: translated_from: {digest}" in recorded.output
    assert warnings_about(runner.invoke(args=["check-docs"]).output, "ny-side") == []
    # The Norwegian page changes: a warning, exit 0; with --strict, a failure.
    write(docs_dir, "ny-side", "# Ny side\n\nNy tekst.\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 0 and "1 warning" in result.output
    (warning,) = warnings_about(result.output, "ny-side")
    assert warning.startswith("warning: [en] ny-side.md: the Norwegian page has changed since it was translated")
    assert "make translated SLUG=ny-side" in warning
    strict = runner.invoke(args=["check-docs", "--strict"])
    assert strict.exit_code == 1 and warnings_about(strict.output, "ny-side") == [warning]
    # Translated again: nothing to say.
    assert runner.invoke(args=["translated", "ny-side"]).exit_code == 0
    assert runner.invoke(args=["check-docs", "--strict"]).exit_code == 0


def test_a_new_norwegian_description_is_drift_and_translated_keeps_the_english_one(runner, docs_dir):
    write(docs_dir, "ny-side", "---\ndescription: Kort.\n---\n# Ny side\n\nTekst.\n")
    write(docs_dir / "en", "ny-side", "---\ndescription: Short.\n---\n# New\n")
    assert runner.invoke(args=["translated", "ny-side"]).exit_code == 0
    assert warnings_about(runner.invoke(args=["check-docs"]).output, "ny-side") == []
    write(docs_dir, "ny-side", "---\ndescription: Kortere.\n---\n# Ny side\n\nTekst.\n")
    (warning,) = warnings_about(runner.invoke(args=["check-docs"]).output, "ny-side")
    assert "the Norwegian page has changed since it was translated" in warning
    # A description with a line that looks like the key, above the key itself: recording
    # would write into the description, so it is refused and the file left as it was.
    # (Translated and current: the file records the digest already, further down.)
    assert runner.invoke(args=["translated", "ny-side"]).exit_code == 0
    path = docs_dir / "en" / "ny-side.md"
    recorded = path.read_text(encoding="utf-8")
    for looks_like_the_key in ('"Short,\ntranslated_from: see below"', '"Short,\ntranslated_from: x"'):
        path.write_text(recorded.replace("Short.", looks_like_the_key), encoding="utf-8")
        before = path.read_bytes()
        result = runner.invoke(args=["translated", "ny-side"])
        assert result.exit_code == 1 and "add it by hand" in result.output, result.output
        assert path.read_bytes() == before


def test_a_norwegian_page_without_an_english_version_is_no_problem(runner, docs_dir):
    write(docs_dir, "bare-norsk", "# Bare norsk\n")
    result = runner.invoke(args=["check-docs", "--strict"])
    assert result.exit_code == 0 and "bare-norsk" not in result.output


def test_html_may_leave_out_the_end_tags_html_lets_it(runner, docs_dir):
    write(
        docs_dir,
        "valgfritt",
        "# T\n\n<ul><li>en<li>to</ul>\n\nEn linje<br>til, og `<strong>` i kode.\n\n<!-- gjør: <h2></h2> -->\n\n"
        "## ![Avatarify](/static/icons/favicon.svg)\n\n## `kode`\n",
    )
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 0, result.output


def test_a_locked_address_of_a_draft_says_so_only_for_its_own_kind(runner, docs_dir):
    write(docs_dir, "utkast", "---\ndraft: true\ncontexts: [upload]\n---\n# Utkast\n")
    write(docs_dir, "settings", "---\ndraft: true\n---\n# Innstillinger\n")
    with open(docs_dir / "_links.lock", "a", encoding="utf-8") as lock:
        lock.write("/docs.php?doc=upload&lang=nb 2026-12-07\n/go/settings 2026-12-07\n/go/upload 2026-12-07\n")
    lines = [line for line in runner.invoke(args=["check-docs"]).output.splitlines() if line.startswith("_links")]
    assert lines == [
        "_links.lock: /docs.php?doc=upload&lang=nb (published 2026-12-07) leads nowhere now: "
        "give the page that replaces it `aliases: [upload]`",
        "_links.lock: /go/settings (published 2026-12-07) leads nowhere now: give a page `contexts: [settings]`",
        "_links.lock: /go/upload (published 2026-12-07) leads nowhere now: its page is a draft: publish it, "
        "or give a page `contexts: [upload]`",
    ]


def test_a_tag_the_sanitizer_removes_is_one_problem_not_two(runner, docs_dir):
    write(docs_dir, "plassholder", "# T\n\nBruk gs://<bucket>/sti, og en <span> med role=img.\n")
    lines = [line for line in runner.invoke(args=["check-docs"]).output.splitlines() if line.startswith("[")]
    assert lines == [
        "[nb] plassholder.md: <span> is never closed, so what follows may end up inside it: add </span>",
        "[nb] plassholder.md: the sanitizer would remove or change <bucket>",
    ]


def test_days_still_to_come_are_warnings_and_drafts_are_counted(runner, docs_dir):
    write(
        docs_dir,
        "fremtid",
        "---\nreviewed: 2099-03-01\nupdated: 2099-12-07\ndraft: true\n---\n# Fremtid\n\n```\n#\n```\n",
    )
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 0
    assert [line for line in result.output.splitlines() if line.startswith("warning:")] == [
        "warning: [nb] fremtid.md: reviewed: 2099-03-01 is a day still to come, and readers see it under the page",
        "warning: [nb] fremtid.md: updated: 2099-12-07 is a day still to come, and the API and the sitemap give it",
    ]
    assert "7 in nb (1 draft), 6 in en documents" in result.output


def test_a_description_too_long_to_read_at_a_glance_is_a_warning(runner, docs_dir):
    write(docs_dir, "lang", "---\ndescription: " + "ord " * 50 + "\n---\n# Lang\n")  # 199 once stripped
    assert not [line for line in runner.invoke(args=["check-docs"]).output.splitlines() if "lang.md" in line]
    write(docs_dir, "lang", "---\ndescription: " + "ord " * 50 + "ja\n---\n# Lang\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 0
    assert [line for line in result.output.splitlines() if line.startswith("warning:")] == [
        "warning: [nb] lang.md: description: is 202 characters: lists and search results show it whole, "
        "and link previews cut it near 160; keep it to 200 at most"
    ]


def test_translated_refuses_what_it_cannot_record(runner, docs_dir):
    write(docs_dir, "bare-norsk", "# Bare norsk\n")
    write(docs_dir / "en", "only-english", "# Only English\n")
    for slug, message in (
        ("bare-norsk", "no translation of bare-norsk"),
        ("only-english", "no page only-english.md in Norwegian"),
        ("Bad_Slug", "not a slug"),
    ):
        result = runner.invoke(args=["translated", slug])
        assert result.exit_code != 0 and message in result.output, result.output
    assert "translated_from" not in (docs_dir / "en" / "only-english.md").read_text(encoding="utf-8")


def test_translated_refuses_a_translation_with_its_front_matter_left_open(runner, docs_dir):
    write(docs_dir, "side", "# Side\n")
    write(docs_dir / "en", "side", "---\ndraft: true\n# Page\n\nText.\n")
    result = runner.invoke(args=["translated", "side"])
    assert result.exit_code != 0 and "no closing '---' line" in result.output and "fix it first" in result.output
    assert (docs_dir / "en" / "side.md").read_text(encoding="utf-8") == "---\ndraft: true\n# Page\n\nText.\n"


def test_translated_keeps_every_other_byte_of_the_file(runner, docs_dir):
    original = "\ufeff---\r\ndescription: Kept  # as it was\r\norder: 7\r\n---\r\n# Page\r\n\r\nText  with  spaces\r\n"
    (docs_dir / "en" / "instantid-intro.md").write_bytes(original.encode())
    assert runner.invoke(args=["translated", "instantid-intro"]).exit_code == 0
    after = (docs_dir / "en" / "instantid-intro.md").read_bytes().decode()
    (line,) = [line for line in after.split("\r\n") if line.startswith("translated_from:")]
    assert after == original.replace("order: 7\r\n", f"order: 7\r\n{line}\r\n")
    again = runner.invoke(args=["translated", "instantid-intro"])
    assert "already" in again.output and (docs_dir / "en" / "instantid-intro.md").read_bytes().decode() == after


def test_a_page_past_its_review_date_is_a_warning_naming_its_owner(runner, docs_dir):
    write(docs_dir, "gammel", "---\nowner: Team Hjelp\nreview_by: 2001-02-03\n---\n# Gammel\n")
    write(docs_dir, "fersk", "---\nowner: Team Hjelp\nreview_by: 2999-01-01\n---\n# Fersk\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 0
    assert warnings_about(result.output, "gammel") == [
        "warning: [nb] gammel.md: due for review since 2001-02-03 (owner: Team Hjelp): "
        "review it, then set reviewed: and a new review_by:"
    ]
    assert warnings_about(result.output, "fersk") == []
    assert runner.invoke(args=["check-docs", "--strict"]).exit_code == 1


def test_drafts_are_checked_and_a_link_to_one_from_a_published_page_is_a_problem(runner, docs_dir):
    write(docs_dir, "utkast", "---\ndraft: true\n---\n# Utkast\n\n[x](docs.php?doc=finnes-ikke)\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 1 and "[nb] utkast.md: link to a page that does not exist" in result.output
    write(docs_dir, "utkast", "---\ndraft: true\n---\n# Utkast\n\n[x](docs.php?doc=instantid-intro)\n")
    assert runner.invoke(args=["check-docs"]).exit_code == 0
    write(docs_dir, "publisert", "# Publisert\n\nSe [utkastet](docs.php?doc=utkast).\n")
    result = runner.invoke(args=["check-docs"])
    assert result.exit_code == 1
    assert "[nb] publisert.md: link to a draft, which readers cannot see until it is published" in result.output


def test_make_check_strict_fails_on_a_warning_in_one_line(docs_dir):
    import os
    import subprocess
    import sys

    from helpers import PROJECT

    write(docs_dir, "gammel", "---\nreview_by: 2001-02-03\n---\n# Gammel\n")

    def check(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "check-docs", *args],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "FLASK_APP": "wsgi", "DOCS_DIR": str(docs_dir)},
        )

    relaxed, strict = check(), check("--strict")
    assert relaxed.returncode == 0 and strict.returncode == 1
    assert warnings_about(strict.stderr, "gammel") == warnings_about(relaxed.stderr, "gammel") != []
    assert "Traceback" not in strict.stderr
