"""The author's preview (PREVIEW=true): pages that reload themselves, a page's languages side
by side with what `make check` says of it, and nothing of it in production."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest
from helpers import OUR_SCRIPT, PROJECT, write

from app.config import ConfigError

PAGE = "/docs.php?doc=instantid-intro&lang=en"
RELOAD = re.compile(r'<script src="/preview/_reload\.js" data-version-url="([^"]+)" data-version="([^"]+)" defer>')


@pytest.fixture
def preview(make_app):
    return make_app(PREVIEW=True).test_client()


def test_production_has_none_of_it(client, preview):
    for path in ("/preview/instantid-intro", "/preview/_version?doc=instantid-intro", "/preview/_reload.js"):
        assert client.get(path).status_code == 404, path
    html = client.get(PAGE).text
    assert re.findall(r"<script[^>]*>", html) == [OUR_SCRIPT.removesuffix("</script>")]
    assert "preview" not in html
    # The same policy in both: the preview's script is from this site and polls this site.
    policy = client.get(PAGE).headers["Content-Security-Policy"]
    assert policy == preview.get(PAGE).headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy and "unsafe-inline" not in policy


def test_a_previewed_page_carries_the_reload_script_and_its_version(preview, docs_dir):
    html = preview.get(PAGE).text
    assert OUR_SCRIPT in html
    (url, version), *more = RELOAD.findall(html)
    assert not more and url == "/preview/_version?doc=instantid-intro"
    assert html.count("<script") == 2  # ours, and the reload script: nothing inline
    answer = preview.get(url.replace("&amp;", "&"))
    assert answer.json == {"version": version, "failed": ""} and answer.headers["Cache-Control"] == "no-store"
    script = preview.get("/preview/_reload.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript" and b"location.reload()" in script.data
    # A save of either language is a new version, and the page is made again with it.
    text = (docs_dir / "instantid-intro.md").read_text(encoding="utf-8")
    write(docs_dir, "instantid-intro", text + "\nEn ny setning.\n")
    changed = preview.get(url).json["version"]
    assert changed != version and RELOAD.findall(preview.get(PAGE).text) == [(url, changed)]
    assert preview.get("/preview/_version?doc=Bad_Slug").status_code == 400


def test_the_version_polls_are_not_logged(preview, capfd):
    from app.observability.recorder import RECORDER

    preview.get("/preview/_version?doc=instantid-intro")
    preview.get(PAGE)
    RECORDER.flush()
    out = capfd.readouterr().out
    assert '"path":"/docs.php"' in out.replace(" ", "") and "_version" not in out


def test_side_by_side_with_the_translations_state_and_what_make_check_says(preview, docs_dir):
    write(
        docs_dir,
        "utkast",
        "---\ndraft: true\nowner: Team Hjelp\nreview_by: 2001-02-03\n---\n# Et utkast\n\n[Lenke](docs.php?doc=borte)\n",
    )
    write(docs_dir / "en", "utkast", "# A draft\n\nText.\n")
    html = preview.get("/preview/utkast").text
    left, right = html.split('id="sprak-nb"')[1].split('id="sprak-en"')
    assert "Et utkast" in left and "utkast)" in left and "Team Hjelp" in left and "A draft" in right
    assert "ikke registrert" in right and "make translated SLUG=utkast" in right
    check = html.split('class="preview-check"')[1].split("</section>")[0]
    assert "[nb] utkast.md: link to a page that does not exist" in check
    assert "[nb] utkast.md: due for review since 2001-02-03 (owner: Team Hjelp)" not in check  # a draft is not due
    assert "[en] utkast.md: no translated_from" in check
    assert RELOAD.search(html) and 'data-version-url="/preview/_version?doc=utkast"' in html
    # An English page the Norwegian one has moved on from.
    text = (docs_dir / "instantid-intro.md").read_text(encoding="utf-8")
    write(docs_dir, "instantid-intro", text + "\nEn ny setning.\n")
    html = preview.get("/preview/instantid-intro").text
    assert "utdatert" in html and "the Norwegian page has changed since it was translated" in html
    assert preview.get("/preview/finnes-ikke").status_code == 404


def test_the_side_by_side_pages_links_lead_to_the_previews_of_the_pages_they_name(preview, docs_dir):
    """Written relative (`docs.php?doc=...`), a page's links would lead from /preview/<slug>
    to /preview/docs.php, a 404; they lead to the named page's preview, anchor kept, and
    the index and a search lead there from the root."""
    write(
        docs_dir,
        "utkast",
        "---\ndraft: true\n---\n# Et utkast\n\n[Lenke](docs.php?doc=instantid-intro&lang=en#kilder) og"
        " [borte](docs.php?doc=borte) og [ute](https://example.org/docs.php?doc=x) og [her](#et-utkast)"
        " og [alle](docs.php) og [søk](docs.php?q=hei#x) og [rart](docs.php?doc=%22%3E)\n\n"
        '<a class="chip" href="./docs.php?doc=what-is-ip-adapter">IP-Adapter</a> `<a href="docs.php">`\n',
    )
    html = preview.get("/preview/utkast").text.split('id="sprak-nb"')[1]
    hrefs = re.findall(r'<a\s[^>]*?href="([^"]*)"', html)
    assert "/preview/instantid-intro#kilder" in hrefs and "/preview/borte" in hrefs
    assert "/preview/what-is-ip-adapter" in hrefs and "#et-utkast" in hrefs
    assert "https://example.org/docs.php?doc=x" in hrefs
    assert "/docs.php" in hrefs and "/docs.php?q=hei#x" in hrefs
    assert "/docs.php?doc=%22%3E" in hrefs  # no page: left to the page's own 400
    assert '<code>&lt;a href="docs.php"&gt;</code>' in html  # code shown as written
    assert not [href for href in hrefs if "docs.php" in href and not href.startswith(("/docs.php", "https:"))]
    assert preview.get("/preview/instantid-intro").status_code == 200


def test_a_changed_description_shows_where_the_translator_looks(preview, docs_dir):
    # Only the Norwegian description changes: the translation is outdated, and the preview
    # shows both descriptions beside the state (escaped, as everything an author writes).
    text = (docs_dir / "instantid-intro.md").read_text(encoding="utf-8")
    write(docs_dir, "instantid-intro", re.sub(r"(?m)^description: .*$", "description: Ny <b>beskrivelse</b>.", text))
    html = preview.get("/preview/instantid-intro").text
    left, right = html.split('id="sprak-nb"')[1].split('id="sprak-en"')
    assert "<dt>Beskrivelse</dt><dd>Ny &lt;b&gt;beskrivelse&lt;/b&gt;.</dd>" in left
    assert "<dt>Beskrivelse</dt><dd>InstantID makes pictures" in right and "utdatert" in right


@pytest.mark.parametrize(
    "url, refused",
    [
        ("https://hjelp.example.no", True),
        ("https://hjelp.example.no:8443/", True),
        ("http://hjelp.example.no", False),
        ("https://localhost:8000", False),
        ("https://127.0.0.1", False),
        ("http://127.0.0.1:8000", False),
    ],
)
def test_a_preview_refuses_a_production_looking_address_unless_told(make_app, url, refused):
    if refused:
        with pytest.raises(ConfigError, match="PREVIEW=true shows drafts.*PREVIEW_ALLOW_PUBLIC=true"):
            make_app(PREVIEW=True, PUBLIC_BASE_URL=url)
        assert make_app(PREVIEW=True, PREVIEW_ALLOW_PUBLIC=True, PUBLIC_BASE_URL=url).config["PREVIEW"]
    else:
        assert make_app(PREVIEW=True, PUBLIC_BASE_URL=url).config["PREVIEW"]
    assert not make_app(PUBLIC_BASE_URL=url).config["PREVIEW"]  # production never sets it


def launch(docs_dir, **env) -> tuple[subprocess.CompletedProcess, int]:
    """The launcher (`python -m app.serve`) with these settings, and the port it was given."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = {
        **os.environ,
        "DOCS_DIR": str(docs_dir),
        "DATABASE_URL": f"sqlite:///{docs_dir.parent}/feedback.db",
        "GRANIAN_PORT": str(port),
        "PREVIEW": "true",
        **env,
    }
    settings.pop("PROMETHEUS_MULTIPROC_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "app.serve"], cwd=PROJECT, env=settings, capture_output=True, text=True, timeout=60
    )
    return result, port


@pytest.mark.parametrize(
    "env, named",
    [
        ({"PUBLIC_BASE_URL": "https://hjelp.example.no"}, "PUBLIC_BASE_URL='https://hjelp.example.no'"),
        ({"GRANIAN_HOST": "0.0.0.0"}, "GRANIAN_HOST='0.0.0.0'"),
    ],
)
def test_the_launcher_refuses_a_public_preview_in_one_line_before_any_port_opens(docs_dir, env, named):
    result, port = launch(docs_dir, **env)
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert line.count("\n") == 0 and line.startswith("avatarify-help: cannot start: PREVIEW=true shows drafts")
    assert named in line and "PREVIEW_ALLOW_PUBLIC=true" in line
    with socket.socket() as client, pytest.raises(ConnectionRefusedError):
        client.connect(("127.0.0.1", port))


def test_the_launchers_preview_check_lets_through_what_it_is_told():
    from app.serve import check_preview

    check_preview({"PREVIEW": False, "PREVIEW_ALLOW_PUBLIC": False})
    os.environ["GRANIAN_HOST"], before = "0.0.0.0", os.environ.get("GRANIAN_HOST")
    try:
        check_preview({"PREVIEW": True, "PREVIEW_ALLOW_PUBLIC": True})
        check_preview({"PREVIEW": False, "PREVIEW_ALLOW_PUBLIC": False})
        with pytest.raises(ConfigError):
            check_preview({"PREVIEW": True, "PREVIEW_ALLOW_PUBLIC": False})
    finally:
        if before is None:
            del os.environ["GRANIAN_HOST"]
        else:
            os.environ["GRANIAN_HOST"] = before
