"""`flask check-docs`: the bundled docs pass; broken links, missing titles and unsafe HTML fail."""

from __future__ import annotations

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
    assert "odelagt.md" in result.output and "day is out of range" in result.output


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
