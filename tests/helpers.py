"""What many tests share, in one module (test modules never import each other): where things
are, writing a page, the database as the launcher leaves it and as tests read it, authors'
credentials, requests from other readers, and an independent check of HTML."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from werkzeug.security import generate_password_hash

from app.content.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from app.content.store import DocumentStore
from app.languages import LANGUAGES
from app.readers.database import upgrade_database
from app.search.engine import Search
from app.search.index import SearchIndex
from app.search.synonyms import SynonymFile

PROJECT = Path(__file__).resolve().parent.parent


FIXTURES = Path(__file__).resolve().parent / "fixtures"


SEED_PAGE = FIXTURES / "seed-what-is-ip-adapter.md"


# The shared attack corpus lives beside the project checkout (CI has it); it is read, never copied.
CORPUS = Path(os.environ.get("HELP_CORPUS_DIR", PROJECT.parent / "shared" / "corpus"))


def corpus_payloads(name: str) -> list:
    """Payloads from one corpus file as pytest params, or one param that skips with the reason."""
    path = CORPUS / name
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"attack corpus not found at {path}"))]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    return [pytest.param(row["payload"], id=f"{row['source']}#{i}") for i, row in enumerate(rows)]


def write(folder: Path, slug: str, text: str) -> Path:
    """Write a document and give it a fresh mtime so the store sees the change."""
    path = folder / f"{slug}.md"
    old_mtime_ns = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    mtime_ns = max(path.stat().st_mtime_ns, old_mtime_ns + 1_000_000)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    time.sleep(max(0.0, mtime_ns / 1e9 - time.time()))  # never leave a file dated in the future
    return path


SAME_SITE = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}


def migrated(app):
    """The app, with its database brought up to date as the launcher does."""
    upgrade_database(app)
    return app


def stored(app, table: str) -> list[dict]:
    """Every row of a table, read straight from the database."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY id")).mappings().all()
    engine.dispose()
    return [dict(row) for row in rows]


def votes(app) -> list[dict]:
    return stored(app, "feedback_votes")


def comments(app) -> list[str]:
    return [row["comment"] for row in stored(app, "feedback_comments")]


def from_address(address: str, agent: str = "Mozilla/5.0") -> dict:
    """What a test client's post needs to come from another reader."""
    return {"environ_base": {"REMOTE_ADDR": address}, "headers": {**SAME_SITE, "User-Agent": agent}}


PASSWORD = "riktig hest batteri stift"


# A cheap hash keeps the tests quick; production hashes are werkzeug's default (scrypt).
HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def basic(name: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


AUTHOR = basic("forfatter", PASSWORD)


def add_votes(app, rows: list[tuple[int, str, bool, str, str | None]]) -> None:
    """Votes (days ago, slug, helpful, reasons, comment), written straight to the database."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    today = datetime.now(UTC).date()
    with engine.begin() as connection:
        for i, (days_ago, slug, helpful, reasons, comment) in enumerate(rows):
            values = {
                "day": today - timedelta(days=days_ago),
                "reader": f"r{i}",
                "slug": slug,
                "helpful": helpful,
                "reasons": reasons,
                "comment": comment,
                "now": datetime.now(UTC) - timedelta(days=days_ago),
            }
            connection.execute(
                text(
                    "INSERT INTO feedback_votes (day, reader, slug, lang, helpful, reasons, created_at) "
                    "VALUES (:day, :reader, :slug, 'nb', :helpful, :reasons, :now)"
                ),
                values,
            )
            if comment is not None:
                connection.execute(
                    text(
                        "INSERT INTO feedback_comments (day, slug, lang, comment, created_at) "
                        "VALUES (:day, :slug, 'nb', :comment, :now)"
                    ),
                    values,
                )
    engine.dispose()


def add_counts(app, views=(), searches=(), dead_links=(), alias_hits=(), dead_contexts=()) -> None:
    """Counts as the writer leaves them: views (days ago, slug, views), searches (days ago,
    query, searches, no results, readers), dead links (days ago, slug, referrer, requests),
    alias hits (days ago, alias, page, requests), dead context keys (days ago, key,
    platform, app version, requests)."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    today = datetime.now(UTC).date()
    with engine.begin() as connection:
        for days_ago, slug, count in views:
            connection.execute(
                text("INSERT INTO insights_page_views VALUES (:day, :slug, 'nb', :views)"),
                {"day": today - timedelta(days=days_ago), "slug": slug, "views": count},
            )
        for days_ago, query, count, no_results, readers in searches:
            connection.execute(
                text(
                    "INSERT INTO insights_searches VALUES (:day, 'nb', :query, :searches, "
                    ":no_results, :results, :corrected, :readers)"
                ),
                {
                    "day": today - timedelta(days=days_ago),
                    "query": query,
                    "searches": count,
                    "no_results": no_results,
                    "results": 0 if no_results else 4,
                    "corrected": None,
                    "readers": readers,
                },
            )
        for days_ago, slug, referrer, requests in dead_links:
            connection.execute(
                text("INSERT INTO insights_dead_links VALUES (:day, :slug, :referrer, :requests, '')"),
                {"day": today - timedelta(days=days_ago), "slug": slug, "referrer": referrer, "requests": requests},
            )
        for days_ago, alias, page, requests in alias_hits:
            connection.execute(
                text("INSERT INTO insights_alias_hits VALUES (:day, :alias, :page, :requests)"),
                {"day": today - timedelta(days=days_ago), "alias": alias, "page": page, "requests": requests},
            )
        for days_ago, key, platform, version, requests in dead_contexts:
            connection.execute(
                text("INSERT INTO insights_dead_contexts VALUES (:day, :key, :platform, :version, :requests)"),
                {
                    "day": today - timedelta(days=days_ago),
                    "key": key,
                    "platform": platform,
                    "version": version,
                    "requests": requests,
                },
            )
    engine.dispose()


def table(app, sql: str) -> list[tuple]:
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(text(sql))]
    engine.dispose()
    return found


def from_reader(number: int) -> dict:
    """A request from one of several readers (different addresses)."""
    return {"environ_base": {"REMOTE_ADDR": f"192.0.2.{number}"}}


def search_over(folder):
    """A Search of the Norwegian pages in `folder` and the English ones in `folder/en`."""
    indexes = {}
    for lang, sub in (("nb", folder), ("en", folder / "en")):
        store = DocumentStore(sub)
        store.load()
        indexes[lang] = SearchIndex(store, LANGUAGES[lang].stemmer)
    return Search(indexes, SynonymFile(folder))


def slugs(search, query, lang="nb", **options):
    return [hit.page.slug for hit in search.find(query, lang, **options).hits]


# What a browser ignores inside a URL scheme: ASCII whitespace and control characters.
IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\ufeff]+")


BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:", "mocha:", "file:")


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset"}


class _Auditor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = value or ""
            if name not in ALLOWED_ATTRIBUTES.get(tag, ()) and (tag, name) not in (("i", "aria-hidden"), ("a", "rel")):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name.startswith("on") or name == "style":
                self.problems.append(f"attribute {name}")
            if name in URL_ATTRIBUTES:
                scheme_part = IGNORED_IN_SCHEME.sub("", value).lower()
                if scheme_part.startswith(BAD_SCHEMES):
                    self.problems.append(f"{name}={value!r}")
                if name == "src" and (scheme_part.startswith(("http:", "https:", "//", "/\\"))):
                    self.problems.append(f"foreign image {value!r}")

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.problems.append("comment")

    def handle_decl(self, decl):
        self.problems.append(f"declaration {decl!r}")

    def unknown_decl(self, data):
        self.problems.append(f"declaration {data!r}")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction {data!r}")


def unsafe_parts(html: str) -> list[str]:
    """Everything in `html` that could run script, restyle the page or request another host."""
    auditor = _Auditor()
    auditor.feed(html)
    auditor.close()
    return auditor.problems


# Our own hostile cases; they always run, with or without the shared corpus.
HOSTILE_MARKUP = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href=" \x01javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="javascript:123">harmless-looking</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](data:text/html,<script>alert(1)</script>)",
    "![img](javascript:alert(1))",
    "![img](https://tracker.example/pixel.png)",
    "![img](//tracker.example/pixel.png)",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name=q><button>Send</button></form>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    "<style>body{display:none}</style>",
    '<div style="position:fixed;inset:0;background:red">cover</div>',
    '<div class="skip-link site-header">borrowed layout classes</div>',
    '<p onclick="alert(1)" onmouseover=alert(1)>hover</p>',
    '<a href="x" onfocus=alert(1) autofocus>x</a>',
    '<h2 id="innhold" onclick=alert(1)>id clobbering</h2>',
    "<!--<img src=x onerror=alert(1)>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<template><script>alert(1)</script></template>",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    '<a href="https://ok.example" target="_self" rel="opener">x</a>',
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "<textarea><script>alert(1)</script></textarea>",
    "<xmp><script>alert(1)</script></xmp>",
    "\x00<script>alert(1)</script>",
]


# The one script a page may load: the suggestions while typing, from this site.
OUR_SCRIPT = '<script src="/static/js/suggest.js" defer></script>'


def scripts_other_than_ours(html: str) -> list[str]:
    """Every <script> of a page but ours (static/js/suggest.js): none may be there."""
    return [tag for tag in re.findall(r"<script[^>]*>", html, re.I) if tag + "</script>" != OUR_SCRIPT]
