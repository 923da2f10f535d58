"""A real browser (Debian's chromium, driven by Playwright) on every page type, hostile
documents included; axe-core for accessibility and the Nu HTML Checker for validity."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from helpers import CORPUS, HOSTILE_MARKUP, PROJECT
from playwright.sync_api import sync_playwright

from bench.servers import free_port, get, help_server

# Chromium against the production server.
pytestmark = [pytest.mark.browser, pytest.mark.server]

ARTIFACTS = PROJECT / "test-artifacts"
NODE_MODULES = PROJECT / "node_modules"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGE_TYPES = {
    "page": ("/docs.php?doc=what-is-ip-adapter&lang=nb", 200),
    "page-en": ("/docs.php?doc=instantid-intro&lang=en", 200),
    "index": ("/docs.php?lang=nb", 200),
    "404": ("/docs.php?doc=what-is-ip-adaptr&lang=nb", 404),
    "search": ("/docs.php?q=ansikt&lang=nb", 200),
    # A question no page answers surely: its partial matches, apart from the (no) results.
    "search-partial": ("/docs.php?q=m%C3%A5+jeg+laste+opp+mange+bilder+av+meg+selv&lang=nb", 200),
    "embed": ("/docs.php?doc=what-is-ip-adapter&lang=nb&embed=1", 200),
    # An English page the Norwegian page has moved on from: its notice, embedded.
    "outdated-en": ("/docs.php?doc=what-is-identitynet&lang=en&embed=1", 200),
    # The app's places (`/go/<key>`, keys the site's pages name): a choice of pages, and a dead key.
    "go-chooser": ("/go/screen.upload?lang=nb&embed=1&platform=ios&app_version=5.2.1", 200),
    "go-404": ("/go/screen.instantid.ansikt?lang=nb&embed=1&platform=android", 404),
}
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
# What script a payload might run would call; the hook records the call instead. (Requests,
# fetch() included, are watched from outside the page.)
HOOK = """
window.__ran = [];
for (const name of ['alert', 'confirm', 'prompt', 'print', 'open']) {
  window[name] = function (...args) { window.__ran.push(name); };
}
"""


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Debian's chromium is not installed: .ci/run (or `apt-get install chromium`) installs it")
    return path


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def with_front_matter(path: Path, lines: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace("\n---\n", f"\n{lines}\n---\n", 1), encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The bundled docs, two of them naming the app's places and one an old slug."""
    docs = tmp_path_factory.mktemp("site") / "docs"
    shutil.copytree(PROJECT / "docs", docs)
    with_front_matter(
        docs / "instantid-intro.md", "aliases: [gammel-instantid]\ncontexts: [screen.upload, error.e1203]"
    )
    with_front_matter(docs / "what-is-identitynet.md", "contexts: [screen.upload]\nreviewed: 2026-11-02")
    norwegian = (docs / "what-is-identitynet.md").read_text(encoding="utf-8")
    (docs / "what-is-identitynet.md").write_text(norwegian + "\nEn ny setning.\n", encoding="utf-8")
    # One reader votes in every variant here, from one address: more posts than a worker's
    # share of the default feedback limit allows in a minute.
    with help_server(docs, FEEDBACK_RATE_LIMIT="100/minute") as (base, _):
        yield base


def watch(page, base: str) -> dict:
    """Record console errors and any request to a host other than the app's."""
    seen = {"errors": [], "foreign": [], "dialogs": []}
    host = urlsplit(base).netloc
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on(
        "request",
        lambda r: urlsplit(r.url).netloc != host and r.url.startswith("http") and seen["foreign"].append(r.url),
    )
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    return seen


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_page_types_in_a_real_browser(browser, site, kind, viewport):
    url, status = PAGE_TYPES[kind]
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    seen = watch(page, site)
    response = page.goto(site + url)
    assert response.status == status
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{kind}-{viewport}.png", full_page=True)
    # The browser reports the 404 status of the page itself as an error; nothing else may be.
    errors = [e for e in seen["errors"] if not (status == 404 and "404" in e)]
    assert errors == [] and seen["foreign"] == [] and seen["dialogs"] == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
    if kind.endswith("404"):  # the way on is in sight without scrolling, on a phone too
        box = page.locator("main a.button").first.bounding_box()
        assert box and box["y"] + box["height"] <= VIEWPORTS[viewport]["height"]
    if kind == "search-partial":  # offered, under the heading that says they are no sure answer
        assert page.locator("section.partial li").count() >= 1
        assert page.locator("section.partial h2").is_visible()
    chips = page.locator("a.chip")
    if kind in ("page", "page-en", "embed", "outdated-en"):
        assert chips.count() >= 5
        for i in range(chips.count()):
            assert chips.nth(i).is_visible()
            box = chips.nth(i).bounding_box()
            assert box["width"] >= 44 or box["height"] >= 44  # big enough to hit with a thumb
        contents = page.locator(".toc a")
        assert contents.count() >= 2
        for i in range(contents.count()):
            assert contents.nth(i).bounding_box()["height"] >= 24  # WCAG 2.5.8, without counting on spacing
        target = chips.first.get_attribute("href")
        chips.first.click()
        page.wait_for_load_state()
        assert "doc=avatarify-intro" in page.url and target.split("?")[1] in page.url
        if kind == "embed":
            assert "embed=1" in page.url and page.locator("header").count() == 0
        assert page.locator("h1").first.is_visible()
    context.close()


@pytest.mark.parametrize("kind", ["page", "page-en", "index", "search", "404"])
def test_a_320_px_screen_reflows_without_sideways_scrolling(browser, site, kind):
    # WCAG 1.4.10: 320 CSS px wide. The English header's "Search" button was cut off there.
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(site + PAGE_TYPES[kind][0])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
    button = page.locator(".search button").first.bounding_box()
    assert button["x"] + button["width"] <= 320  # in sight
    crumbs = page.locator(".breadcrumb a")
    for i in range(crumbs.count()):
        assert crumbs.nth(i).bounding_box()["height"] >= 24  # WCAG 2.5.8, without counting on spacing
    context.close()


def test_the_apps_links_land_in_embed_mode_at_phone_size(browser, site):
    context = browser.new_context(viewport=VIEWPORTS["phone"])
    page = context.new_page()
    seen = watch(page, site)
    # A key with one page: straight to it, still embedded.
    assert page.goto(f"{site}/go/Error.E1203?lang=nb&embed=1&platform=ios&app_version=5.2.1").status == 200
    assert page.url == f"{site}/docs.php?doc=instantid-intro&lang=nb&embed=1"
    assert page.locator("header").count() == 0 and page.locator("h1").inner_text() == "Hva er InstantID?"
    assert axe_violations(page) == []
    # An old slug with an anchor: the page, at that heading.
    page.goto(f"{site}/docs.php?doc=gammel-instantid&lang=nb&embed=1&theme=dark#begrensninger")
    assert page.url == f"{site}/docs.php?doc=instantid-intro&lang=nb&embed=1&theme=dark#begrensninger"
    assert page.locator("#begrensninger").is_visible() and page.evaluate("window.scrollY") > 0
    # Several pages: the reader chooses, and stays embedded.
    page.goto(f"{site}/go/screen.upload?lang=en&embed=1")
    choices = page.locator("main ul.page-list a")
    assert choices.count() == 2 and page.locator("header").count() == 0
    for i in range(choices.count()):
        box = choices.nth(i).bounding_box()
        assert box["height"] >= 24 and box["y"] + box["height"] <= VIEWPORTS["phone"]["height"]  # in sight
    choices.first.click()
    page.wait_for_load_state()
    assert "doc=what-is-identitynet&lang=en&embed=1" in page.url and page.locator("header").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "go-page-phone.png")
    assert seen["errors"] == [] and seen["foreign"] == [] and seen["dialogs"] == []
    context.close()


def hostile_documents(folder: Path) -> list[tuple[str, str]]:
    """One document per payload (ours and the shared corpus): (slug, where it came from)."""
    payloads = [(payload, "tests/helpers.py") for payload in HOSTILE_MARKUP]
    path = CORPUS / "xss.jsonl"
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
        payloads += [(row["payload"], row["source"]) for row in rows]
    documents = []
    for i, (payload, source) in enumerate(payloads):
        slug = f"xss-{i}"
        (folder / f"{slug}.md").write_text(
            f"# Payload {i}\n\n{payload}\n\n[{i}]({payload})\n\nSlutt.\n", encoding="utf-8"
        )
        documents.append((slug, source))
    return documents


def test_hostile_documents_run_nothing_in_a_browser(browser, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    documents = hostile_documents(docs)
    with help_server(docs) as (base, _):
        context = browser.new_context()
        context.add_init_script(HOOK)
        page = context.new_page()
        seen = watch(page, base)
        navigations: list[str] = []
        page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))
        failures = []
        for slug, source in documents:
            navigations.clear()
            page.goto(f"{base}/docs.php?doc={slug}")
            page.wait_for_timeout(20)
            state = page.evaluate("""() => ({
                ran: window.__ran,
                scripts: document.querySelectorAll('script:not([src="/static/js/suggest.js"]), iframe, object, embed, svg, math, base, article form').length,
                handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes])
                    .filter(a => a.name.startsWith('on') || (/^(href|src|action|formaction|xlink:href|srcset|poster|background|data)$/.test(a.name)
                        && /^[\\s\\x00-\\x20]*(javascript|data|vbscript):/i.test(a.value)))
                    .map(a => a.name)
            })""")
            if state is None:
                failures.append((slug, source, "evaluate returned nothing", list(navigations)))
                continue
            if state["ran"] or state["scripts"] or state["handlers"] or len(navigations) > 1:
                failures.append((slug, source, state, list(navigations)))
        context.close()
    assert failures == []
    assert seen["dialogs"] == [] and seen["foreign"] == []
    # Payloads keep harmless relative images (<img src=x>), which are 404s from the app itself;
    # any other console error (a script error, a CSP refusal) would mean something got through.
    assert [e for e in seen["errors"] if not e.startswith("Failed to load resource")] == []
    print(f"{len(documents)} hostile documents opened in chromium; nothing ran")


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page."""
    page.evaluate((NODE_MODULES / "axe-core" / "axe.min.js").read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_accessibility_with_axe(browser, site, kind, theme):
    url, _ = PAGE_TYPES[kind]
    page = browser.new_page(viewport=VIEWPORTS["phone"])
    page.goto(f"{site}{url}&theme={theme}")
    assert axe_violations(page) == []
    page.close()


@pytest.mark.parametrize("kind", ["page", "index", "search", "404"])
def test_keyboard_reaches_every_link_with_a_visible_focus(browser, site, kind):
    url, _ = PAGE_TYPES[kind]
    page = browser.new_page(viewport=VIEWPORTS["desktop"])
    page.goto(site + url)
    links = page.evaluate("""() => [...document.querySelectorAll('a[href], input, button')]
        .filter(e => e.offsetParent !== null || e.classList.contains('skip-link')).length""")
    reached, unfocused = set(), []
    for _ in range(links + 3):
        page.keyboard.press("Tab")
        focus = page.evaluate("""() => {
            const e = document.activeElement, s = getComputedStyle(e);
            if (e === document.body) return null;  // focus has gone round to the browser
            return {key: e.outerHTML.slice(0, 200), visible: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0};
        }""")
        if focus is None:
            continue
        reached.add(focus["key"])
        if not focus["visible"]:
            unfocused.append(focus["key"])
    assert len(reached) >= links
    assert unfocused == []
    page.close()


def test_every_page_type_is_valid_html(site, tmp_path):
    files = []
    for kind, (url, _) in PAGE_TYPES.items():
        for theme in ("", "&theme=dark"):
            path = tmp_path / f"{kind}{theme.replace('&theme=', '-')}.html"
            path.write_bytes(get(site + url + theme)[2])
            files.append(str(path))
    assert html_errors(files) == []
    assert len(files) == 2 * len(PAGE_TYPES)


def html_errors(files: list[str]) -> list[tuple]:
    """What the Nu HTML Checker finds wrong in `files`."""
    result = subprocess.run(
        [
            "java",
            "-jar",
            str(NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"),
            "--errors-only",
            "--format",
            "json",
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    return [(Path(m.get("url", "")).name, m.get("message"), m.get("extract", "")[:80]) for m in messages]


@pytest.mark.parametrize("variant", ["", "&theme=dark", "&embed=1"])
def test_a_reader_votes_and_explains_in_a_real_browser(browser, site, variant):
    context = browser.new_context(viewport=VIEWPORTS["phone"], user_agent=f"Leser {variant or 'lys'}")
    page = context.new_page()
    seen = watch(page, site)
    page.goto(f"{site}/docs.php?doc=generative-ai-intro&lang=nb{variant}")
    form = page.locator("#tilbakemelding")
    form.scroll_into_view_if_needed()
    assert form.get_by_text("Var denne siden nyttig?").is_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Nei").click()
    page.wait_for_load_state()
    assert "/tilbakemelding?doc=generative-ai-intro&lang=nb" in page.url and variant.lstrip("&") in page.url
    assert page.locator("h1").inner_text() == "Hva var galt?"
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(
        path=ARTIFACTS / f"feedback-details{variant.replace('&', '-').replace('=', '-')}.png", full_page=True
    )
    page.get_by_label("Den var vanskelig å forstå").check()
    page.get_by_label("Vil du si mer? (valgfritt)").fill("Jeg savner et eksempel <script>alert(1)</script>")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert "doc=generative-ai-intro" in page.url and "takk=1" in page.url and variant.lstrip("&") in page.url
    thanks = page.get_by_text("Takk for tilbakemeldingen!")
    assert thanks.is_visible() and page.locator("#tilbakemelding button").count() == 0
    assert axe_violations(page) == []
    if "embed" in variant:
        assert page.locator("header").count() == 0
    page.screenshot(path=ARTIFACTS / f"feedback-thanks{variant.replace('&', '-').replace('=', '-')}.png")
    assert context.cookies() == [] and seen["foreign"] == [] and seen["dialogs"] == [] and seen["errors"] == []
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_insights_show_hostile_comments_as_text_in_a_real_browser(browser, tmp_path, viewport):
    from werkzeug.security import generate_password_hash

    docs = tmp_path / "docs"
    shutil.copytree(PROJECT / "docs", docs)
    users = f"forfatter:{generate_password_hash('hemmelig passord')}"
    port = free_port()  # readers are told apart by address: behind one proxy hop, each names its own
    behind_a_proxy = {"TRUSTED_PROXY_HOPS": "1", "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    with help_server(
        docs, port, INSIGHTS_USERS=users, RATELIMIT_ENABLED="false", INSIGHTS_FLUSH_SECONDS="0.2", **behind_a_proxy
    ) as (base, _):
        for i, payload in enumerate(HOSTILE_MARKUP[:20]):
            request = urllib.request.Request(
                f"{base}/api/feedback",
                method="POST",
                headers={"Content-Type": "application/json", "User-Agent": f"l{i}"},
                data=json.dumps(
                    {"slug": "instantid-intro", "helpful": i % 3 == 0, "comment": payload[:1000], "reasons": ["wrong"]}
                ).encode(),
            )
            assert urllib.request.urlopen(request).status == 201
        # Hostile searches, each from 3 readers (enough to be shown), and dead links with hostile referrers.
        for reader in range(3):
            for payload in HOSTILE_MARKUP[:10]:
                get(
                    f"{base}/docs.php?{urlencode({'q': payload[:200]})}",
                    headers={"X-Forwarded-For": f"192.0.2.{reader}"},
                )
                referrer = "".join(char for char in payload[:500] if " " <= char <= "~")
                get(f"{base}/docs.php?doc=borte-{reader}", headers={"Referer": referrer})
            get(f"{base}/docs.php?doc=instantid-intro")
        author = {"Authorization": "Basic " + base64.b64encode(b"forfatter:hemmelig passord").decode()}
        deadline = time.monotonic() + 20  # the workers' writers flush every 0.2 s
        while (
            json.loads(get(f"{base}/api/insights/dead-links", headers=author)[2])["total"] < 30
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        for theme in ("light", "dark"):
            context = browser.new_context(
                viewport=VIEWPORTS[viewport], http_credentials={"username": "forfatter", "password": "hemmelig passord"}
            )
            page = context.new_page()
            page.add_init_script(HOOK)
            seen = watch(page, base)
            response = page.goto(f"{base}/innsikt?dager=30&theme={theme}")
            assert response.status == 200 and response.headers["cache-control"] == "no-store, private"
            page.wait_for_timeout(300)
            assert page.evaluate("window.__ran") == [] and seen["dialogs"] == [] and seen["foreign"] == []
            assert page.locator(".comments li").count() == 20
            assert page.locator("svg[role=img] rect.no").count() == 30
            shown = page.locator("#mest-sokt ~ div table q").all_inner_texts()
            assert len(shown) >= 5 and any("<" in query for query in shown)  # markup shown as text
            assert page.locator("#dode-lenker ~ div table td a", has_text="borte-0").count() == 1
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
            assert axe_violations(page) == []
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"innsikt-{viewport}-{theme}.png", full_page=True)
            page.get_by_role("link", name="Hva er InstantID?").first.click()
            page.wait_for_load_state()
            assert "/innsikt/side?doc=instantid-intro" in page.url
            assert page.locator(".comments li").count() == 20 and page.locator("svg[role=img]").count() == 2
            assert page.evaluate("window.__ran") == [] and seen["dialogs"] == [] and seen["foreign"] == []
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
            assert axe_violations(page) == []
            page.screenshot(path=ARTIFACTS / f"innsikt-side-{viewport}-{theme}.png", full_page=True)
            context.close()
        if viewport == "phone":  # the same HTML at either size: checked once
            files = []
            for name, url in (("innsikt", "/innsikt?dager=30"), ("side", "/innsikt/side?doc=instantid-intro")):
                (tmp_path / f"{name}.html").write_bytes(get(base + url, headers=author)[2])
                files.append(str(tmp_path / f"{name}.html"))
            assert html_errors(files) == []


# Suggestions while typing (static/js/suggest.js), at phone size.

SUGGEST_PAGES = {
    "header": ("/docs.php?doc=what-is-ip-adapter&lang=nb", "#sok"),
    "embed": ("/docs.php?q=&lang=nb&embed=1", "#sok-side"),  # embedded, the search page's own box
}


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("where", SUGGEST_PAGES)
def test_typing_offers_pages_and_enter_opens_one_keyboard_only(browser, site, where, theme):
    url, box = SUGGEST_PAGES[where]
    page = browser.new_page(viewport=VIEWPORTS["phone"])
    page.add_init_script(HOOK)
    seen = watch(page, site)
    page.goto(f"{site}{url}&theme={theme}")
    page.focus(box)
    page.keyboard.type("insta", delay=40)
    options = page.locator("[role=listbox] [role=option]")
    # Typed slowly (a loaded machine), "i" or "in" may show a list of their own first.
    page.wait_for_function("() => /InstantID/.test(document.querySelector('[role=option]')?.textContent)")
    assert page.get_attribute(box, "aria-expanded") == "true"
    assert "InstantID" in options.first.inner_text()
    assert axe_violations(page) == []
    page.keyboard.press("ArrowDown")
    assert options.first.get_attribute("aria-selected") == "true"
    assert page.get_attribute(box, "aria-activedescendant") == options.first.get_attribute("id")
    page.keyboard.press("Enter")
    page.wait_for_url("**/docs.php?doc=instantid-intro*")
    assert ("embed=1" in page.url) is (where == "embed") and f"theme={theme}" in page.url
    assert "InstantID" in page.locator("h1").inner_text()
    assert seen["errors"] == [] and seen["foreign"] == [] and page.evaluate("window.__ran") == []


def test_a_late_list_keeps_the_suggestion_the_reader_chose(browser, site):
    # On a slow network the list for what was typed last can arrive after the reader has
    # arrowed to a suggestion of the one before: the choice stays, and Enter opens it.
    page = browser.new_page(viewport=VIEWPORTS["phone"])
    held = []
    page.route(lambda url: "/api/suggest?q=insta&" in url, lambda route: held.append(route))  # answered later
    page.goto(f"{site}/docs.php?doc=what-is-ip-adapter&lang=nb")
    page.focus("#sok")
    page.keyboard.type("ins", delay=40)
    options = page.locator("[role=listbox] [role=option]")
    options.first.wait_for(timeout=5000)
    page.keyboard.type("ta", delay=40)
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    page.keyboard.press("ArrowDown")
    chosen = options.first.get_attribute("data-href")
    assert held and "instantid-intro" in chosen
    page.evaluate("document.querySelector('[role=option]').dataset.early = '1'")
    held[0].continue_()
    page.wait_for_function("() => !document.querySelector('[role=option]').dataset.early", timeout=5000)
    assert page.locator("[role=option][aria-selected=true]").get_attribute("data-href") == chosen
    page.keyboard.press("Enter")
    page.wait_for_url("**/docs.php?doc=instantid-intro*")
    # A choice made before the reader typed more is no choice: Enter searches what was typed.
    page.goto(f"{site}/docs.php?doc=what-is-ip-adapter&lang=nb")
    page.focus("#sok")
    page.keyboard.type("ins", delay=40)
    options.first.wait_for(timeout=5000)
    page.keyboard.press("ArrowDown")
    page.keyboard.type("tantid", delay=40)
    page.wait_for_function("() => !document.querySelector('[role=option][aria-selected=true]')", timeout=5000)
    page.keyboard.press("Enter")
    page.wait_for_url("**/docs.php?q=instantid*")
    page.close()


def test_a_tap_on_a_suggestion_opens_it_and_escape_closes_the_list(browser, site):
    context = browser.new_context(viewport=VIEWPORTS["phone"], has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{site}/docs.php?doc=what-is-ip-adapter&lang=en")
    page.tap("#sok")
    page.keyboard.type("ident", delay=40)
    option = page.locator("[role=option]").first
    option.wait_for(timeout=5000)
    page.keyboard.press("Escape")
    assert page.get_attribute("#sok", "aria-expanded") == "false" and not option.is_visible()
    page.keyboard.type("i", delay=40)
    option.wait_for(timeout=5000)
    option.tap()
    page.wait_for_url("**/docs.php?doc=what-is-identitynet*")
    assert "lang=en" not in page.url or "IdentityNet" in page.locator("h1").inner_text()
    context.close()


@pytest.mark.parametrize("lang", ["no", "EN-gb"])
def test_suggestions_come_for_every_spelling_of_lang_a_page_takes(browser, site, lang):
    """`lang=no` and `lang=EN-gb` show the page in Norwegian and English; the API takes
    only nb and en, so the script asks in the page's language, not in the address's words."""
    page = browser.new_page(viewport=VIEWPORTS["phone"])
    page.goto(f"{site}/docs.php?doc=what-is-ip-adapter&lang={lang}")
    page.fill("#sok", "ident")
    option = page.locator("[role=option]").first
    option.wait_for(timeout=5000)
    assert "IdentityNet" in option.inner_text()
    page.close()


def test_without_javascript_the_search_box_searches_as_before(browser, site):
    context = browser.new_context(viewport=VIEWPORTS["phone"], java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}/docs.php?doc=what-is-ip-adapter&lang=nb")
    page.fill("#sok", "instantid")
    page.keyboard.press("Enter")
    page.wait_for_url("**/docs.php?q=instantid*")
    assert page.locator("[role=listbox]").count() == 0 and "InstantID" in page.content()
    context.close()


def test_insights_show_old_links_and_places_without_help_in_a_real_browser(browser, tmp_path):
    from werkzeug.security import generate_password_hash

    docs = tmp_path / "docs"
    shutil.copytree(PROJECT / "docs", docs)
    with_front_matter(docs / "instantid-intro.md", "aliases: [gammel-instantid]\ncontexts: [screen.upload]")
    users = f"forfatter:{generate_password_hash('hemmelig passord')}"
    # Readers behind one proxy: a reader's repeats of an old link or a place count once.
    proxy = {"TRUSTED_PROXY_HOPS": "1", "PUBLIC_BASE_URL": "http://127.0.0.1"}
    with help_server(docs, INSIGHTS_USERS=users, RATELIMIT_ENABLED="false", INSIGHTS_FLUSH_SECONDS="0.2", **proxy) as (
        base,
        _,
    ):
        for i in range(3):
            reader = {"X-Forwarded-For": f"198.51.100.{i}"}
            get(f"{base}/docs.php?doc=gammel-instantid&embed=1", headers=reader)
            get(f"{base}/go/screen.settings?platform=ios&app_version=5.{i}.0", headers=reader)
            get(f"{base}/go/error.e{i}?platform=<script>alert(1)</script>&app_version=<b>", headers=reader)
        author = {"Authorization": "Basic " + base64.b64encode(b"forfatter:hemmelig passord").decode()}
        deadline = time.monotonic() + 20  # the workers' writers flush every 0.2 s
        while (
            json.loads(get(f"{base}/api/insights/dead-contexts", headers=author)[2])["total"] < 6
            or json.loads(get(f"{base}/api/insights/aliases", headers=author)[2])["total"] < 3
        ) and time.monotonic() < deadline:
            time.sleep(0.1)
        context = browser.new_context(
            viewport=VIEWPORTS["phone"], http_credentials={"username": "forfatter", "password": "hemmelig passord"}
        )
        page = context.new_page()
        page.add_init_script(HOOK)
        seen = watch(page, base)
        assert page.goto(f"{base}/innsikt?dager=7").status == 200
        places = page.locator("#steder ~ div table").first
        assert places.locator("td code", has_text="screen.settings").count() == 1
        assert "ios 5.0.0: 1" in places.inner_text() and "<script>" not in page.content().split("<main")[1]
        old = page.locator("#gamle-adresser ~ div table").first
        assert old.locator("td code", has_text="gammel-instantid").count() == 1 and "3" in old.inner_text()
        assert page.evaluate("window.__ran") == [] and seen["dialogs"] == [] and seen["foreign"] == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
        assert axe_violations(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "innsikt-links-phone.png", full_page=True)
        context.close()


# The author's preview (`make preview`): a save reloads the page.


def saved(path: Path, text: str, whole: bool) -> float:
    """Save `text` as an editor would: written elsewhere and renamed into place (`whole`), or
    written in place. The moment of the save."""
    if whole:
        temporary = path.with_name(f".{path.name}.swp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    else:
        path.write_text(text, encoding="utf-8")
    return time.monotonic()


def test_a_save_reloads_the_preview_in_chromium_within_a_second(browser, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(PROJECT / "docs", docs)
    notice = "The Norwegian version of this page has changed since it was translated"
    with help_server(docs, PREVIEW="true") as (base, _):
        context = browser.new_context(viewport=VIEWPORTS["phone"])
        page = context.new_page()
        seen = watch(page, base)
        page.goto(f"{base}/docs.php?doc=instantid-intro&lang=en&embed=1")
        assert page.locator("script[src='/preview/_reload.js']").count() == 1 and notice not in page.content()
        page.wait_for_timeout(400)  # the script has polled once: it knows the page as it is
        took = []
        # The Norwegian page is saved (renamed into place): the English page reloads, with its notice.
        original = (docs / "instantid-intro.md").read_text(encoding="utf-8")
        with page.expect_navigation(wait_until="domcontentloaded", timeout=5000):
            at = saved(docs / "instantid-intro.md", original.replace("\n\n", "\n\nEn ny setning.\n\n", 1), True)
        took.append(time.monotonic() - at)
        assert page.get_by_text(notice).is_visible()
        page.wait_for_timeout(400)
        # The English page itself is saved in place: it reloads with its new title.
        english = (docs / "en" / "instantid-intro.md").read_text(encoding="utf-8")
        with page.expect_navigation(wait_until="domcontentloaded", timeout=5000):
            at = saved(docs / "en" / "instantid-intro.md", english.replace("# What is", "# Saved: what is"), False)
        took.append(time.monotonic() - at)
        assert page.locator("h1").inner_text().startswith("Saved: what is InstantID")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "preview-reloaded-phone.png")
        assert seen["errors"] == [] and seen["foreign"] == [] and seen["dialogs"] == []
        print(f"reloaded {took[0]:.2f} s and {took[1]:.2f} s after the saves")
        assert max(took) < 1.0, took
        context.close()
        # The page's languages side by side, with what `make check` says of it.
        for name, size in VIEWPORTS.items():
            context = browser.new_context(viewport=size)
            page = context.new_page()
            seen = watch(page, base)
            page.goto(f"{base}/preview/instantid-intro")
            columns = page.locator(".preview-column")
            assert columns.count() == 2 and "utdatert" in columns.nth(1).inner_text()
            if name == "desktop":  # side by side
                assert columns.nth(0).bounding_box()["y"] == columns.nth(1).bounding_box()["y"]
            assert "has changed since it was translated" in page.locator(".preview-check").inner_text()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
            assert axe_violations(page) == [] and seen["errors"] == [] and seen["foreign"] == []
            page.screenshot(path=ARTIFACTS / f"preview-side-by-side-{name}.png")
            context.close()


def test_a_save_that_does_not_load_is_said_on_the_preview_and_its_fix_reloads_it(browser, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(PROJECT / "docs", docs)
    with help_server(docs, PREVIEW="true") as (base, _):
        page = browser.new_page(viewport=VIEWPORTS["phone"])
        seen = watch(page, base)
        page.goto(f"{base}/docs.php?doc=instantid-intro&lang=nb")
        page.wait_for_timeout(400)  # the script has polled once
        original = (docs / "instantid-intro.md").read_text(encoding="utf-8")
        navigations = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))
        saved(docs / "instantid-intro.md", original.replace("updated: ", "updated: 2026-02-30\nx: ", 1), True)
        alert = page.get_by_role("alert")
        alert.wait_for(timeout=5000)
        assert "Filen kan ikke leses" in alert.inner_text() and "a day that does not exist" in alert.inner_text()
        assert navigations == [] and page.locator("h1").inner_text() == "Hva er InstantID?"  # the last good one
        with page.expect_navigation(wait_until="domcontentloaded", timeout=5000):
            saved(docs / "instantid-intro.md", original.replace("# Hva er", "# Rettet: hva er"), True)
        assert page.locator("h1").inner_text().startswith("Rettet: hva er") and page.get_by_role("alert").count() == 0
        assert seen["errors"] == [] and seen["foreign"] == []
        page.close()


# What has gone stale, as readers and authors see it.


@pytest.mark.parametrize("variant", ["&embed=1&theme=dark", "&theme=light"])
def test_the_notice_of_an_outdated_translation_at_phone_size(browser, site, variant):
    context = browser.new_context(viewport=VIEWPORTS["phone"])
    page = context.new_page()
    seen = watch(page, site)
    page.goto(f"{site}/docs.php?doc=what-is-identitynet&lang=en{variant}")
    notice = page.locator(".translation-notice")
    assert notice.is_visible() and "has changed since it was translated" in notice.inner_text()
    title, box = page.locator("h1").bounding_box(), notice.bounding_box()
    assert title["y"] + title["height"] <= box["y"] and box["y"] + box["height"] <= VIEWPORTS["phone"]["height"]
    assert page.get_by_text("Last reviewed 2 November 2026").count() == 0  # the English page was never reviewed
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"outdated-notice-phone{variant.replace('&', '-').replace('=', '-')}.png")
    link = notice.get_by_role("link", name="Read the Norwegian version")
    assert link.bounding_box()["height"] >= 24  # WCAG 2.5.8
    link.click()
    page.wait_for_load_state()
    assert page.url == f"{site}/docs.php?doc=what-is-identitynet&lang=nb{variant}"
    assert page.locator(".translation-notice").count() == 0
    assert page.get_by_text("Sist gjennomgått 2. november 2026").is_visible()
    assert seen["errors"] == [] and seen["foreign"] == [] and seen["dialogs"] == []
    context.close()


@pytest.mark.parametrize("theme", ["", "&theme=dark"])
def test_a_printed_page_is_dark_on_white_with_its_sources_addresses(browser, site, theme):
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    page.goto(f"{site}/docs.php?doc=what-is-ip-adapter{theme}")
    page.emulate_media(media="print", color_scheme="dark")  # a device in dark mode prints too
    text = page.evaluate("getComputedStyle(document.body).color")
    assert text == "rgb(27, 31, 36)"  # the light palette's text: a printer leaves out the dark background
    for hidden in (".site-header .search", ".breadcrumb", ".feedback", ".site-footer"):
        assert not page.locator(hidden).is_visible(), hidden
    assert page.locator("h1").is_visible() and page.locator("a.chip").first.is_visible()
    source = page.locator(".document a[href^='https://arxiv.org']").first
    after = source.evaluate("a => getComputedStyle(a, '::after').content")
    assert after == '" (https://arxiv.org/abs/2308.06721)"'  # on paper a link is its address
    ARTIFACTS.mkdir(exist_ok=True)
    page.pdf(path=ARTIFACTS / f"printed{theme.replace('&', '-').replace('=', '-')}.pdf")
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_authors_list_sorts_without_script_in_a_real_browser(browser, tmp_path, viewport):
    from werkzeug.security import generate_password_hash

    docs = tmp_path / "docs"
    shutil.copytree(PROJECT / "docs", docs)
    with_front_matter(docs / "instantid-intro.md", "owner: Team Hjelp\nreview_by: 2026-01-15\nreviewed: 2025-07-15")
    with_front_matter(docs / "what-is-identitynet.md", "owner: Kari Nordmann\nreview_by: 2027-03-01")
    with_front_matter(docs / "generative-ai-terminology.md", "owner: <b>Ola</b> =cmd\nreview_by: 2026-06-30")
    text = (docs / "what-is-ip-adapter.md").read_text(encoding="utf-8")
    (docs / "what-is-ip-adapter.md").write_text(text + "\nEn ny setning.\n", encoding="utf-8")
    users = f"forfatter:{generate_password_hash('hemmelig passord')}"
    # Readers behind one proxy: a view is a reader's first of the page that day.
    proxy = {"TRUSTED_PROXY_HOPS": "1", "PUBLIC_BASE_URL": "http://127.0.0.1"}
    with help_server(docs, INSIGHTS_USERS=users, RATELIMIT_ENABLED="false", INSIGHTS_FLUSH_SECONDS="0.2", **proxy) as (
        base,
        _,
    ):
        for slug, reads in (("instantid-intro", 3), ("what-is-ip-adapter", 5), ("avatarify-intro", 1)):
            for reader in range(reads):
                get(f"{base}/docs.php?doc={slug}", headers={"X-Forwarded-For": f"198.51.100.{reader}"})
        author = {"Authorization": "Basic " + base64.b64encode(b"forfatter:hemmelig passord").decode()}
        deadline = time.monotonic() + 20  # the workers' writers flush every 0.2 s
        while json.loads(get(f"{base}/api/insights/views", headers=author)[2])["total"] < 9:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        context = browser.new_context(
            viewport=VIEWPORTS[viewport], http_credentials={"username": "forfatter", "password": "hemmelig passord"}
        )
        page = context.new_page()
        page.add_init_script(HOOK)
        seen = watch(page, base)
        assert page.goto(f"{base}/innsikt?dager=7#forfattere").status == 200
        due = page.locator("#til-gjennomgang ~ div table").first
        assert "Team Hjelp" in due.inner_text() and "2026-01-15" in due.inner_text()
        rows = page.locator("table.authors-list tbody tr")
        assert rows.count() == 6 and "utdatert" in rows.filter(has_text="IP-Adapter").inner_text()
        assert "<b>Ola</b> =cmd" in page.locator("table.authors-list").inner_text()  # an owner is text
        page.get_by_role("link", name="Visninger", exact=True).click()
        page.wait_for_load_state()
        assert "sorter=-visninger" in page.url
        assert page.locator("th[aria-sort=descending]").inner_text() == "Visninger"
        assert rows.first.locator("td").nth(4).inner_text() == "5"
        assert page.evaluate("window.__ran") == [] and seen["dialogs"] == [] and seen["foreign"] == []
        assert seen["errors"] == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
        assert axe_violations(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#forfattere").scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / f"authors-list-{viewport}.png")
        csv_file = get(f"{base}/innsikt/sider.csv?sorter=-visninger", headers=author)[2].decode("utf-8")
        assert "'=cmd" not in csv_file and "<b>Ola</b> =cmd" in csv_file  # mid-cell after a space: no formula
        if viewport == "phone":
            (tmp_path / "innsikt.html").write_bytes(get(f"{base}/innsikt?sorter=-nei", headers=author)[2])
            assert html_errors([str(tmp_path / "innsikt.html")]) == []
        context.close()
